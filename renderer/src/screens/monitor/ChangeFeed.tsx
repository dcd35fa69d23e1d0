/**
 * The monitor's change feed, one component for a flow's monitor and a set's: the panel with pause,
 * the operation and key filters, the count, and the table of changes (time, op, key, outcome,
 * latency, error). A set's feed has a table column and a table filter (`tables`). Also the words
 * both monitors use for listener states, outcomes and catch-ups, and the per-outcome badges.
 */
import { useApp, useS } from '../../app-context';
import type { ChangeEvent, ListenerStatus } from '../../api/types';
import { fmtCount, fmtKey, fmtMs, fmtTime } from '../../lib/format';

export const STATE_TEXT: Record<ListenerStatus['state'], string> = {
  stopped: 'stopped',
  connecting: 'connecting',
  'catching-up': 'catching up',
  live: 'live',
  reconnecting: 'reconnecting',
  failed: 'failed',
};

/** What each outcome means, for a first-time reader of the feed (the cell's tooltip). */
const OUTCOME_TEXT: Record<ChangeEvent['outcome'], string> = {
  applied: 'written to the target',
  deleted: 'removed from the target: the row left the source',
  'filtered-out': 'the row does not match the flow’s filter, so the target does not hold it',
  skipped: 'nothing to write: the target already held the row as it is',
  failed: 'not written: see the error',
};

/** "12 rows in 340 ms (window, 57 read)" / "… (full scan: no ordinal column …)". */
export function catchUpText(c: NonNullable<ChangeEvent['catchUp']>): string {
  const how = c.mode === 'window' ? `window, ${fmtCount(c.scanned ?? 0)} read` : c.mode === 'slot' ? 'from the replication slot' : `full scan${c.reason ? `: ${c.reason}` : ''}`;
  return `${fmtCount(c.rows)} row${c.rows === 1 ? '' : 's'} in ${fmtMs(c.durationMs)} (${how})`;
}

/** Counts per outcome (applied 12, deleted 3, failed 1). */
export function TotalsBadges({ totals }: { totals: Record<string, number> | undefined }) {
  return (
    <>
      {Object.entries(totals ?? {}).map(([k, n]) => (
        <span key={k} className={`badge ${k === 'failed' ? 'danger' : k === 'applied' ? 'ok' : k === 'deleted' ? 'warn' : ''}`} style={{ marginRight: 4 }}>{k} {fmtCount(n)}</span>
      ))}
    </>
  );
}

const OP_BADGE: Record<string, string> = { insert: 'ok', delete: 'danger', update: 'warn' };

interface ChangeFeedProps {
  /** The events shown (already filtered by the store), newest first; a set's carry their member table. */
  feed: Array<ChangeEvent & { table?: string }>;
  watching: boolean;
  /** What the empty feed says while watching. */
  listeningText: string;
  /** The count line ("12 shown of 40 (latest 1000 kept)"). */
  countText: string;
  /** Changes held while paused (the Resume button says how many). */
  held?: number;
  /** A set's member tables: adds the table column and the table filter. */
  tables?: string[];
}

export function ChangeFeed({ feed, watching, listeningText, countText, held, tables }: ChangeFeedProps) {
  const app = useApp();
  const m = useS(app.monitor, (s) => s);
  const mon = app.monitor.getState();
  const byTable = tables !== undefined;
  return (
    <section className="panel" style={{ flex: 1, minHeight: 240, display: 'flex', flexDirection: 'column' }}>
      <header>
        <h2>Change feed</h2>
        <button className="btn small" onClick={() => mon.setPaused(!m.paused)} data-testid="feed-pause">
          {m.paused ? `▶ Resume${held ? ` (${held} new)` : ''}` : '❚❚ Pause'}
        </button>
        {byTable && (
          <select value={m.tableFilter} onChange={(e) => mon.setTableFilter(e.target.value)} aria-label="Table" data-testid="feed-table-filter" style={{ height: 24 }}>
            <option value="">every table</option>
            {tables.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        )}
        <div className="seg" role="group" aria-label="Operation">
          {(['all', 'insert', 'update', 'delete', 'failed'] as const).map((o) => (
            <button key={o} aria-pressed={m.opFilter === o} onClick={() => mon.setOpFilter(o)} style={{ padding: '2px 8px', fontSize: 12 }}>{o}</button>
          ))}
        </div>
        <input placeholder="filter by key…" value={m.filterText} onChange={(e) => mon.setFilterText(e.target.value)} style={{ height: 24, width: 160 }} aria-label="Filter the feed" />
        <span className="grow" />
        <span className="faint" data-testid="feed-count">{countText}</span>
      </header>
      <div style={{ overflow: 'auto', flex: 1, minHeight: 0 }}>
        {feed.length === 0 ? (
          <div className="empty" style={{ padding: 24 }} data-testid="feed-empty">{watching ? listeningText : 'Not watching: start watching to see changes live.'}</div>
        ) : (
          <table className="feed" data-testid="feed">
            <thead>
              <tr><th>time</th>{byTable && <th>table</th>}<th>op</th><th>key</th><th>outcome</th><th style={{ textAlign: 'right' }}>latency</th><th /></tr>
            </thead>
            <tbody>
              {feed.slice(0, 200).map((e, i) => (
                <tr key={`${e.time}-${i}-${e.table ?? ''}-${fmtKey(e.key)}`} data-op={e.op} data-outcome={e.outcome} {...(byTable ? { 'data-table': e.table } : {})}>
                  <td>{fmtTime(e.time)}</td>
                  {byTable && <td data-table-cell>{e.table}</td>}
                  <td><span className={`badge ${OP_BADGE[e.op] ?? 'info'}`}>{e.op}</span></td>
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
  );
}

