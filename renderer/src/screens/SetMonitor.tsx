/**
 * The monitor of a set: its one watcher (one listener for every member), per member table the
 * state, rate and lag, and the combined change feed with a table column and a table filter.
 */
import { useEffect, type ReactNode } from 'react';
import { useApp, useS } from '../app-context';
import { ErrorBox } from '../components/States';
import { fmtCount, fmtKey, fmtMs, fmtTime } from '../lib/format';
import { FEED_MAX, RATE_SECONDS } from '../stores/monitor';
import { catchUpText, OUTCOME_TEXT, STATE_TEXT } from './MonitorScreen';

export function SetMonitor({ set, picker, tick }: { set: string; picker: ReactNode; tick: number }) {
  const app = useApp();
  const m = useS(app.monitor, (s) => s);
  const summary = useS(app.sets, (s) => s.list.find((x) => x.name === set));
  useEffect(() => {
    if (app.monitor.getState().selected !== set) void app.monitor.getState().select(set);
  }, [set, app]);
  const fm = m.flows[set];
  const st = fm?.status ?? null;
  const watching = fm?.watching ?? false;
  const state = st?.state ?? (watching ? 'connecting' : 'stopped');
  const tables = app.monitor.getState().setTables(set);
  const feed = app.monitor.getState().setFeed(set);
  void tick; // the parent re-renders every second: rates are re-read against the clock
  const now = Date.now();
  return (
    <div className="page" data-testid="monitor-screen" data-set={set} style={{ display: 'flex', flexDirection: 'column', gap: 12 }}>
      <div className="page-head" style={{ marginBottom: 0, flexWrap: 'wrap' }}>
        <h1>Monitor</h1>
        {picker}
        <span className={`state-pill ${state}`} data-testid="listener-state" data-state={state}>
          <span className="dot" /> {st ? STATE_TEXT[st.state] : watching ? 'starting' : 'not watching'}
        </span>
        {st?.stalenessMs !== undefined && <span className="muted" data-testid="staleness">target {st.stalenessMs === 0 ? 'up to date' : `${fmtMs(st.stalenessMs)} behind`}</span>}
        {st?.reason && <span className="muted" data-testid="listener-reason" title={st.reason} style={{ maxWidth: 420, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>{st.reason}</span>}
        <span className="grow" />
        {summary && <span className="muted">{summary.source.schema} → {summary.target.schema} · one listener for every table</span>}
        {watching ? (
          <button className="btn danger" onClick={() => void app.monitor.getState().stopSet(set)} disabled={m.busy} data-testid="watch-stop">Stop watching</button>
        ) : (
          <button className="btn primary" onClick={() => void app.monitor.getState().startSet(set)} disabled={m.busy} data-testid="watch-start">
            {m.busy ? <><span className="spinner" /> Starting…</> : 'Start watching the set'}
          </button>
        )}
      </div>
      {m.error && <ErrorBox message={m.error} testId="monitor-error" />}
      <section className="panel">
        <header><h2 className="grow">Tables</h2><span className="muted">rate and lag over {RATE_SECONDS} s</span></header>
        <div className="content" style={{ padding: 0 }}>
          {tables.length === 0 ? (
            <div className="empty" style={{ padding: 16 }}>{watching ? 'Waiting for the first catch-up of the members…' : 'Start watching to see each table here.'}</div>
          ) : (
            <table className="feed" data-testid="set-members">
              <thead><tr><th>table</th><th>state</th><th style={{ textAlign: 'right' }}>rate</th><th style={{ textAlign: 'right' }}>lag</th><th>changes</th></tr></thead>
              <tbody>
                {tables.map((t) => {
                  const mm = m.flows[`${set}.${t}`];
                  const r = app.monitor.getState().throughput(`${set}.${t}`, now);
                  return (
                    <tr key={t} data-table={t}>
                      <td><button className="mono" style={{ background: 'none', border: 0, padding: 0, cursor: 'pointer', color: 'inherit', textDecoration: m.tableFilter === t ? 'underline' : 'none' }} onClick={() => app.monitor.getState().setTableFilter(m.tableFilter === t ? '' : t)} title="Show only this table's changes">{t}</button></td>
                      <td><span className={`state-pill ${state}`}><span className="dot" /> {STATE_TEXT[state]}</span></td>
                      <td style={{ textAlign: 'right' }} data-rate>{r.perSecond.toFixed(1)}/s</td>
                      <td style={{ textAlign: 'right' }} data-lag>{r.avgLatencyMs !== null ? fmtMs(r.avgLatencyMs) : '—'}</td>
                      <td>{Object.entries(mm?.totals ?? {}).map(([k, n]) => <span key={k} className={`badge ${k === 'failed' ? 'danger' : k === 'applied' ? 'ok' : k === 'deleted' ? 'warn' : ''}`} style={{ marginRight: 4 }}>{k} {fmtCount(n)}</span>)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </div>
      </section>
      <section className="panel" style={{ flex: 1, minHeight: 240, display: 'flex', flexDirection: 'column' }}>
        <header>
          <h2>Change feed</h2>
          <button className="btn small" onClick={() => app.monitor.getState().setPaused(!m.paused)} data-testid="feed-pause">{m.paused ? '▶ Resume' : '❚❚ Pause'}</button>
          <select value={m.tableFilter} onChange={(e) => app.monitor.getState().setTableFilter(e.target.value)} aria-label="Table" data-testid="feed-table-filter" style={{ height: 24 }}>
            <option value="">every table</option>
            {tables.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
          <div className="seg" role="group" aria-label="Operation">
            {(['all', 'insert', 'update', 'delete', 'failed'] as const).map((o) => (
              <button key={o} aria-pressed={m.opFilter === o} onClick={() => app.monitor.getState().setOpFilter(o)} style={{ padding: '2px 8px', fontSize: 12 }}>{o}</button>
            ))}
          </div>
          <input placeholder="filter by key…" value={m.filterText} onChange={(e) => app.monitor.getState().setFilterText(e.target.value)} style={{ height: 24, width: 160 }} aria-label="Filter the feed" />
          <span className="grow" />
          <span className="faint" data-testid="feed-count">{fmtCount(feed.length)} shown (latest {FEED_MAX} per table kept)</span>
        </header>
        <div style={{ overflow: 'auto', flex: 1, minHeight: 0 }}>
          {feed.length === 0 ? (
            <div className="empty" style={{ padding: 24 }} data-testid="feed-empty">{watching ? 'Listening. Changes to any table of the set appear here as they happen.' : 'Not watching: start watching to see changes live.'}</div>
          ) : (
            <table className="feed" data-testid="feed">
              <thead><tr><th>time</th><th>table</th><th>op</th><th>key</th><th>outcome</th><th style={{ textAlign: 'right' }}>latency</th><th /></tr></thead>
              <tbody>
                {feed.slice(0, 200).map((e, i) => (
                  <tr key={`${e.time}-${i}-${e.table}-${fmtKey(e.key)}`} data-op={e.op} data-table={e.table} data-outcome={e.outcome}>
                    <td>{fmtTime(e.time)}</td>
                    <td data-table-cell>{e.table}</td>
                    <td><span className={`badge ${e.op === 'insert' ? 'ok' : e.op === 'delete' ? 'danger' : e.op === 'update' ? 'warn' : 'info'}`}>{e.op}</span></td>
                    <td data-key>{e.catchUp ? catchUpText(e.catchUp) : fmtKey(e.key)}</td>
                    <td title={OUTCOME_TEXT[e.outcome]}>{e.outcome === 'failed' ? <span className="error-text" title={e.error}>failed</span> : e.outcome}</td>
                    <td style={{ textAlign: 'right' }}>{fmtMs(e.latencyMs)}</td>
                    <td className="error-text" style={{ fontFamily: 'var(--sans)' }}>{e.error ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </section>
    </div>
  );
}
