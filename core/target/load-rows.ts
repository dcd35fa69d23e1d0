/**
 * Apply's row phase, after the scan and the diff: delete tracked rows the source no longer has, read
 * the changed rows from the source (one full COPY when many changed or on the initial load; else by
 * key in batches), merge them set-based (unchanged rows are not rewritten), and bring tracking up
 * to date. Everything runs in the caller's transaction on one connection.
 */
import type pg from 'pg';
import type { RowCounts } from '../api/model';
import { TableSyncError } from '../errors';
import { encodeCopyRow } from '../sql/copy-text';
import { internalName } from '../sql/ident';
import type { Prepared } from './prepare';
import { CHANGED, SCAN, STAGE, castKey, conflictSql, keyEq, keyEqCast, materializeChanged, q, scanMarks } from './rows';
import { loadCopyText } from './copy-in';
import { looseKeys } from './text-identity';
import type { Row } from './row-source';

/** Above this share of changed rows, one full COPY beats re-reading by key. */
const FULL_COPY_SHARE = 0.25;
const KEY_BATCH = 2000;

export interface RowPhaseHooks {
  /** managedBy "user": overwrite and own the conflicts (rows you wrote whose key the source has); else they are left alone. */
  takeOver?: boolean;
  onPhase?: (phase: 'loading' | 'merging' | 'deleting', rowsDone: number, rowsTotal: number | null) => void;
  signal?: AbortSignal;
}

const sig = (hooks: RowPhaseHooks) => (hooks.signal ? { signal: hooks.signal } : {});

function checkAbort(signal?: AbortSignal) {
  if (signal?.aborted) throw new TableSyncError('CANCELLED', 'apply cancelled; the target is unchanged');
}

export async function deleteGone(client: pg.ClientBase, p: Prepared): Promise<number> {
  if (!p.trackingExists) return 0;
  await client.query(
    `DELETE FROM ${p.tableSql} x USING ${p.trackingSql} t
      WHERE ${keyEq(p, 'x', 't')} AND NOT EXISTS (SELECT 1 FROM ${SCAN} s WHERE ${keyEqCast(p, 't', 's')})`,
  );
  const r = await client.query(`DELETE FROM ${p.trackingSql} t WHERE NOT EXISTS (SELECT 1 FROM ${SCAN} s WHERE ${keyEqCast(p, 't', 's')})`);
  return r.rowCount ?? 0;
}

const stageCols = (p: Prepared) => p.columns.map((c) => ({ name: c.name, type: c.stagingType }));

export async function createStage(client: pg.ClientBase, p: Prepared): Promise<void> {
  await client.query(`CREATE TEMP TABLE ${STAGE.slice(8)} (${p.columns.map((c) => `${q(c.name)} ${c.stagingType}`).join(', ')}) ON COMMIT DROP`);
}

/** The value of a staged column as the target type. */
const cast = (c: Prepared['columns'][number], alias: string) => (c.stagingType === c.type ? `${alias}.${q(c.name)}` : `${alias}.${q(c.name)}::${c.type}`);

/**
 * Upsert staged rows into the target. Keys are de-duplicated when a key type was overridden (two
 * source keys may collapse into one target key); an existing row is only rewritten when a value differs.
 * Values compare as text: json has no equality operator, and numeric 1.0 = 1.00 would hide a change.
 */
export async function mergeStage(client: pg.ClientBase, p: Prepared): Promise<{ inserted: number; updated: number; tookOver: number }> {
  const r = await client.query(mergeStageSql(p));
  const row = r.rows[0] as { i: string; u: string; o?: string };
  return { inserted: Number(row.i), updated: Number(row.u), tookOver: Number(row.o ?? 0) };
}

/** mergeStage's one statement: counts of inserted (`i`), updated (`u`) and, user-managed, taken-over (`o`) rows. */
export function mergeStageSql(p: Prepared): string {
  const keyNames = p.keyColumns.map((k) => q(k.name));
  const dedupe = p.keyColumns.some((k) => k.stagingType !== k.type);
  const select = `SELECT ${dedupe ? `DISTINCT ON (${p.keyColumns.map((k) => cast(k, 's')).join(', ')}) ` : ''}${p.columns.map((c) => cast(c, 's')).join(', ')} FROM ${STAGE} s`;
  // The value columns, and the key columns whose equal values may print differently (text-identity.ts):
  // a row met under an equal key of another text (1.0 → 1.00) takes the source's key text.
  const vals = [...p.valueColumns, ...looseKeys(p)];
  // managedBy "user": a rewritten row the flow did not track was taken over (counted apart; tracking is settled after the merge).
  const user = p.job.target.managedBy === 'user';
  // m returns the key columns beside the flag: a flag name no key column has.
  const ins = q(internalName('__tablesync_ins', p.keyColumns.map((k) => k.name)));
  const owned = `EXISTS (SELECT 1 FROM ${p.trackingSql} t WHERE ${keyEq(p, 't', 'm')})`;
  const tookOver = user ? ` AND ${owned}` : '';
  const onConflict = vals.length === 0
    ? 'DO NOTHING'
    : `DO UPDATE SET ${vals.map((c) => `${q(c.name)} = EXCLUDED.${q(c.name)}`).join(', ')}
       WHERE ROW(${vals.map((c) => `x.${q(c.name)}`).join(', ')})::text IS DISTINCT FROM ROW(${vals.map((c) => `EXCLUDED.${q(c.name)}`).join(', ')})::text`;
  return `WITH m AS (
       INSERT INTO ${p.tableSql} AS x (${p.columns.map((c) => q(c.name)).join(', ')})
       ${select}
       ON CONFLICT (${keyNames.join(', ')}) ${onConflict}
       RETURNING (x.xmax::text = '0') AS ${ins}${user ? `, ${p.keyColumns.map((k) => `x.${q(k.name)}`).join(', ')}` : ''})
     SELECT count(*) FILTER (WHERE m.${ins}) AS i, count(*) FILTER (WHERE NOT m.${ins}${tookOver}) AS u${user ? `, count(*) FILTER (WHERE NOT m.${ins} AND NOT (${owned})) AS o` : ''} FROM m`;
}

/** `DISTINCT ON (…) ` when overridden key types may fold two source keys into one target key. */
function dedupeKeys(p: Prepared, alias: string): string {
  return p.keyColumns.some((k) => k.stagingType !== k.type) ? `DISTINCT ON (${p.keyColumns.map((k) => castKey(k, alias)).join(', ')}) ` : '';
}

/**
 * Tracking after a merge: changed keys that were staged take the scanned mark; changed keys that
 * vanished between scan and read are deleted (when tracked); staged keys the scan did not see
 * (inserted in between) are tracked with no mark, so the next run reads them again.
 */
async function settleTracking(client: pg.ClientBase, p: Prepared, fullCopy: boolean): Promise<number> {
  const tk = p.keyColumns.map((k) => q(k.name)).join(', ');
  // A new tracking table gets its primary key after the load (one index build, not a million
  // inserts into an index), so it is filled without ON CONFLICT: it was empty, keys are unique.
  await client.query(settleMarksSql(p));
  // Vanished between the scan and the read: gone from the source (or out of the filter) now.
  await client.query(
    `DELETE FROM ${p.tableSql} x USING ${CHANGED} c, ${p.trackingSql} t
      WHERE c.${q(p.names.tracked)} AND ${keyEqCast(p, 'x', 'c')} AND ${keyEq(p, 't', 'x')}
        AND NOT EXISTS (SELECT 1 FROM ${STAGE} g WHERE ${keyEq(p, 'g', 'c')})`,
  );
  const gone = await client.query(
    `DELETE FROM ${p.trackingSql} t USING ${CHANGED} c
      WHERE ${keyEqCast(p, 't', 'c')} AND NOT EXISTS (SELECT 1 FROM ${STAGE} g WHERE ${keyEq(p, 'g', 'c')})`,
  );
  if (fullCopy) {
    await client.query(
      `INSERT INTO ${p.trackingSql} (${tk})
       SELECT ${dedupeKeys(p, 'g')}${p.keyColumns.map((k) => castKey(k, 'g')).join(', ')} FROM ${STAGE} g
        WHERE NOT EXISTS (SELECT 1 FROM ${SCAN} s WHERE ${keyEq(p, 's', 'g')})
          AND NOT EXISTS (SELECT 1 FROM ${p.trackingSql} t WHERE ${keyEqCast(p, 't', 'g')})`,
    );
  }
  return gone.rowCount ?? 0;
}

/** settleTracking's first statement: the changed keys that were staged take the scanned marks. */
export function settleMarksSql(p: Prepared): string {
  const tk = p.keyColumns.map((k) => q(k.name)).join(', ');
  const marks = scanMarks(p);
  return `INSERT INTO ${p.trackingSql} AS t (${tk}, ${marks.map((m) => m.track).join(', ')})
     SELECT ${dedupeKeys(p, 'c')}${p.keyColumns.map((k) => castKey(k, 'c')).join(', ')}, ${marks.map((m) => `c.${q(m.name)}`).join(', ')} FROM ${CHANGED} c
      WHERE EXISTS (SELECT 1 FROM ${STAGE} g WHERE ${keyEq(p, 'g', 'c')})
     ${p.trackingExists ? `ON CONFLICT (${tk}) DO UPDATE SET ${[...marks.map((m) => m.track), ...looseKeys(p).map((k) => q(k.name))].map((c) => `${c} = EXCLUDED.${c}`).join(', ')}` : ''}`;
}

/** Re-read changed keys from the source, batch by batch, into the staging table. */
async function stageByKeys(client: pg.ClientBase, p: Prepared, changed: number, hooks: RowPhaseHooks): Promise<number> {
  const rn = q(p.names.rn);
  await client.query(`CREATE INDEX ON ${CHANGED} (${rn})`);
  const keySel = p.keyColumns.map((k) => `${q(k.name)}::text`).join(', ');
  let staged = 0;
  for (let from = 0; from < changed; from += KEY_BATCH) {
    checkAbort(hooks.signal);
    const { rows } = await client.query({ text: `SELECT ${keySel} FROM ${CHANGED} WHERE ${rn} > $1 AND ${rn} <= $2`, values: [from, from + KEY_BATCH], rowMode: 'array' });
    const found: string[] = [];
    for await (const row of p.job.source.readRowsByKeys(rows as Row[])) found.push(encodeCopyRow(row));
    if (found.length) staged += await loadCopyText(client, STAGE, stageCols(p), (async function* () { yield found.join(''); })(), p.copyIn);
    hooks.onPhase?.('loading', Math.min(from + KEY_BATCH, changed), changed);
  }
  return staged;
}

/**
 * The row phase of apply, after the DDL: deletes, then the changed rows in (COPY straight into a
 * table this apply created; else staging + merge), then tracking. Returns what happened.
 */
export async function applyRows(client: pg.ClientBase, p: Prepared, diff: RowCounts, scanned: number, hooks: RowPhaseHooks = {}): Promise<RowCounts> {
  hooks.onPhase?.('deleting', 0, diff.delete);
  const deleted = diff.delete > 0 ? await deleteGone(client, p) : 0;
  // The changed table holds the conflicts too (untracked keys the target has): re-read with the rest.
  const conflicts = diff.conflict ?? 0;
  const changed = diff.insert + diff.update + conflicts;
  checkAbort(hooks.signal);
  if (diff.insert + diff.update + (hooks.takeOver ? conflicts : 0) === 0) return { ...diff, delete: deleted, insert: 0, update: 0 };

  const fullCopy = !p.trackingExists || p.job.source.preferFullCopy === true || changed > scanned * FULL_COPY_SHARE;
  const tk = p.keyColumns.map((k) => q(k.name)).join(', ');
  if (fullCopy && p.freshTable && p.directLoad) {
    // Initial load into the table this apply created: COPY straight in, no staging, no merge.
    hooks.onPhase?.('loading', 0, scanned);
    const loaded = await loadCopyText(client, p.tableSql, p.columns.map((c) => ({ name: c.name, type: c.type })), p.job.source.copyRows(sig(hooks)), p.copyIn, (n) => hooks.onPhase?.('loading', n, scanned));
    checkAbort(hooks.signal);
    hooks.onPhase?.('merging', loaded, scanned);
    const marks = scanMarks(p);
    await client.query(`INSERT INTO ${p.trackingSql} (${tk}, ${marks.map((m) => m.track).join(', ')}) SELECT ${p.keyColumns.map((k) => castKey(k, 's')).join(', ')}, ${marks.map((m) => `s.${q(m.name)}`).join(', ')} FROM ${SCAN} s`);
    if (loaded !== scanned) {
      // The source changed between the scan and the copy: track exactly the rows that landed.
      await client.query(`DELETE FROM ${p.trackingSql} t WHERE NOT EXISTS (SELECT 1 FROM ${p.tableSql} x WHERE ${keyEq(p, 'x', 't')})`);
      await client.query(`INSERT INTO ${p.trackingSql} (${tk}) SELECT ${tk} FROM ${p.tableSql} x WHERE NOT EXISTS (SELECT 1 FROM ${p.trackingSql} t WHERE ${keyEq(p, 't', 'x')})`);
    }
    return { insert: loaded, update: 0, delete: deleted, unchanged: 0, foreign: 0 };
  }

  await materializeChanged(client, p);
  await createStage(client, p);
  hooks.onPhase?.('loading', 0, fullCopy ? scanned : changed);
  if (fullCopy) {
    await loadCopyText(client, STAGE, stageCols(p), p.job.source.copyRows(sig(hooks)), p.copyIn, (n) => hooks.onPhase?.('loading', n, scanned));
  } else {
    await stageByKeys(client, p, changed, hooks);
  }
  checkAbort(hooks.signal);
  // Rows you wrote that the source also has: left alone (not written, not tracked) unless taken over.
  if (p.job.target.managedBy === 'user' && !hooks.takeOver) await client.query(`DELETE FROM ${STAGE} g WHERE ${conflictSql(p, 'g', { table: p.tableSql, tracking: p.trackingSql })}`);
  await client.query(`ANALYZE ${STAGE}`);
  hooks.onPhase?.('merging', 0, changed);
  const m = await mergeStage(client, p);
  const vanished = await settleTracking(client, p, fullCopy);
  const unchanged = diff.unchanged + (diff.insert + diff.update - m.inserted - m.updated - vanished);
  return { insert: m.inserted, update: m.updated, delete: deleted + vanished, unchanged: Math.max(0, unchanged), foreign: diff.foreign, ...(diff.conflict !== undefined ? { conflict: diff.conflict } : {}) };
}
