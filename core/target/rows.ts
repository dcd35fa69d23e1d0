/**
 * Row reconciliation, set-based in the target database. The source's key+ordinal (or key+fingerprint)
 * scan is COPYed into a temporary table and joined with the flow's tracking table: rows not tracked
 * are inserts, rows whose ordinal/fingerprint differs are updates, tracked keys missing from the scan
 * are deletes. Only the changed rows are read again from the source.
 */
import { LONG_WORK_SQL } from '../sql/long-work';
import type pg from 'pg';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { RowCounts, SampleRow } from '../api/model';
import { internalName, quoteIdent } from '../sql/ident';
import { TEXT_SETTINGS_SQL } from '../sql/text-settings';
import { trackingSummary } from './summary';
import type { Prepared } from './prepare';
import { loadCopyText } from './copy-in';
import { looseKeys } from './text-identity';
import type { Row } from './row-source';

export const SCAN = 'pg_temp._tablesync_scan';
export const CHANGED = 'pg_temp._tablesync_changed';
export const STAGE = 'pg_temp._tablesync_stage';

export const q = quoteIdent;

/** Key equality between two relations with the same key types (target/tracking, or scan/changed/stage). */
export function keyEq(p: Prepared, a: string, b: string): string {
  return p.keyColumns.map((k) => `${a}.${q(k.name)} = ${b}.${q(k.name)}`).join(' AND ');
}

/**
 * Key equality between target-typed `t` (table, tracking) and staging-typed `s` (scan, changed,
 * stage). Scan tables keep the SOURCE's key types so keys read back from them are the source's own
 * text (a re-read by key must parse them); they are cast where they meet the target.
 */
export function keyEqCast(p: Prepared, t: string, s: string): string {
  return p.keyColumns.map((k) => `${t}.${q(k.name)} = ${castKey(k, s)}`).join(' AND ');
}

export function castKey(k: Prepared['keyColumns'][number], alias: string): string {
  return k.stagingType === k.type ? `${alias}.${q(k.name)}` : `${alias}.${q(k.name)}::${k.type}`;
}

/** The tracking column that holds the scan's mark (quoted). */
export function trackMark(p: Prepared): string {
  return q(p.job.source.mode === 'ordinal' ? p.names.trackOrdinal : p.names.trackFingerprint);
}

/**
 * The mark columns of the scan and changed tables: the ordinal or fingerprint, and for nullable
 * ordinals the fingerprint of the rows without one. `track` is the tracking column each one fills.
 */
export function scanMarks(p: Prepared): { name: string; type: string; track: string }[] {
  const marks = [{ name: p.names.mark, type: markType(p), track: trackMark(p) }];
  if (p.nullableOrdinal) marks.push({ name: p.names.nullFingerprint, type: 'int8', track: q(p.names.trackFingerprint) });
  return marks;
}

export function markType(p: Prepared): string {
  return p.job.source.mode === 'ordinal' ? p.newSetup.tracking.ordinalType ?? 'text' : 'int8';
}

/**
 * For live key syncs (`, fp = NULL` in the tracking upsert): a row re-read by key has its ordinal
 * tracked but not its fingerprint (that is computed by the source's scan), so the fingerprint of a
 * row without an ordinal becomes "not known" and the next scan compares it again.
 */
export function forgetNullFingerprint(p: Prepared): string {
  return p.nullableOrdinal ? `, ${q(p.names.trackFingerprint)} = NULL` : '';
}

/** Temporary tables for one plan/apply; created before a plan's transaction turns read-only. */
export async function createScanTables(client: pg.ClientBase, p: Prepared): Promise<void> {
  const cols = [...p.keyColumns.map((k) => `${q(k.name)} ${k.stagingType}`), ...scanMarks(p).map((m) => `${q(m.name)} ${m.type}`)].join(', ');
  await client.query(`CREATE TEMP TABLE ${SCAN.slice(8)} (${cols}) ON COMMIT DROP`);
  await client.query(`CREATE TEMP TABLE ${CHANGED.slice(8)} (${cols}, ${q(p.names.tracked)} boolean, ${q(p.names.rn)} bigint) ON COMMIT DROP`);
}

/**
 * Drop one apply's temporary tables before its transaction ends: a set applies many members in one
 * transaction, and ON COMMIT DROP would keep the names taken until the commit.
 */
export async function dropScanTables(client: pg.ClientBase): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${SCAN}, ${CHANGED}, ${STAGE}`);
}

/**
 * Nothing changed since the last sync (the summaries of source and tracking match): no key scan
 * at all. `total` is the source's row count, `tracked` the tracking table's, `targetRows` the table's.
 */
export interface Unchanged {
  total: number;
  tracked: number;
  targetRows: number;
}

/** Compare the summaries of source and tracking (concurrently); undefined when a scan is due. */
export async function checkUnchanged(client: pg.ClientBase, p: Prepared): Promise<Unchanged | undefined> {
  const src = p.job.source;
  if (!p.trackingExists || !p.comparable || !src.summary) return undefined;
  // The target connection counts the table (for foreign rows) while the source is still summarising.
  const [a, [b, targetRows]] = await Promise.all([
    src.summary().catch(() => undefined),
    (async () => {
      const summary = await trackingSummary(client, p.trackingRead, p.keyColumns, scanMarks(p).map((m) => m.track));
      const n = p.actual !== undefined && !p.freshTable ? Number((await client.query(`SELECT count(*) AS n FROM ${p.tableRead} x`)).rows[0].n) : 0;
      return [summary, n] as const;
    })(),
  ]);
  if (!a || !b || a.count !== b.count || a.xor !== b.xor) return undefined;
  return { total: a.count, tracked: b.count, targetRows };
}

/** COPY the source's key+mark scan into the scan table (nothing when unchanged). */
export async function loadScan(client: pg.ClientBase, p: Prepared, unchanged?: Unchanged, onRows?: (n: number) => void, signal?: AbortSignal): Promise<number> {
  if (unchanged) return 0;
  const cols = [...p.keyColumns.map((k) => ({ name: k.name, type: k.stagingType })), ...scanMarks(p).map((m) => ({ name: m.name, type: m.type }))];
  // No ANALYZE: the planner sizes a fresh temporary table from its pages, which is enough to pick
  // the hash join, and sampling it costs more than it saves.
  const bin = p.job.source.binaryScan;
  if (bin && p.copyIn && bin.encoding === 'UTF8' && p.targetEncoding === 'UTF8' && p.keyColumns.every((k) => k.stagingType === k.sourceType)) {
    const stream = client.query(copyFrom(`COPY ${SCAN} (${cols.map((c) => q(c.name)).join(', ')}) FROM STDIN (FORMAT binary)`));
    await (signal ? pipeline(Readable.from(bin.scan()), stream, { signal }) : pipeline(Readable.from(bin.scan()), stream));
    onRows?.(stream.rowCount);
    return stream.rowCount;
  }
  return loadCopyText(client, SCAN, cols, p.job.source.scan(signal ? { signal } : {}), p.copyIn, onRows);
}

/**
 * Session memory for set-based work on a million rows: hash joins that fit in memory instead of
 * spilling batches, and temporary tables in local buffers. temp_buffers can only change before the
 * session first uses a temporary table, so failure to set it is fine (a reused connection has it).
 */
export async function tuneSession(client: pg.ClientBase): Promise<void> {
  await client.query(`SET temp_buffers = '256MB'`).catch(() => {});
}

/**
 * Per transaction: memory for the joins, and the text settings every source read uses too
 * (core/sql/text-settings.ts: UTC, ISO, xmloption content…), so the target reads the source's text
 * as the source meant it and prints it (sample cells, ordinals tracked from re-read rows) the same
 * way, whatever `ALTER DATABASE … SET` the target has. SET LOCAL inside the transaction: no extra
 * session, which a one-session PGlite target could not give.
 */
export async function tuneTransaction(client: pg.ClientBase): Promise<void> {
  await client.query(`SET LOCAL work_mem = '256MB'; ${LONG_WORK_SQL}; ${TEXT_SETTINGS_SQL}`);
}

/**
 * managedBy "user": the rows you wrote whose key the source also has are conflicts, not inserts
 * (a row of the target that the flow does not track, `alias` a scan/changed/stage row). Apply
 * leaves them alone unless it may take them over. A system-managed table is the flow's own: rows
 * there that it does not track are only counted (foreign).
 */
export function hasConflicts(p: Prepared): boolean {
  return p.job.target.managedBy === 'user' && p.actual !== undefined && !p.freshTable;
}

/** SQL condition: the staging-typed row `alias` has a key in the target table that the flow does not track (before this apply's DDL). */
export function conflictSql(p: Prepared, alias: string, relations: { table: string; tracking: string } = { table: p.tableRead, tracking: p.trackingRead }): string {
  const inTable = `EXISTS (SELECT 1 FROM ${relations.table} x WHERE ${keyEqCast(p, 'x', alias)})`;
  return p.trackingExists ? `${inTable} AND NOT EXISTS (SELECT 1 FROM ${relations.tracking} t WHERE ${keyEqCast(p, 't', alias)})` : inTable;
}

/**
 * Fill the changed table (numbered, for batched re-reads) and count, with one join over the scan.
 */
export async function diffRows(client: pg.ClientBase, p: Prepared, scanned: number, unchanged?: Unchanged): Promise<RowCounts> {
  // Unchanged summaries: every source key is tracked, so no conflict can exist.
  if (unchanged) return { insert: 0, update: 0, delete: 0, unchanged: unchanged.total, foreign: Math.max(0, unchanged.targetRows - unchanged.tracked), ...(hasConflicts(p) ? { conflict: 0 } : {}) };
  if (!p.trackingExists) {
    // Everything is an insert: the changed set is the scan itself (see changedRel), not a copy of it.
    const all = p.actual !== undefined && !p.freshTable ? Number((await client.query(`SELECT count(*) AS n FROM ${p.tableRead} x`)).rows[0].n) : 0;
    if (!hasConflicts(p)) return { insert: scanned, update: 0, delete: 0, unchanged: 0, foreign: all };
    const conflict = Number((await client.query(`SELECT count(*) AS n FROM ${SCAN} s WHERE ${conflictSql(p, 's')}`)).rows[0].n);
    return { insert: scanned - conflict, update: 0, delete: 0, unchanged: 0, foreign: Math.max(0, all - conflict), conflict };
  } else {
    await client.query(changedSql(p));
  }
  const tracked = q(p.names.tracked);
  const c = await client.query(`SELECT count(*) FILTER (WHERE NOT ${tracked}) AS ins, count(*) FILTER (WHERE ${tracked}) AS upd FROM ${CHANGED}`);
  const ins = Number((c.rows[0] as { ins: string }).ins);
  const upd = Number((c.rows[0] as { upd: string }).upd);
  // Every scanned key that is tracked matched one tracking row, so the tracked keys the scan lacks
  // (the deletes) are counted without another join over the whole table.
  const trackedRows = async (where: string) => (p.trackingExists ? Number((await client.query(`SELECT count(*) AS n FROM ${p.trackingRead} t WHERE true${where}`)).rows[0].n) : 0);
  const trackedCount = await trackedRows('');
  // (Folded keys, see mergeStage, can make two scanned keys match one tracked key: never below 0.)
  const del = p.trackingExists ? Math.max(0, trackedCount - (scanned - ins)) : 0;
  let foreign = 0;
  if (p.actual !== undefined && !p.freshTable) {
    // Tracked rows are rows of the table (the flow writes both in one transaction), so the rest is foreign.
    const all = Number((await client.query(`SELECT count(*) AS n FROM ${p.tableRead} x`)).rows[0].n);
    foreign = Math.max(0, all - trackedCount);
  }
  if (!hasConflicts(p)) return { insert: ins, update: upd, delete: del, unchanged: scanned - ins - upd, foreign };
  // Untracked changed keys that the table has: conflicts (an index probe per new key, nothing more).
  const conflict = ins === 0 ? 0 : Number((await client.query(`SELECT count(*) AS n FROM ${CHANGED} c WHERE NOT c.${tracked} AND ${conflictSql(p, 'c')}`)).rows[0].n);
  return { insert: ins - conflict, update: upd, delete: del, unchanged: scanned - ins - upd, foreign: Math.max(0, foreign - conflict), conflict };
}

/**
 * The diff's one join (tracking exists): the scanned keys that are not tracked, or whose marks
 * differ from the tracked ones, into the changed table, numbered.
 */
export function changedSql(p: Prepared): string {
  const sKeys = p.keyColumns.map((k) => `s.${q(k.name)}`).join(', ');
  // Per mark: the ordinal, and for rows without one their fingerprint (NULL = NULL is no proof).
  // And the text of key columns whose equal values may print differently (text-identity.ts): the
  // join met the tracked key under an equal key, but the source's now reads otherwise (1.0 → 1.00),
  // which neither an ordinal nor a fingerprint of typed values shows. Tracking holds the key the
  // target was written with, so this finds the rows whose target key has the old text.
  const keyText = looseKeys(p).map((k) => `t.${q(k.name)}::text IS DISTINCT FROM (${castKey(k, 's')})::text`);
  const cmp = p.comparable ? [...scanMarks(p).map((m) => `t.${m.track} IS DISTINCT FROM s.${q(m.name)}`), ...keyText].join(' OR ') : 'true';
  return `INSERT INTO ${CHANGED}
       SELECT ${sKeys}, ${scanMarks(p).map((m) => `s.${q(m.name)}`).join(', ')}, t.${q(p.keyColumns[0]!.name)} IS NOT NULL, row_number() OVER ()
         FROM ${SCAN} s LEFT JOIN ${p.trackingRead} t ON ${keyEqCast(p, 't', 's')}
        WHERE t.${q(p.keyColumns[0]!.name)} IS NULL OR ${cmp.includes(' OR ') ? `(${cmp})` : cmp}`;
}

/** Scanned rows without an ordinal (compared by fingerprint); undefined unless the ordinal is nullable. */
export async function countWithoutOrdinal(client: pg.ClientBase, p: Prepared): Promise<number | undefined> {
  if (!p.nullableOrdinal) return undefined;
  return Number((await client.query(`SELECT count(*) AS n FROM ${SCAN} s WHERE s.${q(p.names.mark)} IS NULL`)).rows[0].n);
}

/** The changed rows: the changed table, or the whole scan when nothing is tracked yet. */
export function changedRel(p: Prepared): string {
  return p.trackingExists ? CHANGED : `(SELECT s.*, false AS ${q(p.names.tracked)}, 0::bigint AS ${q(p.names.rn)} FROM ${SCAN} s)`;
}

/** Fill the changed table from the scan (nothing tracked: all of it), for the paths that need it materialized. */
export async function materializeChanged(client: pg.ClientBase, p: Prepared): Promise<void> {
  if (p.trackingExists) return;
  await client.query(`INSERT INTO ${CHANGED} SELECT s.*, false, row_number() OVER () FROM ${SCAN} s`);
}

/** A digest of what the diff found: part of the plan fingerprint, so a changed source makes a plan stale. */
export async function diffDigest(client: pg.ClientBase, p: Prepared, rows: RowCounts): Promise<string> {
  const parts: string[] = [];
  const c = await client.query(`SELECT count(*) AS n, coalesce(sum(hashtextextended(c::text, 0)::numeric), 0)::text AS h FROM ${changedRel(p)} c`);
  parts.push(`${c.rows[0].n}:${c.rows[0].h}`);
  if (p.trackingExists && rows.delete > 0) {
    const d = await client.query(`SELECT count(*) AS n, coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)::text AS h FROM ${p.trackingRead} t WHERE NOT EXISTS (SELECT 1 FROM ${SCAN} s WHERE ${keyEqCast(p, 't', 's')})`);
    parts.push(`${d.rows[0].n}:${d.rows[0].h}`);
  }
  return parts.join('/');
}

const SAMPLE = 5;

function keyObj(p: Prepared, r: Record<string, string | null>): Record<string, string | null> {
  return Object.fromEntries(p.keyColumns.map((k) => [k.name, r[k.name] ?? null]));
}

/**
 * Target rows by key, as text, in a map by the ASKED key's text (JSON): a key whose equal values
 * print differently (text-identity.ts) finds the row stored under its old text (1.0 for 1.00).
 */
export async function targetRows(client: pg.ClientBase, p: Prepared, keys: Row[]): Promise<Map<string, Record<string, string | null>>> {
  const out = new Map<string, Record<string, string | null>>();
  if (keys.length === 0 || !p.actual || p.freshTable) return out;
  const cols = p.actual.columns.map((c) => `x.${q(c.name)}::text AS ${q(c.name)}`).join(', ');
  const pos = internalName('__tablesync_pos', p.actual.columns.map((c) => c.name));
  const keyArrays = p.keyColumns.map((_, i) => keys.map((k) => k[i] ?? null));
  const { rows } = await client.query(
    `SELECT ${cols}, u.n AS ${q(pos)} FROM ${p.tableRead} x JOIN unnest(${p.keyColumns.map((k, i) => `$${i + 1}::text[]`).join(', ')}) WITH ORDINALITY AS u(${p.keyColumns.map((_, i) => `k${i}`).join(', ')}, n)
       ON ${p.keyColumns.map((k, i) => `x.${q(k.name)} = u.k${i}::${k.type}`).join(' AND ')}`,
    keyArrays,
  );
  for (const r of rows as Record<string, string | null>[]) {
    const { [pos]: n, ...row } = r;
    out.set(JSON.stringify(keys[Number(n) - 1]), row);
  }
  return out;
}

/** A few sample rows of each kind with before/after cells (target column names). */
export async function sampleRows(client: pg.ClientBase, p: Prepared, counts: RowCounts): Promise<SampleRow[]> {
  const keys = p.keyColumns.map((k) => `c.${q(k.name)}::text AS ${q(k.name)}`).join(', ');
  const samples: SampleRow[] = [];
  const pick = async (tracked: boolean, extra = '') =>
    (await client.query(`SELECT ${keys} FROM ${changedRel(p)} c WHERE c.${q(p.names.tracked)} = $1${extra} ORDER BY c.${q(p.names.rn)} LIMIT ${SAMPLE}`, [tracked])).rows as Record<string, string | null>[];
  const conflicting = hasConflicts(p) && (counts.conflict ?? 0) > 0;
  const ins = await pick(false, conflicting ? ` AND NOT (${conflictSql(p, 'c')})` : '');
  const upd = await pick(true);
  const con = conflicting ? await pick(false, ` AND ${conflictSql(p, 'c')}`) : [];
  const toKey = (r: Record<string, string | null>): Row => p.keyColumns.map((k) => r[k.name] ?? null);
  const wanted = [...ins, ...upd, ...con].map(toKey);
  const after = new Map<string, Record<string, string | null>>();
  if (wanted.length) {
    for await (const row of p.job.source.readRowsByKeys(wanted)) {
      const rec = Object.fromEntries(p.columns.map((c, i) => [c.name, row[i] ?? null]));
      after.set(JSON.stringify(p.keyColumns.map((k) => rec[k.name] ?? null)), rec);
    }
  }
  await renderAsTarget(client, p, after);
  const before = await targetRows(client, p, wanted);
  const find = (m: Map<string, Record<string, string | null>>, k: Row) => m.get(JSON.stringify(k));
  for (const r of ins) {
    const k = toKey(r);
    const a = find(after, k);
    const b = find(before, k);
    samples.push({ op: 'insert', key: keyObj(p, r), ...(a ? { after: a } : {}), ...(b ? { before: b } : {}) });
  }
  for (const [op, list] of [['update', upd], ['conflict', con]] as const) {
    for (const r of list) {
      const k = toKey(r);
      const a = find(after, k);
      const b = find(before, k);
      const changed = a && b ? p.columns.filter((c) => (a[c.name] ?? null) !== (b[c.name] ?? null)).map((c) => c.name) : undefined;
      samples.push({ op, key: keyObj(p, r), ...(b ? { before: b } : {}), ...(a ? { after: a } : {}), ...(changed ? { changed } : {}) });
    }
  }
  if (p.trackingExists && counts.delete > 0) {
    const tk = p.keyColumns.map((k) => `t.${q(k.name)}::text AS ${q(k.name)}`).join(', ');
    const del = (await client.query(`SELECT ${tk} FROM ${p.trackingRead} t WHERE NOT EXISTS (SELECT 1 FROM ${SCAN} s WHERE ${keyEqCast(p, 't', 's')}) LIMIT ${SAMPLE}`)).rows as Record<string, string | null>[];
    const b = await targetRows(client, p, del.map(toKey));
    for (const r of del) {
      const bb = find(b, toKey(r));
      samples.push({ op: 'delete', key: keyObj(p, r), ...(bb ? { before: bb } : {}) });
    }
  }
  if (p.actual && !p.freshTable && counts.foreign > 0) {
    const cols = p.actual.columns.map((c) => `x.${q(c.name)}::text AS ${q(c.name)}`).join(', ');
    // Conflicts (the source has the key) have their own samples.
    const notConflict = conflicting ? ` AND NOT EXISTS (SELECT 1 FROM ${SCAN} s WHERE ${keyEqCast(p, 'x', 's')})` : '';
    const foreign = p.trackingExists
      ? (await client.query(`SELECT ${cols} FROM ${p.tableRead} x WHERE NOT EXISTS (SELECT 1 FROM ${p.trackingRead} t WHERE ${keyEq(p, 't', 'x')})${notConflict} LIMIT 3`)).rows
      : (await client.query(`SELECT ${cols} FROM ${p.tableRead} x WHERE true${notConflict} LIMIT 3`)).rows;
    for (const r of foreign as Record<string, string | null>[]) samples.push({ op: 'foreign', key: keyObj(p, r), before: r });
  }
  return samples;
}

/**
 * Show "after" cells as the target will store them: the source's text goes through the staging type
 * and the target type, the way apply loads it, and is printed by the target. Without this a sample
 * reads `[0.100,0.5]` (source text) → `[0.1,0.5]` (pgvector's output) as a change that is not one.
 * A value the cast refuses keeps its source text (apply would report that cast's error itself).
 */
export async function renderAsTarget(client: pg.ClientBase, p: Prepared, rows: Map<string, Record<string, string | null>>): Promise<void> {
  if (rows.size === 0) return;
  const cols = p.columns;
  const cast = (c: Prepared['columns'][number], expr: string) => `(((${expr})::text)::${c.stagingType})::${c.type}::text AS ${q(c.name)}`;
  const entries = [...rows];
  // All sample rows in one statement (one text[] per column, unnested in step); only when a value
  // refuses its cast does each row get its own try, so the others still show as the target will.
  const all = `SELECT ${cols.map((c, i) => cast(c, `u.c${i}`)).join(', ')}
                 FROM unnest(${cols.map((_, i) => `$${i + 1}::text[]`).join(', ')}) WITH ORDINALITY AS u(${cols.map((_, i) => `c${i}`).join(', ')}, n)
                ORDER BY u.n`;
  const one = `SELECT ${cols.map((c, i) => cast(c, `$${i + 1}`)).join(', ')}`;
  const attempt = async (sql: string, params: unknown[]): Promise<Record<string, string | null>[] | undefined> => {
    await client.query('SAVEPOINT tablesync_sample');
    try {
      const r = await client.query(sql, params);
      await client.query('RELEASE SAVEPOINT tablesync_sample');
      return r.rows as Record<string, string | null>[];
    } catch {
      await client.query('ROLLBACK TO SAVEPOINT tablesync_sample');
      return undefined;
    }
  };
  const together = await attempt(all, cols.map((c) => entries.map(([, rec]) => rec[c.name] ?? null)));
  if (together) {
    entries.forEach(([k], i) => rows.set(k, together[i]!));
    return;
  }
  for (const [k, rec] of entries) {
    const r = await attempt(one, cols.map((c) => rec[c.name] ?? null));
    if (r) rows.set(k, r[0]!);
  }
}
