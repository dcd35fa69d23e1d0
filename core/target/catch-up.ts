/**
 * The catch-up a live watch runs after every (re)connect, in proportion to what changed where it
 * can be (DESIGN §3 Live, issue 12).
 *
 * With an ordinal column (and the flow applied, nothing pending): the "window" catch-up.
 * - The window starts a bounded distance (ORDINAL_WINDOW: 5 minutes for timestamps, 10,000 for
 *   integers) below its anchor, so a transaction that took its ordinal before others but committed
 *   after them (a late commit) is still looked at. The anchor is the ANCHOR_RANK-th highest tracked
 *   ordinal, not the highest (a few outliers far above the rest must not lift the window above the
 *   changes made since: an UPDATE below the window keeps the counts equal, and would be lost), and,
 *   for timestamptz, no later than the source's clock the watch recorded (`anchor.clockMs`). A flow
 *   whose ordinal was seen not to order the changes (`anchor.notMonotone`) gets the full scan.
 * - The source sends only the window's rows (key, ordinal, filter verdict) and, in the same
 *   snapshot, the count of the filter's rows below the window.
 * - Per key, as everywhere: a window row whose ordinal differs from the tracked one, a tracked row
 *   in the window that is no longer there, and a row that stopped passing the filter are synced by
 *   key (re-read through the filter, one target transaction per batch, as live batches are).
 * - Deletes below the window leave no trace in a window: the count decides. When the tracking
 *   table holds as many rows below the window as the source has, no old row was deleted or left the
 *   filter, and the catch-up is done; otherwise (or when a late commit landed below the window, or
 *   more than WINDOW_ROW_LIMIT rows are in the window) it runs the full incremental scan, and says why.
 * The count is computed by the source server (one aggregate; an index on the ordinal column makes
 * both the window and the count cheap), and nothing but the window crosses the wire.
 *
 * Without an ordinal there is nothing that orders changes, so a change can only be found by
 * comparing each row's fingerprint: the catch-up is the full incremental scan (it does skip the key
 * scan entirely when the source's and the tracking's summaries match). The result says so, and the
 * monitor shows it (`mode: 'full'`, with the reason).
 */
import type pg from 'pg';
import type { CatchUpInfo } from '../api/model';
import { TableSyncError } from '../errors';
import { quoteIdent } from '../sql/ident';
import { trackingOrdinalIndexName } from '../state/store';
import { applyOn, type ApplyOptions } from './apply';
import { prepareKeySync, type KeySync, type KeyOutcome } from './key-batch';
import type { Prepared } from './prepare';
import { tuneTransaction } from './rows';
import type { Row } from './row-source';
import type { SyncJob } from './job';

/** How far below the window's anchor the window starts (see the file comment). */
export const ORDINAL_WINDOW = { timestamp: "interval '5 minutes'", integer: '10000' } as const;
/**
 * The window is anchored at the ANCHOR_RANK-th highest tracked ordinal, not the highest: fewer
 * outliers than that (a version set to 10^9 by hand, a row dated in the future, the few hot rows of
 * a per-row version counter) cannot lift the window above the changes of ordinary rows. It widens
 * the window by the span of the newest ANCHOR_RANK tracked ordinals (about that many rows on an
 * ordinary table).
 */
export const ANCHOR_RANK = 64;
/** More rows than this in the window: the full scan is the cheaper way. */
export const WINDOW_ROW_LIMIT = 100_000;
/**
 * Keys per target transaction (one source re-read and one statement each): the changes of a
 * disconnection are usually a few thousand keys, which then go in one round trip each way, as a
 * logical stream's coalesced batches do.
 */
const BATCH = 5_000;

export interface CatchUpResult extends CatchUpInfo {
  committedAt: number;
  /** The window's lower bound (ordinal text) when one was computed: a later change below it shows the ordinal is no change clock (see CatchUpOptions.anchor). */
  windowFrom?: string;
}

export interface CatchUpOptions {
  signal?: AbortSignal;
  /** The cycle's batch applier (prepared on the lock's connection); built here when absent. */
  keySync?: () => Promise<KeySync>;
  /**
   * Create the index on the tracking table's ordinal when it is missing (see ensureOrdinalIndex).
   * The trigger-mode watch asks for it: it runs a window catch-up on every reconnect. A logical
   * watch does not: it catches up from its slot, and the index would only cost its every write.
   */
  ordinalIndex?: boolean;
  /**
   * All of it in ONE target transaction (the full incremental scan, never the window, whose keys
   * go in batches of their own), and why (the result's reason): a rescan a live watch was asked
   * for (a truncate, keys dropped over its memory bound) must apply its source transactions whole.
   * `before` runs first in that transaction (the rescan's batch of notified keys: see ApplyOptions.before).
   */
  /**
   * What the live watch recorded (core/live/index.ts): `clockMs`, the source's clock (epoch ms) at a
   * moment when every change committed before it had been applied (timestamptz ordinals only: the
   * window then starts at or below it, however many rows are dated in the future); `notMonotone`,
   * why a window cannot be sound for this flow (a change was seen live with an ordinal below the
   * window its catch-up had used): the catch-up is the full scan, with that reason.
   */
  anchor?: { clockMs?: number; notMonotone?: string };
  oneTransaction?: {
    reason: string;
    before?: ApplyOptions['before'];
    /**
     * Also compare the rows' values (apply --repair's check), not only what tracking knows (the
     * ordinal): for a rescan that stands in for changes whose values were not applied (a logical
     * stream's transaction too large to hold), where an UPDATE that left the ordinal alone
     * would otherwise be missed.
     */
    compareValues?: boolean;
  };
}

function windowOffset(ordinalType: string): string {
  return /^timestamp/i.test(ordinalType) ? ORDINAL_WINDOW.timestamp : ORDINAL_WINDOW.integer;
}

/** Why the window catch-up cannot run for this flow now, or undefined when it can. */
function windowRefusal(job: SyncJob, p: Prepared | undefined): string | undefined {
  if (job.source.mode !== 'ordinal' || !job.source.windowScan) return 'no ordinal column: every row\'s fingerprint is compared (the source and tracking summaries first)';
  if (!p) return 'the flow needs an apply first';
  if (!p.comparable) return 'the tracked ordinals are not comparable with the source\'s (the flow changed)';
  if (p.keyColumns.some((k) => k.type !== k.sourceType || k.stagingType !== k.type)) return 'a key column\'s type is overridden';
  return undefined;
}

/**
 * The index on the tracking table's ordinal column, created on the first window catch-up of a trigger-mode watch
 * (an apply creates the tracking table without it; a full reload recreates the table, and the next
 * watch creates it again). With it the window's anchor (the ANCHOR_RANK-th highest tracked ordinal) and the tracked rows in the window
 * are read by index range instead of two scans of the whole tracking table. It is ours (the state
 * schema's table), built once in proportion to the table (about as long as the tracking table's
 * primary key build) and kept up by every later write of the tracking table. Best effort: without
 * it the catch-up is as correct, only slower; a cancel (stop, lost listener) still cancels.
 */
async function ensureOrdinalIndex(client: pg.ClientBase, job: SyncJob, p: Prepared, signal: AbortSignal | undefined): Promise<void> {
  // Any index that leads with the ordinal column will do (values come back as text: count rows).
  const { rows } = await client.query({
    text: `SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = $1::regclass AND a.attname = $2 LIMIT 1`,
    values: [p.trackingSql, p.names.trackOrdinal],
  });
  if (rows.length > 0) return;
  try {
    await client.query(`CREATE INDEX IF NOT EXISTS ${quoteIdent(trackingOrdinalIndexName(job.flowName))} ON ${p.trackingSql} (${quoteIdent(p.names.trackOrdinal)})`);
  } catch (e) {
    if (signal?.aborted) throw new TableSyncError('CANCELLED', 'catch-up cancelled');
    void e; // e.g. out of disk or a lock timeout: the scans below still give the right answer
  }
}

/** The batch applier, or undefined when the flow needs an apply first (PLAN_STALE); other errors are thrown. */
export async function unlessStale(keySync: Promise<KeySync>): Promise<KeySync | undefined> {
  try {
    return await keySync;
  } catch (e) {
    if (e instanceof TableSyncError && e.code === 'PLAN_STALE') return undefined;
    throw e;
  }
}

function countOutcomes(outcomes: KeyOutcome[], tracked: boolean[]): number {
  return outcomes.filter((o, i) => o === 'applied' || o === 'deleted' || (o === 'filtered-out' && tracked[i])).length;
}

/**
 * Catch up `job` on `client` (which holds the flow lock): the window catch-up when it applies,
 * else the full incremental scan (a safe-only apply). Never destructive.
 */
export async function catchUpOn(client: pg.ClientBase, job: SyncJob, opts: CatchUpOptions = {}): Promise<CatchUpResult> {
  const started = performance.now();
  const full = async (reason: string, before?: ApplyOptions['before'], compareValues = false): Promise<CatchUpResult> => {
    const r = await applyOn(client, job, { safeOnly: true, ...(opts.signal ? { signal: opts.signal } : {}), ...(before ? { before } : {}), ...(compareValues ? { repair: true } : {}) });
    const committedAt = performance.timeOrigin + performance.now();
    return { mode: 'full', reason, rows: r.rows.insert + r.rows.update + r.rows.delete, scanned: null, durationMs: Math.round(performance.now() - started), committedAt };
  };
  if (opts.oneTransaction) return full(opts.oneTransaction.reason, opts.oneTransaction.before, opts.oneTransaction.compareValues);
  const keySync = (opts.keySync ? await unlessStale(opts.keySync()) : undefined) ?? await unlessStale(prepareKeySync(client, job));
  const refusal = windowRefusal(job, keySync?.prepared);
  if (refusal || !keySync) return full(refusal ?? 'the flow needs an apply first');
  const p = keySync.prepared;
  const checkAbort = () => {
    if (opts.signal?.aborted) throw new TableSyncError('CANCELLED', 'catch-up cancelled');
  };
  checkAbort();
  if (opts.ordinalIndex) {
    await ensureOrdinalIndex(client, job, p, opts.signal);
    checkAbort();
  }
  const ordType = p.newSetup.tracking.ordinalType ?? job.source.ordinalType ?? 'text';
  const tOrd = `t.${quoteIdent(p.names.trackOrdinal)}`;
  const keyCols = p.keyColumns.map((k) => `t.${quoteIdent(k.name)}::text`).join(', ');

  // The window's lower bound and the tracked rows inside it, in the source's text settings.
  await client.query('BEGIN');
  let from: string | null;
  let trackedIn: Map<string, string | null>;
  try {
    await tuneTransaction(client);
    // The anchor: the ANCHOR_RANK-th highest tracked ordinal (the lowest with fewer rows tracked), by
    // the ordinal index; for timestamptz no later than the recorded source clock.
    const clock = opts.anchor?.clockMs !== undefined && /^timestamp with time zone$/i.test(ordType);
    const kth = `coalesce((SELECT ${tOrd} FROM ${p.trackingSql} t WHERE ${tOrd} IS NOT NULL ORDER BY ${tOrd} DESC OFFSET ${ANCHOR_RANK - 1} LIMIT 1), (SELECT min(${tOrd}) FROM ${p.trackingSql} t))`;
    const anchor = clock ? `least(${kth}, to_timestamp($1::float8 / 1000))` : kth;
    from = ((await client.query<{ lo: string | null }>({ text: `SELECT (${anchor} - ${windowOffset(ordType)})::${ordType}::text AS lo`, values: clock ? [opts.anchor!.clockMs! - 1] : [] })).rows[0]?.lo) ?? null;
    trackedIn = new Map();
    if (from !== null) {
      const { rows } = await client.query<(string | null)[]>({ text: `SELECT ${keyCols}, ${tOrd}::text FROM ${p.trackingSql} t WHERE ${tOrd} IS NULL OR ${tOrd} >= $1::${ordType}`, values: [from], rowMode: 'array' });
      const nk = p.keyColumns.length;
      for (const r of rows) trackedIn.set(JSON.stringify(r.slice(0, nk)), r[nk] ?? null);
    }
  } finally {
    await client.query('COMMIT').catch(() => {});
  }
  if (from === null) return full('nothing tracked yet');
  // (the window's bound is still reported: the watch checks the rows inserted live against it)
  if (opts.anchor?.notMonotone) return { ...(await full(opts.anchor.notMonotone)), windowFrom: from };
  checkAbort();

  const win = await job.source.windowScan!(from, WINDOW_ROW_LIMIT, opts.signal ? { signal: opts.signal } : {});
  const withFrom = (r: CatchUpResult): CatchUpResult => ({ ...r, windowFrom: from! });
  if (win.truncated) return withFrom(await full(`more than ${WINDOW_ROW_LIMIT} rows changed since the last sync`));
  if (win.ahead) return withFrom(await full(`the window's anchor (the ${ANCHOR_RANK}th highest tracked ordinal) is ahead of the source's clock (rows dated in the future): the changes since the last sync would fall below the window`));

  // Per key: what the window says against what is tracked.
  const toSync: Row[] = [];
  const wasTracked: boolean[] = [];
  const seen = new Set<string>();
  const maybeTracked: Row[] = [];
  for (const w of win.rows) {
    const id = JSON.stringify(w.key);
    seen.add(id);
    const inWindow = trackedIn.has(id);
    if (w.passes) {
      if (inWindow && trackedIn.get(id) === w.ordinal && w.ordinal !== null) continue;
      toSync.push(w.key);
      wasTracked.push(inWindow);
    } else if (inWindow) {
      toSync.push(w.key);
      wasTracked.push(true);
    } else {
      maybeTracked.push(w.key); // left the filter, its ordinal moved into the window: tracked below it?
    }
  }
  for (const [id] of trackedIn) {
    if (!seen.has(id)) {
      toSync.push(JSON.parse(id) as Row);
      wasTracked.push(true);
    }
  }
  if (maybeTracked.length) {
    const nk = p.keyColumns.length;
    const params = p.keyColumns.map((_, i) => maybeTracked.map((k) => k[i] ?? null));
    const on = p.keyColumns.map((k, i) => `t.${quoteIdent(k.name)} = u.k${i}::${k.type}`).join(' AND ');
    const { rows } = await client.query<(string | null)[]>({
      text: `SELECT ${keyCols} FROM ${p.trackingSql} t JOIN unnest(${p.keyColumns.map((_, i) => `$${i + 1}::text[]`).join(', ')}) AS u(${p.keyColumns.map((_, i) => `k${i}`).join(', ')}) ON ${on}`,
      values: params,
      rowMode: 'array',
    });
    for (const r of rows) {
      toSync.push(r.slice(0, nk));
      wasTracked.push(true);
    }
  }

  let rows = 0;
  for (let i = 0; i < toSync.length; i += BATCH) {
    checkAbort();
    const outcomes = await keySync.run(toSync.slice(i, i + BATCH));
    rows += countOutcomes(outcomes, wasTracked.slice(i, i + BATCH));
  }

  checkAbort();
  // Below the window: the tracked count must equal the source's (see the file comment).
  const older = Number((await client.query<{ n: string }>({ text: `SELECT count(*) AS n FROM ${p.trackingSql} t WHERE ${tOrd} < $1::${ordType}`, values: [from] })).rows[0]!.n);
  if (older !== win.olderCount) {
    const why = older > win.olderCount
      ? `${older - win.olderCount} row(s) older than the window were deleted or left the filter`
      : `${win.olderCount - older} row(s) below the window are not tracked (committed late)`;
    const r = await full(why);
    return { ...r, rows: r.rows + rows, windowFrom: from };
  }
  return { mode: 'window', rows, scanned: win.rows.length, durationMs: Math.round(performance.now() - started), committedAt: performance.timeOrigin + performance.now(), windowFrom: from };
}
