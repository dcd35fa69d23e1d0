/**
 * Applying a live batch in ONE statement. core/target's syncKeys prepares the flow (a dozen catalog
 * queries) and builds temporary staging tables for every call: right for a plan or an apply, but
 * about 9 ms per batch, most of the live latency budget. A watch holds the flow's lock for a whole
 * connection cycle, so nothing can change the flow's setup meanwhile: it prepares once per cycle
 * here and then applies each batch as a single data-modifying statement over `unnest($n::text[])`
 * (its own transaction): upsert the rows that are present, track them, delete the
 * tracked rows whose keys are gone or filtered out.
 *
 * Same semantics as core/target's syncKeysOn (it reads the source the same way and writes the same
 * tracking); where that is not simple (key types overridden so that two source keys may meet in
 * one target key) it falls back to syncKeysOn itself.
 *
 * It lives in core/target beside syncKeysOn because it reads the same prepared state and writes the
 * same tracking; core/live uses it through core/target's index.
 */
import type pg from 'pg';
import { TableSyncError, toTableSyncError } from '../errors';
import { createHash } from 'node:crypto';
import { TEXT_SETTINGS_SESSION_SQL, TEXT_SETTINGS_SQL } from '../sql/text-settings';
import { internalName } from '../sql/ident';
import { prepare, type Prepared } from './prepare';
import { forgetNullFingerprint, keyEq, markType, q, trackMark } from './rows';
import type { Row } from './row-source';
import type { SyncJob } from './job';
import { looseKeys } from './text-identity';
import { keyOutcomes, readKeyStates, syncKeysOn, type KeyOutcome } from './sync-keys';

export type { KeyOutcome } from './sync-keys';

/**
 * What else a replicated batch does in its transaction: `before` runs first (a TRUNCATE's wipe: the
 * batch then takes an explicit transaction); `side` is one more data-modifying statement folded into
 * the batch's own (recording the stream position with the data), `sql` given the placeholder of each
 * of its `values`; it must return one row per row it wrote.
 */
export interface KnownHooks {
  before?: (c: pg.ClientBase) => Promise<void>;
  side?: { sql: (param: (i: number) => string) => string; values: unknown[] };
}

/** What a replicated batch did, and where the target's WAL stood while it ran (before its own commit). */
export interface KnownResult {
  changed: number;
  removed: number;
  /** Rows the `side` statement returned. */
  side: number;
  /** Indexes (into `present`) of rows left as they are: rows you wrote in a user-managed table (never taken over live). */
  skipped: number[];
  /**
   * `[j, i]`: missing key `missing[j]` is an equal key of another text of `present[i]` (numeric 1.0
   * and 1.00, text-identity.ts: the old key of a key change to an equal value). Its row was not
   * removed but written under the new text.
   */
  sameRow: Array<[number, number]>;
  /** pg_current_wal_insert_lsn() during the statement: at or past the end of every commit before it on this connection. */
  walInsert: string;
  /** pg_current_wal_flush_lsn() during the statement. */
  walFlush: string;
}

export interface KeySync {
  /**
   * Outcomes in the order of `keys`. With `inCallerTransaction` (only when `oneStatement`), the
   * statement runs in the transaction the caller opened (and fixed the text settings in), so several
   * flows' batches commit together (a set's live batch); otherwise in a transaction of its own.
   */
  run(keys: Row[], opts?: { inCallerTransaction?: boolean }): Promise<KeyOutcome[]>;
  /** The flow as prepared for this connection cycle (tracking table, columns, types). */
  readonly prepared: Prepared;
  /**
   * `run` is one statement, so a caller may run several flows' batches in ONE transaction (see
   * `inCallerTransaction`). False for the fallback, which always commits on its own.
   */
  readonly oneStatement: boolean;
  /**
   * Apply rows already known (a logical-replication stream carries them: no re-read): `present`
   * rows (source key columns then value columns, text) are upserted and tracked, `missing` keys are
   * removed when tracked. ONE statement, one round trip, its own implicit transaction (commit
   * included), with the session's settings: the text settings (set here once per session) and
   * whatever synchronous_commit the caller set for the session. With `hooks.before` it runs in an
   * explicit transaction after that hook instead. Absent where overridden key types need
   * syncKeysOn's dedupe.
   */
  applyKnown?(present: Row[], missing: Row[], hooks?: KnownHooks): Promise<KnownResult>;
}

/** sameRow's `j:n,…` (1-based positions) as 0-based `[j, i]` pairs. */
function pairs(list: string | undefined): Array<[number, number]> {
  return list ? list.split(',').map((x) => { const [j, n] = x.split(':'); return [Number(j) - 1, Number(n) - 1] as [number, number]; }) : [];
}

/** `alias.cN` (text from unnest) as the column's target type, the way COPY into staging + cast does it. */
function fromText(c: Prepared['columns'][number], expr: string): string {
  return c.stagingType === c.type ? `${expr}::${c.type}` : `${expr}::${c.stagingType}::${c.type}`;
}

/**
 * What both batch statements (batchSql: a re-read's rows; knownBatchSql: a stream's) are made of,
 * over the same parameters: one text[] per column (present rows), then one per key column
 * (missing keys). `s` is the present rows (numbered `n` when `numbered`), less, in a user-managed
 * table, the rows you wrote there (never taken over live); `tracked` upserts their tracking marks;
 * `removed` deletes the rows of the keys `untracked` took out of tracking.
 */
function batchParts(p: Prepared, numbered: boolean) {
  const cols = p.columns;
  const keys = p.keyColumns;
  const nCols = cols.length;
  const rowParams = cols.map((_, i) => `$${i + 1}::text[]`).join(', ');
  const rowAliases = [...cols.map((_, i) => `c${i + 1}`), ...(numbered ? ['n'] : [])].join(', ');
  const keyParams = keys.map((_, i) => `$${nCols + i + 1}::text[]`).join(', ');
  const tk = keys.map((k) => q(k.name)).join(', ');
  const ordIdx = p.job.source.mode === 'ordinal' && p.job.source.ordinalColumn ? cols.findIndex((c) => c.sourceName === p.job.source.ordinalColumn) : -1;
  const mark = ordIdx >= 0 ? `s.c${ordIdx + 1}::${markType(p)}` : 'NULL';
  /** A key column's value in `s`, as the target's type. */
  const keyFrom = (k: Prepared['keyColumns'][number]) => fromText(k, `s.c${cols.findIndex((c) => c.name === k.name) + 1}`);
  const keyFromRows = keys.map(keyFrom).join(', ');
  const keyFromMissing = keys.map((k, i) => `t.${q(k.name)} = ${fromText(k, `g.k${i + 1}`)}`).join(' AND ');
  // managedBy "user": a row you wrote (in the table, not tracked) is never taken over live: left out (its outcome: skipped).
  const notYours = p.job.target.managedBy === 'user'
    ? ` WHERE NOT (EXISTS (SELECT 1 FROM ${p.tableSql} x WHERE ${keys.map((k) => `x.${q(k.name)} = ${keyFrom(k)}`).join(' AND ')}) AND NOT EXISTS (SELECT 1 FROM ${p.trackingSql} t WHERE ${keys.map((k) => `t.${q(k.name)} = ${keyFrom(k)}`).join(' AND ')}))`
    : '';
  // Key columns whose equal values may print differently (text-identity.ts: numeric 1.0 = 1.00):
  // an upsert that meets the row under an equal key also takes the new key's text, and tracking too.
  const loose = looseKeys(p);
  const sets = [...p.valueColumns, ...loose];
  const setValues = sets.map((c) => `${q(c.name)} = EXCLUDED.${q(c.name)}`).join(', ');
  // …and a missing key (an old key of a change) equal to a present row's key is that row: not removed.
  const equalsPresent = keys.map((k, i) => `${keyFrom(k)} = ${fromText(k, `g.k${i + 1}`)}`).join(' AND ');
  const notPresent = loose.length
    ? `
       AND NOT EXISTS (SELECT 1 FROM s WHERE ${equalsPresent})`
    : '';
  // Such a missing key and the present row it is (both numbered), for the change feed: `j:n`, 1-based.
  const sameRow = loose.length
    ? `(SELECT coalesce(string_agg(g.n::text || ':' || s.n::text, ','), '') FROM unnest(${keyParams}) WITH ORDINALITY AS g(${[...keys.map((_, i) => `k${i + 1}`), 'n'].join(', ')}) JOIN s ON ${equalsPresent})`
    : undefined;
  return {
    keyParams, tk, keyFromRows, keyFromMissing, notPresent, sameRow,
    /** The columns an upsert that meets an existing row sets: the value columns, then the loose key columns. */
    sets,
    s: `s AS (SELECT * FROM unnest(${rowParams})${numbered ? ' WITH ORDINALITY' : ''} AS s(${rowAliases})${notYours})`,
    /** The upsert's head, up to its ON CONFLICT target: the caller adds the action (`setValues` for the value columns) and RETURNING. */
    insert: `INSERT INTO ${p.tableSql} AS x (${cols.map((c) => q(c.name)).join(', ')})
    SELECT ${cols.map((c, i) => fromText(c, `s.c${i + 1}`)).join(', ')} FROM s
    ON CONFLICT (${tk})`,
    setValues,
    tracked: `tracked AS (
    INSERT INTO ${p.trackingSql} AS t (${tk}, ${trackMark(p)})
    SELECT ${keyFromRows}, ${mark} FROM s
    ON CONFLICT (${tk}) DO UPDATE SET ${trackMark(p)} = EXCLUDED.${trackMark(p)}${forgetNullFingerprint(p)}${loose.map((k) => `, ${q(k.name)} = EXCLUDED.${q(k.name)}`).join('')}
    RETURNING 1)`,
    removed: `removed AS (
    DELETE FROM ${p.tableSql} x USING untracked u WHERE ${keyEq(p, 'x', 'u')}
    RETURNING 1)`,
  };
}

/** The one statement of a batch of re-read rows; parameters as batchParts'. Returns which rows changed and which keys were untracked (by position). */
export function batchSql(p: Prepared): string {
  const keys = p.keyColumns;
  const b = batchParts(p, true);
  const keyAliases = [...keys.map((_, i) => `k${i + 1}`), 'n'].join(', ');
  // untracked returns the key columns and the position: a name no key column has.
  const pos = q(internalName('__tablesync_pos', keys.map((k) => k.name)));
  const vals = b.sets;
  const onConflict = vals.length === 0
    ? 'DO NOTHING'
    : `DO UPDATE SET ${b.setValues}
         WHERE ROW(${vals.map((c) => `x.${q(c.name)}`).join(', ')})::text IS DISTINCT FROM ROW(${vals.map((c) => `EXCLUDED.${q(c.name)}`).join(', ')})::text`;
  // Which present rows really changed: the ones the upsert inserted or updated (its conflict
  // filter leaves equal rows alone), by key. A sub-select in the select list, not a join: it is
  // not pulled up into a join, so PostgreSQL hashes upserted's keys once (a hashed SubPlan)
  // instead of looking every row up again in the table.
  const upsertedKeys = keys.map((k) => `u.${q(k.name)}`).join(', ');
  // The missing keys untracked, by position. Loose keys (text-identity.ts): every missing key equal
  // to one untracked, as two texts of one key (1.0 and 1.00, one of them filtered out) meet one
  // tracked row and the delete returns it once, with either.
  const untrackedList = looseKeys(p).length
    ? `(SELECT coalesce(string_agg(g.n::text, ','), '') FROM unnest(${b.keyParams}) WITH ORDINALITY AS g(${keyAliases}) WHERE EXISTS (SELECT 1 FROM untracked u WHERE ${keys.map((k, i) => `u.${q(k.name)} = ${fromText(k, `g.k${i + 1}`)}`).join(' AND ')}))`
    : `(SELECT coalesce(string_agg(${pos}::text, ','), '') FROM untracked)`;
  return `WITH ${b.s},
  upserted AS (
    ${b.insert} ${onConflict}
    RETURNING ${keys.map((k) => `x.${q(k.name)}`).join(', ')}),
  changed AS (SELECT z.n FROM (SELECT s.n, (${b.keyFromRows}) IN (SELECT ${upsertedKeys} FROM upserted u) AS hit FROM s) z WHERE z.hit),
  ${b.tracked},
  untracked AS (
    DELETE FROM ${p.trackingSql} t USING unnest(${b.keyParams}) WITH ORDINALITY AS g(${keyAliases})
     WHERE ${b.keyFromMissing}${b.notPresent}
    RETURNING ${keys.map((k) => `t.${q(k.name)}`).join(', ')}, g.n AS ${pos}),
  ${b.removed}
SELECT (SELECT count(*) FROM upserted) AS upserted, (SELECT count(*) FROM tracked) AS tracked, (SELECT count(*) FROM removed) AS removed,
       (SELECT coalesce(string_agg(n::text, ','), '') FROM changed) AS changed, ${untrackedList} AS untracked${b.sameRow ? `, ${b.sameRow} AS same_row` : ''}`;
}

/**
 * The statement of a replicated batch (applyKnown): batchSql's upsert, tracking and removal, less
 * what only a re-read needs. Every streamed change is a change the source committed, and each
 * position is applied once (the stream position is recorded with the data), so the upsert writes
 * unconditionally, as PostgreSQL's own subscriptions do (no row-as-text comparison), and no
 * per-row outcome is computed. Parameters as batchParts', then the side statement's. Returns the
 * counts and the target's WAL positions.
 */
export function knownBatchSql(p: Prepared, side?: (param: (i: number) => string) => string): string {
  const keys = p.keyColumns;
  const userManaged = p.job.target.managedBy === 'user';
  // rows are numbered to say which: a user-managed table leaves rows out (yours); a loose key's old text is a present row (sameRow)
  const b = batchParts(p, userManaged || looseKeys(p).length > 0);
  const keyAliases = keys.map((_, i) => `k${i + 1}`).join(', ');
  const onConflict = b.sets.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${b.setValues}`;
  const first = p.columns.length + keys.length + 1;
  const sideSql = side?.((i) => `$${first + i}`);
  const skipped = userManaged ? `(SELECT coalesce(string_agg(g::text, ','), '') FROM generate_series(1, coalesce(cardinality($1::text[]), 0)) g WHERE g NOT IN (SELECT s.n FROM s))` : `''`;
  return `WITH ${b.s},
  upserted AS (
    ${b.insert} ${onConflict}
    RETURNING 1),
  ${b.tracked},
  untracked AS (
    DELETE FROM ${p.trackingSql} t USING unnest(${b.keyParams}) AS g(${keyAliases})
     WHERE ${b.keyFromMissing}${b.notPresent}
    RETURNING ${keys.map((k) => `t.${q(k.name)}`).join(', ')}),
  ${b.removed}${sideSql ? `,
  side AS (${sideSql})` : ''}
SELECT (SELECT count(*) FROM upserted) AS changed, (SELECT count(*) FROM tracked) AS tracked, (SELECT count(*) FROM removed) AS removed,
       ${sideSql ? '(SELECT count(*) FROM side)' : '0'} AS side, ${skipped} AS skipped, pg_current_wal_insert_lsn()::text AS wal_insert, pg_current_wal_flush_lsn()::text AS wal_flush${b.sameRow ? `, ${b.sameRow} AS same_row` : ''}`;
}

/**
 * Rows as `n` column arrays (the statements' unnest parameters). A module function, not a closure
 * of a prepared flow: its compiled code outlives a watch cycle (a restart's first batch is on the clock).
 */
function columnArrays(rows: Row[], n: number): (string | null)[][] {
  const out: (string | null)[][] = [];
  for (let i = 0; i < n; i++) {
    const col: (string | null)[] = new Array(rows.length);
    for (let j = 0; j < rows.length; j++) col[j] = rows[j]![i] ?? null;
    out.push(col);
  }
  return out;
}

/**
 * Prepare the flow once (on the lock-holding connection) and return a batch applier.
 * Throws PLAN_STALE when the flow needs an apply first (the watch then reconnects and catches up).
 */
export async function prepareKeySync(client: pg.ClientBase, job: SyncJob): Promise<KeySync> {
  // prepare reads only (a plan runs it too) but probes types under savepoints: it needs a transaction.
  await client.query('BEGIN');
  let p: Prepared;
  try {
    p = await prepare(client, job);
  } finally {
    await client.query('ROLLBACK').catch(() => {});
  }
  const pending = [...p.preSteps, ...p.postSteps];
  // A flow that cannot be applied (a blocker) is not synced live either: the apply that follows says why.
  if (p.blockers.length) throw new TableSyncError('PLAN_STALE', `flow "${job.flowName}" cannot be synced: ${p.blockers.map((b) => b.message).join('; ')}`, { blockers: p.blockers });
  if (!p.trackingExists || pending.length) {
    throw new TableSyncError('PLAN_STALE', `flow "${job.flowName}" has changes that need an apply first${pending.length ? `: ${pending.map((s) => s.summary).join('; ')}` : ''}`, { steps: pending });
  }
  // Overridden key types can fold two source keys into one target key: leave that to syncKeysOn's dedupe.
  if (p.keyColumns.some((k) => k.stagingType !== k.type)) return { prepared: p, oneStatement: false, run: async (keys) => keyOutcomes(keys, await syncKeysOn(client, job, keys)) };

  const sql = batchSql(p);
  // Parsed and planned once per connection (named by its text: one name, one text).
  const name = `tablesync_batch_${createHash('sha256').update(sql).digest('hex').slice(0, 16)}`;
  const nk = job.source.keyColumns.length;
  let sessionSettings = false;
  const sessionText = async () => {
    if (!sessionSettings) {
      await client.query(TEXT_SETTINGS_SESSION_SQL);
      sessionSettings = true;
    }
  };
  // applyKnown's statements, by the text of their side statement (one per watch cycle in practice)
  const known = new Map<string, { name: string; text: string }>();
  return {
    prepared: p,
    applyKnown: async (present, missing, hooks = {}) => {
      const sideText = hooks.side?.sql((i) => `$${i}`) ?? '';
      let st = known.get(sideText);
      if (!st) {
        const text = knownBatchSql(p, hooks.side?.sql);
        st = { name: `tablesync_known_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`, text };
        known.set(sideText, st);
      }
      const values = [
        ...columnArrays(present, p.columns.length),
        ...columnArrays(missing, p.keyColumns.length),
        ...(hooks.side?.values ?? []),
      ];
      const what = `applying ${present.length + missing.length} replicated change(s) of flow "${job.flowName}"`;
      type R = { changed: string; removed: string; side: string; skipped: string; wal_insert: string; wal_flush: string; same_row?: string };
      let r: R;
      if (hooks.before) {
        try {
          await client.query(`BEGIN; ${TEXT_SETTINGS_SQL}`);
          await hooks.before(client);
          r = (await client.query<R>({ name: st.name, text: st.text, values })).rows[0]!;
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => {});
          throw toTableSyncError(e, what);
        }
      } else {
        try {
          await sessionText();
          r = (await client.query<R>({ name: st.name, text: st.text, values })).rows[0]!;
        } catch (e) {
          throw toTableSyncError(e, what);
        }
      }
      // unnest ordinality is 1-based
      const skipped = r.skipped ? r.skipped.split(',').map((n) => Number(n) - 1) : [];
      return { changed: Number(r.changed), removed: Number(r.removed), side: Number(r.side), skipped, sameRow: pairs(r.same_row), walInsert: r.wal_insert, walFlush: r.wal_flush };
    },
    oneStatement: true,
    run: async (keys, runOpts = {}) => {
      const { wanted, present, missing, existingKeys } = await readKeyStates(job, keys);
      const values = [
        ...columnArrays(present, p.columns.length),
        ...columnArrays(missing, p.keyColumns.length),
      ];
      let r: { changed: string; untracked: string; same_row?: string };
      if (runOpts.inCallerTransaction) {
        try {
          r = (await client.query<typeof r>({ name, text: sql, values })).rows[0]!;
        } catch (e) {
          throw toTableSyncError(e, `sync of ${wanted.length} key(s) of flow "${job.flowName}"`);
        }
      } else {
        try {
          // Its own transaction: the one statement, implicitly (one round trip, commit included),
          // with the text settings every target transaction fixes (how xml, intervals, dates are
          // read) set once for the session of this connection, which the watch holds (see
          // TEXT_SETTINGS_SESSION_SQL).
          await sessionText();
          r = (await client.query<typeof r>({ name, text: sql, values })).rows[0]!;
        } catch (e) {
          throw toTableSyncError(e, `sync of ${wanted.length} key(s) of flow "${job.flowName}"`);
        }
      }
      // unnest ordinality is 1-based: present row i is n = i + 1, missing key j is n = j + 1.
      const positions = (list: string) => new Set(list ? list.split(',').map((n) => Number(n) - 1) : []);
      const changed = positions(r.changed);
      const removed = positions(r.untracked);
      // a key asked under an old text of its row's key (1.0, found as 1.00) is that row: written or left as it was
      const moved = pairs(r.same_row).filter(([, i]) => changed.has(i)).map(([j]) => missing[j]!);
      return keyOutcomes(keys, {
        applied: [...present.filter((_, i) => changed.has(i)).map((row) => row.slice(0, nk)), ...moved],
        filteredOut: missing.filter((k) => existingKeys.has(JSON.stringify(k))),
        deleted: missing.filter((k, j) => removed.has(j) && !existingKeys.has(JSON.stringify(k))),
      });
    },
  };
}
