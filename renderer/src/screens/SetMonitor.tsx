/**
 * The monitor of a set: its one watcher (one listener for every member), per member table the
 * state, rate and lag, and the combined change feed with a table column and a table filter.
 */
import { useEffect, type ReactNode } from 'react';
import { useApp, useS } from '../app-context';
import { ErrorBox } from '../components/States';
import { fmtCount, fmtMs } from '../lib/format';
import { FEED_MAX, RATE_SECONDS } from '../stores/monitor';
import { ChangeFeed, STATE_TEXT, TotalsBadges } from './monitor/ChangeFeed';

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
                      <td><TotalsBadges totals={mm?.totals} /></td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </div>
      </section>
      <ChangeFeed
        feed={feed}
        tables={tables}
        watching={watching}
        listeningText="Listening. Changes to any table of the set appear here as they happen."
        countText={`${fmtCount(feed.length)} shown (latest ${FEED_MAX} per table kept)`}
      />
    </div>
  );
}
