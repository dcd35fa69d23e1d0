/** Saved connections: add (URL or fields, sslmode), test (version, pgvector), edit, remove; the demo. */
import { useState } from 'react';
import { useApp, useS } from '../app-context';
import { errorMessage } from '../api/client';
import type { ConnectionDraft, ConnectionTestResult, SavedConnection } from '../api/types';
import { Modal } from '../components/Modal';
import { SSL_MODES, type SslMode } from '../../../core/api/names';
import { Empty, ErrorBox } from '../components/States';

type Ssl = SslMode;

export function ConnectionsScreen() {
  const app = useApp();
  const s = useS(app.connections, (x) => x);
  const [editing, setEditing] = useState<SavedConnection | 'new' | null>(null);

  const open = (c: SavedConnection) => {
    app.connections.getState().select(c.id);
    app.ui.getState().go({ name: 'table' });
  };

  return (
    <div className="page" data-testid="connections-screen">
      <div className="page-head">
        <h1 className="grow">Connections</h1>
        <button className="btn primary" onClick={() => setEditing('new')} data-testid="add-connection">
          + Add connection
        </button>
      </div>
      {s.error && <ErrorBox message={s.error} />}
      {s.app?.secretStorage.warning && (
        <div className="alert warn" style={{ marginBottom: 12 }}>
          {s.app.secretStorage.warning}
        </div>
      )}
      {s.loaded && s.list.length === 0 && (
        <div className="panel" style={{ marginBottom: 14 }}>
          <Empty title="No connections yet" testId="connections-empty">
            <div>Add your PostgreSQL database, or start the built-in demo: a real PostgreSQL with products, customers and orders, and a pgvector target.</div>
            <div className="row" style={{ marginTop: 8 }}>
              <button
                className="btn primary"
                onClick={() =>
                  void app.connections.getState().startDemo().then(() => {
                    if (!app.connections.getState().demoError) app.ui.getState().go({ name: 'table' });
                  })
                }
                disabled={s.demo?.state === 'starting'}
              >
                {s.demo?.state === 'starting' ? <><span className="spinner" /> Starting the demo…</> : 'Start the demo'}
              </button>
              <button className="btn" onClick={() => setEditing('new')}>
                Add a connection
              </button>
            </div>
            {s.demo?.state === 'starting' && <div className="faint">The first start creates and seeds the databases: about a minute. They persist for next time.</div>}
            {s.demoError && <ErrorBox message={s.demoError} />}
          </Empty>
        </div>
      )}
      <div className="conn-grid" data-testid="connection-list">
        {s.list.map((c) => {
          const t = s.tests[c.id];
          return (
            <div key={c.id} className={`conn-card${c.id === s.activeId ? ' active' : ''}`} data-connection={c.name}>
              <div className="row">
                <strong className="grow" style={{ overflow: 'hidden', textOverflow: 'ellipsis' }}>{c.name}</strong>
                {c.demo && <span className="badge info">demo</span>}
                <span className="badge">{c.sslmode}</span>
              </div>
              <div className="url" title="The password is never shown">
                {c.user}@{c.host}:{c.port}/{c.database}
                {c.hasPassword ? '  · password saved' : ''}
              </div>
              <TestLine test={t} />
              <div className="row">
                <button className="btn small primary" onClick={() => open(c)}>
                  Open
                </button>
                <button className="btn small" onClick={() => void app.connections.getState().test({ id: c.id })} disabled={t?.running}>
                  Test
                </button>
                <button className="btn small" onClick={() => setEditing(c)}>
                  Edit
                </button>
                <span className="grow" />
                <button
                  className="btn small ghost"
                  style={{ color: 'var(--danger)' }}
                  onClick={async () => {
                    if (!confirm(`Remove the connection “${c.name}”? Flows that use it will stop working until it is added again.`)) return;
                    try {
                      await app.connections.getState().remove(c.id);
                    } catch (e) {
                      app.ui.getState().toast('error', errorMessage(e));
                    }
                  }}
                >
                  Remove
                </button>
              </div>
            </div>
          );
        })}
      </div>
      {s.list.length > 0 && s.demo && s.demo.state !== 'running' && !s.list.some((c) => c.demo) && (
        <p className="faint" style={{ marginTop: 16 }}>
          Want sample data? <button className="btn small" onClick={() => void app.connections.getState().startDemo()}>Start the demo databases</button>
        </p>
      )}
      {editing && (
        <ConnectionDialog
          initial={editing === 'new' ? null : editing}
          onClose={() => {
            app.connections.getState().clearDraftTest();
            setEditing(null);
          }}
        />
      )}
    </div>
  );
}

function TestLine({ test }: { test?: { running: boolean; result?: ConnectionTestResult } }) {
  if (!test) return <div className="faint" style={{ fontSize: 12 }}>Not tested yet.</div>;
  if (test.running) return <div className="row muted" style={{ fontSize: 12 }}><span className="spinner" /> Testing…</div>;
  const r = test.result!;
  if (!r.ok) return <div className="error-text" data-testid="test-result" role="alert">✕ {r.error?.message ?? 'Could not connect.'}</div>;
  return (
    <div className="row wrap" style={{ fontSize: 12 }} data-testid="test-result">
      <span className="badge ok">✓ connected</span>
      <span>PostgreSQL {r.serverVersion}</span>
      {r.latencyMs !== undefined && <span className="faint">{Math.round(r.latencyMs)} ms</span>}
      {r.pgvector === 'installed' && <span className="badge info">pgvector installed</span>}
      {r.pgvector === 'available' && <span className="badge accent">pgvector available</span>}
      {r.pgvector === 'missing' && <span className="badge warn" title="Vector columns and indexes need pgvector on the target">no pgvector</span>}
    </div>
  );
}

interface FieldsState { host: string; port: string; database: string; user: string; password: string; sslmode: Ssl }

function ConnectionDialog({ initial, onClose }: { initial: SavedConnection | null; onClose(): void }) {
  const app = useApp();
  const test = useS(app.connections, (s) => s.tests['draft']);
  const [mode, setMode] = useState<'url' | 'fields'>(initial ? 'fields' : 'url');
  const [name, setName] = useState(initial?.name ?? '');
  const [url, setUrl] = useState('');
  const [f, setF] = useState<FieldsState>({
    host: initial?.host ?? 'localhost',
    port: String(initial?.port ?? 5432),
    database: initial?.database ?? 'postgres',
    user: initial?.user ?? 'postgres',
    password: '',
    sslmode: (initial?.sslmode as Ssl) ?? 'prefer',
  });
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const draft = (): ConnectionDraft | null => {
    if (mode === 'url') {
      if (!url.trim()) return null;
      return { url: url.trim() };
    }
    const port = Number(f.port);
    if (!f.host.trim() || !f.database.trim() || !f.user.trim() || !Number.isInteger(port)) return null;
    return { host: f.host.trim(), port, database: f.database.trim(), user: f.user.trim(), sslmode: f.sslmode, ...(f.password ? { password: f.password } : {}) };
  };
  const d = draft();
  const defaultName = (() => {
    if (mode === 'fields') return f.database ? `${f.database}@${f.host}` : '';
    try {
      const u = new URL(url.trim());
      return `${decodeURIComponent(u.pathname.slice(1)) || 'postgres'}@${u.hostname}`;
    } catch {
      return '';
    }
  })();

  const save = async () => {
    if (!d) return;
    setSaving(true);
    setError(null);
    try {
      const c = await app.connections.getState().save({ ...(initial ? { id: initial.id } : {}), name: name.trim() || defaultName || 'connection', connection: d });
      app.connections.getState().select(c.id);
      onClose();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setSaving(false);
    }
  };

  const set = (k: keyof FieldsState) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });

  return (
    <Modal
      title={initial ? `Edit “${initial.name}”` : 'Add a connection'}
      onClose={onClose}
      footer={
        <>
          <button className="btn" onClick={() => d && void app.connections.getState().test({ connection: d, ...(initial ? { id: initial.id } : {}) }, 'draft')} disabled={!d || test?.running} data-testid="test-connection">
            Test
          </button>
          <span className="grow" />
          <button className="btn" onClick={onClose}>
            Cancel
          </button>
          <button className="btn primary" onClick={() => void save()} disabled={!d || saving} data-testid="save-connection">
            {saving ? 'Saving…' : 'Save'}
          </button>
        </>
      }
    >
      <div className="row">
        <div className="seg" role="group" aria-label="Enter as">
          <button aria-pressed={mode === 'url'} onClick={() => setMode('url')}>
            URL
          </button>
          <button aria-pressed={mode === 'fields'} onClick={() => setMode('fields')}>
            Fields
          </button>
        </div>
      </div>
      <label className="field">
        <span>Name</span>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder={defaultName || 'e.g. production replica'} aria-label="Connection name" />
      </label>
      {mode === 'url' ? (
        <label className="field">
          <span>
            URL <span className="hint">— postgres://user:password@host:5432/database?sslmode=require</span>
          </span>
          <input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="postgres://…" aria-label="Connection URL" spellCheck={false} className="mono" />
          <span className="hint">The password in the URL goes to the secret store and is never shown again.</span>
        </label>
      ) : (
        <>
          <div className="grid3" style={{ gridTemplateColumns: '2fr 1fr' }}>
            <label className="field">
              <span>Host</span>
              <input value={f.host} onChange={set('host')} aria-label="Host" />
            </label>
            <label className="field">
              <span>Port</span>
              <input value={f.port} onChange={set('port')} aria-label="Port" inputMode="numeric" aria-invalid={!Number.isInteger(Number(f.port))} />
            </label>
          </div>
          <div className="grid2">
            <label className="field">
              <span>Database</span>
              <input value={f.database} onChange={set('database')} aria-label="Database" />
            </label>
            <label className="field">
              <span>User</span>
              <input value={f.user} onChange={set('user')} aria-label="User" />
            </label>
            <label className="field">
              <span>Password {initial?.hasPassword && <span className="hint">— leave empty to keep the saved one</span>}</span>
              <input type="password" value={f.password} onChange={set('password')} aria-label="Password" autoComplete="off" />
            </label>
            <label className="field">
              <span>SSL mode</span>
              <select value={f.sslmode} onChange={(e) => setF({ ...f, sslmode: e.target.value as Ssl })} aria-label="SSL mode">
                {SSL_MODES.map((m) => (
                  <option key={m}>{m}</option>
                ))}
              </select>
            </label>
          </div>
        </>
      )}
      <TestLine test={test} />
      {error && <ErrorBox message={error} />}
    </Modal>
  );
}
