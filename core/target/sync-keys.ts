/**
 * syncKeys: bring a handful of keys up to date (live notifications). The source is re-read by key
 * through the filter; present rows are upserted, tracked rows that are gone or stopped matching are
 * deleted, tracking follows, all in ONE target transaction. Rows the flow does not own are never
 * deleted. The flow must have been applied (its table and tracking exist and match the flow).
 */
import type pg from 'pg';
import { TableSyncError, toTableSyncError } from '../errors';
import { encodeCopyRow } from '../sql/copy-text';
import { prepare, type Prepared } from './prepare';
import { STAGE, conflictSql, forgetNullFingerprint, markType, q, trackMark, tuneTransaction } from './rows';
import { createStage, mergeStage } from './load-rows';
import { insertRows, loadCopyText } from './copy-in';
import type { Row } from './row-source';
import type { SyncJob } from './job';
import { looseKeys } from './text-identity';

/** What a live sync did, by key (source key text). Each asked key is in exactly one list. */
export interface SyncKeysResult {
  /** Written to the target (inserted or updated) and tracked. */
  applied: Row[];
  /** Gone from the source and removed from the target (only rows this flow wrote are removed). */
  deleted: Row[];
  /** In the source but not passing the filter (removed from the target where it was there). */
  filteredOut: Row[];
  /**
   * Left as they are: a row you wrote in a user-managed table (never taken over live, only by
   * `apply --take-over`), or a key gone from the source that this flow never wrote.
   */
  skipped: Row[];
  commitTime: Date;
}

/**
 * What became of a key: its row was written (`applied`), was left as it is (`skipped`: already up
 * to date, a row you wrote in a user-managed table, or gone from the source and never written by
 * this flow), is gone from the source and was removed from the target (`deleted`), or exists but
 * does not pass the filter (`filtered-out`, removed from the target when it was there).
 */
export type KeyOutcome = 'applied' | 'deleted' | 'filtered-out' | 'skipped';

/**
 * The one rule both live paths (syncKeysOn, and key-batch's one statement) report by: each asked
 * key's outcome, in the order asked; a key in none of the lists was left as it is.
 */
export function keyOutcomes(keys: Row[], r: Pick<SyncKeysResult, 'applied' | 'deleted' | 'filteredOut'>): KeyOutcome[] {
  const outcome = new Map<string, KeyOutcome>();
  for (const k of r.applied) outcome.set(JSON.stringify(k), 'applied');
  for (const k of r.filteredOut) outcome.set(JSON.stringify(k), 'filtered-out');
  for (const k of r.deleted) outcome.set(JSON.stringify(k), 'deleted');
  return keys.map((k) => outcome.get(JSON.stringify(k)) ?? 'skipped');
}

const KEYS = 'pg_temp._tablesync_keys';

async function collect(it: AsyncIterable<Row>): Promise<Row[]> {
  const out: Row[] = [];
  for await (const r of it) out.push(r);
  return out;
}

/** Where notified keys stand in the source: rows that pass the filter, and the other keys split by why. */
export interface KeyStates {
  /** The distinct keys asked for. */
  wanted: Row[];
  /** Source rows (key columns then value columns) that exist and pass the filter. */
  present: Row[];
  /** Keys without such a row, in `wanted` order. */
  missing: Row[];
  /** JSON of the missing keys whose row exists but fails the filter (the rest are gone). */
  existingKeys: Set<string>;
}

/**
 * Read `keys` from the source through the filter, then look up the ones that did not come back
 * without it, to tell "filtered out" from "deleted". Keys are de-duplicated; a key of the wrong
 * width is INVALID_INPUT.
 */
export async function readKeyStates(job: SyncJob, keys: Row[]): Promise<KeyStates> {
  const nk = job.source.keyColumns.length;
  const uniq = new Map<string, Row>();
  for (const k of keys) {
    if (k.length !== nk) throw new TableSyncError('INVALID_INPUT', `syncKeys: a key has ${k.length} values, the source key has ${nk}`);
    uniq.set(JSON.stringify(k), k);
  }
  const wanted = [...uniq.values()];
  // A row asked for under two texts of one key (1.0 and 1.00: text-identity.ts) in two chunks of
  // the re-read comes back twice, alike (one snapshot): it is kept once (an upsert meets a row once).
  const byKey = new Map<string, Row>();
  for (const r of wanted.length ? await collect(job.source.readRowsByKeys(wanted)) : []) byKey.set(JSON.stringify(r.slice(0, nk)), r);
  const present = [...byKey.values()];
  const presentKeys = new Set(byKey.keys());
  const missing = wanted.filter((k) => !presentKeys.has(JSON.stringify(k)));
  const existing = missing.length ? await collect(job.source.readRowsByKeys(missing, { ignoreFilter: true })) : [];
  return { wanted, present, missing, existingKeys: new Set(existing.map((r) => JSON.stringify(r.slice(0, nk)))) };
}

function assertApplied(p: Prepared): void {
  const pending = [...p.preSteps, ...p.postSteps];
  if (!p.trackingExists || pending.length) {
    throw new TableSyncError('PLAN_STALE', `flow "${p.job.flowName}" has changes that need an apply first${pending.length ? `: ${pending.map((s) => s.summary).join('; ')}` : ''}`, { steps: pending });
  }
}

export async function syncKeysOn(client: pg.ClientBase, job: SyncJob, keys: Row[]): Promise<SyncKeysResult> {
  const nk = job.source.keyColumns.length;
  const { wanted, present, missing, existingKeys } = await readKeyStates(job, keys);
  const filteredOut = missing.filter((k) => existingKeys.has(JSON.stringify(k)));
  const gone = missing.filter((k) => !existingKeys.has(JSON.stringify(k)));
  const keyText = (r: Row) => JSON.stringify(r.slice(0, nk));
  const leftAlone = new Set<string>();
  const untracked = new Set<string>();
  const moved: Row[] = [];

  await client.query('BEGIN');
  try {
    await tuneTransaction(client);
    const p = await prepare(client, job);
    assertApplied(p);
    const keyCols = p.keyColumns;
    const tk = keyCols.map((k) => q(k.name)).join(', ');
    if (present.length) {
      await createStage(client, p);
      const stageCols = p.columns.map((c) => ({ name: c.name, type: c.stagingType }));
      if (p.copyIn) await loadCopyText(client, STAGE, stageCols, (async function* () { yield present.map(encodeCopyRow).join(''); })(), true);
      else await insertRows(client, STAGE, stageCols, present);
      // Rows you wrote in a user-managed table are never taken over by a live sync (only by apply --take-over).
      if (p.job.target.managedBy === 'user') {
        const yours = await client.query<Row>({
          text: `DELETE FROM ${STAGE} g WHERE ${conflictSql(p, 'g', { table: p.tableSql, tracking: p.trackingSql })} RETURNING ${keyCols.map((k) => `g.${q(k.name)}::text`).join(', ')}`,
          rowMode: 'array',
        });
        for (const k of yours.rows) leftAlone.add(JSON.stringify(k));
      }
      await mergeStage(client, p);
      const ordIdx = job.source.ordinalColumn ? p.columns.findIndex((c) => c.sourceName === job.source.ordinalColumn) : -1;
      const mark = job.source.mode === 'ordinal' && ordIdx >= 0 ? `s.${q(p.columns[ordIdx]!.name)}::${markType(p)}` : 'NULL';
      await client.query(
        `INSERT INTO ${p.trackingSql} (${tk}, ${trackMark(p)})
         SELECT ${keyCols.map((k) => (k.stagingType === k.type ? `s.${q(k.name)}` : `s.${q(k.name)}::${k.type}`)).join(', ')}, ${mark} FROM ${STAGE} s
         ON CONFLICT (${tk}) DO UPDATE SET ${trackMark(p)} = EXCLUDED.${trackMark(p)}${forgetNullFingerprint(p)}${looseKeys(p).map((k) => `, ${q(k.name)} = EXCLUDED.${q(k.name)}`).join('')}`,
      );
    }
    if (missing.length) {
      await client.query(`CREATE TEMP TABLE ${KEYS.slice(8)} (${keyCols.map((k) => `${q(k.name)} ${k.type}`).join(', ')}) ON COMMIT DROP`);
      await insertRows(client, KEYS, keyCols.map((k) => ({ name: k.name, type: k.type })), missing);
      const on = (a: string, b: string) => keyCols.map((k) => `${a}.${q(k.name)} = ${b}.${q(k.name)}`).join(' AND ');
      // A missing key equal to a staged row's key, of another text (text-identity.ts: 1.0 read back as
      // 1.00), is that row, just written: not removed.
      const staged = present.length && looseKeys(p).length ? `EXISTS (SELECT 1 FROM ${STAGE} s WHERE ${keyCols.map((k) => `${k.stagingType === k.type ? `s.${q(k.name)}` : `s.${q(k.name)}::${k.type}`} = g.${q(k.name)}`).join(' AND ')})` : '';
      const notStaged = staged ? ` AND NOT ${staged}` : '';
      // Only rows this flow owns (tracked) are deleted.
      await client.query(`DELETE FROM ${p.tableSql} x USING ${p.trackingSql} t, ${KEYS} g WHERE ${on('x', 't')} AND ${on('t', 'g')}${notStaged}`);
      // (every missing key equal to one untracked: two texts of one key meet one tracked row, which the delete returns once)
      const removed = await client.query<Row>({ text: `WITH d AS (DELETE FROM ${p.trackingSql} t USING ${KEYS} g WHERE ${on('t', 'g')}${notStaged} RETURNING ${keyCols.map((k) => `t.${q(k.name)}`).join(', ')}) SELECT ${keyCols.map((k) => `g.${q(k.name)}::text`).join(', ')} FROM ${KEYS} g WHERE EXISTS (SELECT 1 FROM d WHERE ${on('d', 'g')})`, rowMode: 'array' });
      for (const k of removed.rows) untracked.add(JSON.stringify(k));
      // …and the change feed says so: that key's row was written (under the new text)
      if (staged) moved.push(...(await client.query<Row>({ text: `SELECT ${keyCols.map((k) => `g.${q(k.name)}::text`).join(', ')} FROM ${KEYS} g WHERE ${staged}`, rowMode: 'array' })).rows);
    }
    await client.query('COMMIT');
    const isMoved = new Set(moved.map(keyText));
    const applied = [...present.map((r) => r.slice(0, nk)).filter((k) => !leftAlone.has(keyText(k))), ...gone.filter((k) => isMoved.has(keyText(k)))];
    const deleted = gone.filter((k) => untracked.has(keyText(k)));
    const skipped = [...present.map((r) => r.slice(0, nk)).filter((k) => leftAlone.has(keyText(k))), ...gone.filter((k) => !untracked.has(keyText(k)) && !isMoved.has(keyText(k)))];
    return { applied, deleted, filteredOut, skipped, commitTime: new Date() };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw toTableSyncError(e, `sync of ${wanted.length} key(s) of flow "${job.flowName}"`);
  }
}
