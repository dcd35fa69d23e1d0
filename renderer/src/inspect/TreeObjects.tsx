/**
 * The explorer tree's other objects. Under a schema: its sequences and functions, each marked as
 * not usable as a source with the reason on hover. Below the schemas: the other databases of the
 * server; opening one saves (once) a connection to it with the same credentials and switches to it.
 */
import { useEffect } from 'react';
import { useApp, useS } from '../app-context';
import { errorMessage } from '../api/client';
import { fmtBytes } from '../lib/bytes';

export function SchemaObjectsNodes({ schema, filter }: { schema: string; filter: string }) {
  const app = useApp();
  const o = useS(app.objects, (s) => s);
  const node = o.schemas[schema];
  const groups = [
    { key: 'sequences', label: 'Sequences', items: (node?.data?.sequences ?? []).map((x) => ({ name: x.name, detail: x.dataType, title: `${x.dataType}${x.ownedBy ? `, owned by ${x.ownedBy}` : ''}\nNot usable as a source: ${x.unusableAsSource}` })) },
    { key: 'functions', label: 'Functions', items: (node?.data?.functions ?? []).map((x) => ({ name: `${x.name}(${x.arguments})`, detail: x.kind === 'function' ? x.returns : x.kind, title: `${x.kind} ${x.name}(${x.arguments})${x.returns ? ` returns ${x.returns}` : ''}, ${x.language}\nNot usable as a source: ${x.unusableAsSource}` })) },
  ];
  return (
    <>
      {groups.map((g) => {
        const open = !!o.open[`${schema}\u0000${g.key}`];
        const items = g.items.filter((i) => !filter || i.name.toLowerCase().includes(filter));
        return (
          <div key={g.key} data-testid={`tree-${g.key}`}>
            <button className="tree-item" role="treeitem" aria-expanded={open} style={{ ['--depth' as string]: 1 }} onClick={() => void app.objects.getState().toggle(g.key, schema)}>
              <span className="caret">{open ? '▾' : '▸'}</span>
              <span className="name faint">{g.label}</span>
              {node?.data && <span className="est">{items.length}</span>}
            </button>
            {open && node?.loading && !node.data && <div className="tree-item faint" style={{ ['--depth' as string]: 2 }}><span className="spinner" /> Loading…</div>}
            {open && node?.error && <div className="error-text" style={{ padding: '2px 36px' }}>{node.error}</div>}
            {open && node?.data && items.length === 0 && <div className="faint" style={{ padding: '2px 36px' }}>None.</div>}
            {open && items.map((i) => (
              <div key={i.name} className="tree-item unusable" role="treeitem" style={{ ['--depth' as string]: 2, cursor: 'default' }} title={i.title} data-object={`${schema}.${i.name}`}>
                <span className="name mono">{i.name}</span>
                <span className="nosrc-badge" aria-label="not usable as a source">not a source</span>
              </div>
            ))}
          </div>
        );
      })}
    </>
  );
}

export function DatabasesNode() {
  const app = useApp();
  const cid = useS(app.catalog, (s) => s.connectionId);
  const open = useS(app.objects, (s) => !!s.open['databases']);
  const dbs = useS(app.objects, (s) => s.databases);
  useEffect(() => app.objects.getState().reset(cid), [app, cid]);
  const openDb = async (name: string) => {
    try {
      const id = await app.objects.getState().connectionFor(name);
      await app.connections.getState().load();
      app.connections.getState().select(id);
      app.ui.getState().toast('info', `Opened database ${name}`);
    } catch (e) {
      app.ui.getState().toast('error', errorMessage(e));
    }
  };
  return (
    <div data-testid="tree-databases">
      <button className="tree-item" role="treeitem" aria-expanded={open} onClick={() => void app.objects.getState().toggle('databases')}>
        <span className="caret">{open ? '▾' : '▸'}</span>
        <span className="name" style={{ fontWeight: 600 }}>Databases on this server</span>
        {dbs.data && <span className="est">{dbs.data.length}</span>}
      </button>
      {open && dbs.loading && !dbs.data && <div className="tree-item faint" style={{ ['--depth' as string]: 1 }}><span className="spinner" /> Loading…</div>}
      {open && dbs.error && <div className="error-text" style={{ padding: '2px 26px' }}>{dbs.error}</div>}
      {open && dbs.data?.map((d) => (
        <button
          key={d.name}
          className="tree-item"
          role="treeitem"
          aria-selected={d.current}
          style={{ ['--depth' as string]: 1 }}
          disabled={d.current || !d.canConnect}
          title={d.current ? 'the database this connection is on' : d.canConnect ? `Open ${d.name} (saves a connection with the same server and credentials)` : 'you have no CONNECT privilege on it'}
          onClick={() => void openDb(d.name)}
          data-database={d.name}
        >
          <span className="db-icon" />
          <span className="name">{d.name}</span>
          {d.current && <span className="badge accent">open</span>}
          <span className="est">{fmtBytes(d.sizeBytes)}</span>
        </button>
      ))}
    </div>
  );
}
