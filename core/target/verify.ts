/**
 * verify: compare what the target holds with what the flow says it should hold (the source's rows
 * through the filter, the included columns, renamed, cast to the target types), computed by the two
 * servers. Nothing but hashes, counts and the keys of differing buckets crosses the wire:
 *
 * 1. Each side folds its rows into a count and an XOR of 64-bit row hashes, concurrently (source:
 *    the rows that pass the filter; target: every row of the table). Equal: the target holds exactly
 *    the desired rows, done. This is the whole cost of verifying an unchanged table.
 * 2. Otherwise each side groups the same into VERIFY_BUCKETS buckets by a hash of the key (target:
 *    only the rows this flow tracks, so rows it does not own never count as drift). Hash buckets,
 *    not key ranges: two servers can sort text keys differently (collations), but hash them alike.
 * 3. The keys and row hashes of the differing buckets only are COPYed from the source into a
 *    temporary table on the target and FULL JOINed with the target's: the drift table (changed,
 *    missing, extra; missing keys held by an untracked row are "not owned", not drift).
 *
 * The same value must hash the same on both servers. Every column is hashed as the type the target
 * stores (see buildTerms): the source casts to the target type when the type is overridden (so numeric
 * scale, json → jsonb, timestamp → timestamptz round exactly as apply's cast does), both sessions
 * run with the same fixed text settings (UTC, ISO dates, hex bytea, extra_float_digits), and only
 * types whose binary hash is exactly their text identity are hashed typed (the rest by their text,
 * in collation "C", so a case-insensitive collation cannot hide an edit). A type the source server
 * does not have (vector(384) from a real[] column where the source has no pgvector) is compared by
 * casting the target's value back to the source's type; source text into such a type is "shipped":
 * the source sends it and the target casts it as apply does (every row compared, see
 * compareShipped); a column no way can mirror is left out and reported in `unverifiedColumns`.
 *
 * verifyOn runs in one REPEATABLE READ transaction on the target that is rolled back (temporary
 * tables first, then READ ONLY, as plan does); apply --repair runs compareOn inside the apply's own
 * transaction and feeds the drift into the rows it rewrites (see repairDrift).
 */
import type pg from 'pg';
import type { RowCounts, VerifyResult, VerifyRow } from '../api/model';
import { TableSyncError } from '../errors';
import { quoteIdent } from '../sql/ident';
import { loadCopyText } from './copy-in';
import type { SyncJob } from './job';
import type { Prepared } from './prepare';
import { prepare } from './prepare';
import type { Row, VerifyReads } from './row-source';
import { CHANGED, SCAN, keyEq, keyEqCast, renderAsTarget, targetRows, tuneSession, tuneTransaction } from './rows';
import { castExists, type TargetColumn } from './target-columns';
import { isTextLike, textIsIdentity } from './text-identity';

/** Buckets of step 2 (a power of two: the bucket is the key hash's low bits). */
export const VERIFY_BUCKETS = 4096;
/** At most this many keys per list (changed, missing, extra, not owned) in a result. */
export const VERIFY_LIST_LIMIT = 1000;
/** Changed/missing/extra rows that also get their cells (target and source read by key). */
const DETAIL_LIMIT = 20;

const q = quoteIdent;
const VSRC = 'pg_temp._tablesync_vsrc';
const VTGT = 'pg_temp._tablesync_vtgt';
const DRIFT = 'pg_temp._tablesync_drift';

/** Drop verify's temporary tables before the transaction ends (a set repairs many members in one). */
export async function dropVerifyTables(client: pg.ClientBase): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${VSRC}, ${VTGT}, ${DRIFT}`);
}

/** One column as both sides hash it: `src` over the source table, `tgt` over target row `x`, both of type `ctype`. */
interface Term {
  col: TargetColumn;
  ctype: string;
  src: string;
  tgt: string;
  /** Hash the typed value (its hash is exactly its text identity), else its text. */
  typed: boolean;
  /**
   * Source text into a type only the target has: the source cannot print what the target would
   * store, so the source's text travels to the target and is cast there, as apply casts it.
   */
  shipped?: boolean;
}

interface Terms {
  all: Term[];
  keys: Term[];
  unverified: { column: string; reason: string }[];
}

/**
 * A typed hash only for types (as format_type spells them) whose default extended hash distinguishes
 * exactly what their text output does (text-identity.ts; the same set as the source fingerprint's,
 * core/source/source-sql.ts).
 */
function hashTerm(t: Term, side: 'src' | 'tgt'): string {
  const e = t[side];
  if (!t.typed) return `(${e})::text COLLATE "C"`;
  return isTextLike(t.ctype) ? `(${e}) COLLATE "C"` : e;
}

/** Decide how each column is compared (see the module comment); asks both servers about casts. */
async function buildTerms(client: pg.ClientBase, p: Prepared, reads: VerifyReads): Promise<Terms> {
  const all: Term[] = [];
  const unverified: Terms['unverified'] = [];
  for (const c of p.columns) {
    const s = q(c.sourceName);
    const t = `x.${q(c.name)}`;
    if (c.stagingType === c.type) {
      // A source type the target lacks (an enum overridden to text) is staged as its text: compare that.
      const src = c.sourceType !== c.stagingType && c.stagingType === 'text' ? `${s}::text` : s;
      all.push({ col: c, ctype: c.type, src, tgt: t, typed: textIsIdentity(c.type) });
    } else if (await reads.castable(c.sourceType, c.type)) {
      all.push({ col: c, ctype: c.type, src: `${s}::${c.type}`, tgt: t, typed: textIsIdentity(c.type) });
    } else if (c.stagingType === 'text' && c.keyPosition === null) {
      all.push({ col: c, ctype: c.type, src: `${s}::text`, tgt: t, typed: false, shipped: true });
    } else if ((await castExists(client, c.type, c.stagingType)) === undefined) {
      // The target's value cast back to the source's type, printed, against the source's own text.
      all.push({ col: c, ctype: c.stagingType, src: c.stagingType === 'text' ? `${s}::text` : s, tgt: `${t}::${c.stagingType}`, typed: false });
    } else if (c.keyPosition !== null) {
      throw new TableSyncError('UNSUPPORTED', `verify of flow "${p.job.flowName}": key column "${c.name}" (${c.type}) cannot be compared: the source server has no ${c.type} and the target cannot cast it back to ${c.stagingType}`, { column: c.name });
    } else {
      unverified.push({ column: c.name, reason: `the source server has no cast to ${c.type} and the target has none back to ${c.stagingType}` });
    }
  }
  return { all, keys: all.filter((t) => t.col.keyPosition !== null).sort((a, b) => a.col.keyPosition! - b.col.keyPosition!), unverified };
}

/** Hash of the columns each side can print itself (all of them unless some are shipped). */
const partHash = (T: Terms, side: 'src' | 'tgt') => `hash_record_extended(ROW(${T.all.filter((t) => !t.shipped).map((t) => hashTerm(t, side)).join(', ')}), 0)`;
const shippedOf = (T: Terms) => T.all.filter((t) => t.shipped);
/** The row hash. With shipped columns only the target can compute it (the source sends partHash and their text). */
const rowHash = (T: Terms, side: 'src' | 'tgt') =>
  shippedOf(T).length === 0 ? partHash(T, side) : `hash_record_extended(ROW(${partHash(T, side)}, ${shippedOf(T).map((t) => hashTerm(t, 'tgt')).join(', ')}), 0)`;
const VRAW = 'pg_temp._tablesync_vraw';
const bucketOf = (T: Terms, side: 'src' | 'tgt') => `(hash_record_extended(ROW(${T.keys.map((t) => hashTerm(t, side)).join(', ')}), 1) & ${VERIFY_BUCKETS - 1})::int`;
const kc = (i: number) => `k${i + 1}`;

/** The target's rows this flow tracks (`x` the table, `t` the tracking): step 2 with many untracked rows. */
const trackedFrom = (p: Prepared) => `FROM ${p.tableRead} x JOIN ${p.trackingRead} t ON ${keyEq(p, 'x', 't')}`;

/** Refuse what cannot be compared: a flow never applied, a target that does not have the flow's shape yet. */
function assertVerifiable(p: Prepared): VerifyReads {
  if (p.blockers.length) {
    const code = (['UNSUPPORTED', 'INVALID_INPUT', 'PGVECTOR_MISSING', 'INCOMPATIBLE_TARGET'].includes(p.blockers[0]!.code) ? p.blockers[0]!.code : 'UNSUPPORTED') as 'UNSUPPORTED';
    throw new TableSyncError(code, `flow "${p.job.flowName}" cannot be verified: ${p.blockers.map((b) => b.message).join('; ')}`, { blockers: p.blockers });
  }
  if (!p.actual || p.freshTable || !p.trackingExists) {
    throw new TableSyncError('PLAN_STALE', `flow "${p.job.flowName}" cannot be verified: it has not been applied to ${p.tableSql} yet (no rows tracked there); run apply first`);
  }
  const pending = p.columns.filter((c) => p.actual!.columns.find((a) => a.name === c.name)?.type !== c.type);
  if (pending.length) {
    throw new TableSyncError('PLAN_STALE', `flow "${p.job.flowName}" cannot be verified: the target table ${p.tableSql} does not have the flow's columns yet (${pending.map((c) => `"${c.name}" ${c.type}`).join(', ')}); run apply first`, { steps: p.preSteps.map((s) => s.summary) });
  }
  const reads = p.job.source.verifyReads;
  if (!reads) throw new TableSyncError('UNSUPPORTED', `flow "${p.job.flowName}": its rows come from code, not a source table, so there is nothing to verify against`);
  return reads;
}

/** Temporary tables of steps 3; created while the transaction may still write. */
async function createVerifyTables(client: pg.ClientBase, T: Terms): Promise<void> {
  const keys = T.keys.map((t, i) => `${kc(i)} ${t.ctype}`).join(', ');
  await client.query(`CREATE TEMP TABLE ${VSRC.slice(8)} (${keys}, h int8) ON COMMIT DROP`);
  await client.query(`CREATE TEMP TABLE ${VTGT.slice(8)} (${keys}, h int8) ON COMMIT DROP`);
  await client.query(`CREATE TEMP TABLE ${DRIFT.slice(8)} (${keys}, kind text) ON COMMIT DROP`);
  const shipped = shippedOf(T);
  if (shipped.length) await client.query(`CREATE TEMP TABLE ${VRAW.slice(8)} (${keys}, hp int8, ${shipped.map((_, i) => `s${i + 1} text`).join(', ')}) ON COMMIT DROP`);
}

interface Comparison {
  sourceRows: number;
  targetRows: number;
  method: VerifyResult['method'];
  buckets?: VerifyResult['buckets'];
}

/** Steps 1–3; leaves the drift table filled (empty when equal). */
async function compareOn(client: pg.ClientBase, p: Prepared, T: Terms, reads: VerifyReads, signal?: AbortSignal): Promise<Comparison> {
  const sig = signal ? { signal } : {};
  if (shippedOf(T).length) return compareShipped(client, p, T, reads, sig);
  const [s1, t1] = await Promise.all([
    reads.query(`count(*) AS n, coalesce(bit_xor(${rowHash(T, 'src')}), 0)::text AS x`, sig),
    client.query(`SELECT count(*) AS n, coalesce(bit_xor(${rowHash(T, 'tgt')}), 0)::text AS x FROM ${p.tableRead} x`),
  ]);
  const src = s1[0]!;
  const tgt = t1.rows[0] as { n: string; x: string };
  const sourceRows = Number(src.n);
  const targetRows = Number(tgt.n);
  if (src.n === tgt.n && src.x === tgt.x) return { sourceRows, targetRows, method: 'summary' };

  const bucketSql = (side: 'src' | 'tgt') => `${bucketOf(T, side)} AS b, count(*) AS n, bit_xor(${rowHash(T, side)})::text AS x`;
  // The target's buckets should hold only the rows this flow tracks. Joining the tracking table
  // costs a hash join over the whole table; when (nearly) every row is tracked, the whole table is
  // grouped instead, and the few buckets an untracked row lands in are compared by key in step 3
  // (where only tracked rows count), which is exact either way.
  const tracked = Number((await client.query(`SELECT count(*) AS n FROM ${p.trackingRead}`)).rows[0].n);
  const fewForeign = targetRows - tracked <= VERIFY_BUCKETS / 8;
  const [s2, t2] = await Promise.all([
    reads.query(bucketSql('src'), { groupBy: '1', groupSettingsSql: GROUPED_SETTINGS_SQL, ...sig }),
    groupedOnTarget(client, `SELECT ${bucketSql('tgt')} ${fewForeign ? `FROM ${p.tableRead} x` : trackedFrom(p)} GROUP BY 1`),
  ]);
  const fold = (rows: Record<string, string | null>[]) => new Map(rows.map((r) => [Number(r.b), `${r.n}:${r.x}`]));
  const a = fold(s2);
  const b = fold(t2.rows as Record<string, string | null>[]);
  const differing = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort((x, y) => x - y);
  const buckets = { total: VERIFY_BUCKETS, differing: differing.length };
  if (differing.length === 0) return { sourceRows, targetRows, method: 'buckets', buckets };

  // Most buckets differ (an emptied or rewritten table): every key, without the bucket test.
  const only = differing.length > VERIFY_BUCKETS / 2 ? undefined : `'{${differing.join(',')}}'::int[]`;
  const srcCols = [...T.keys.map((t, i) => `${t.src} AS ${kc(i)}`), `${rowHash(T, 'src')} AS h`].join(', ');
  await loadCopyText(
    client, VSRC, [...T.keys.map((t, i) => ({ name: kc(i), type: t.ctype })), { name: 'h', type: 'int8' }],
    reads.copy(srcCols, { ...(only ? { where: `${bucketOf(T, 'src')} = ANY(${only})` } : {}), ...sig }), p.copyIn,
  );
  // Only the rows of the differing buckets probe the tracking table (by its primary key).
  await client.query(
    `INSERT INTO ${VTGT} SELECT ${T.keys.map((t) => t.tgt).join(', ')}, ${rowHash(T, 'tgt')} FROM ${p.tableRead} x
      WHERE ${only ? `${bucketOf(T, 'tgt')} = ANY(${only}) AND ` : ''}EXISTS (SELECT 1 FROM ${p.trackingRead} t WHERE ${keyEq(p, 'x', 't')})`,
  );
  await fillDrift(client, p, T);
  return { sourceRows, targetRows, method: 'buckets', buckets };
}

/**
 * Shipped columns: every source row's key, partial hash and the text of the shipped columns go to
 * the target, which finishes the hash the way it stores the values. Costs moving those columns.
 */
async function compareShipped(client: pg.ClientBase, p: Prepared, T: Terms, reads: VerifyReads, sig: { signal?: AbortSignal }): Promise<Comparison> {
  const shipped = shippedOf(T);
  const srcCols = [...T.keys.map((t, i) => `${t.src} AS ${kc(i)}`), `${partHash(T, 'src')} AS hp`, ...shipped.map((t, i) => `${t.src} AS s${i + 1}`)].join(', ');
  const sourceRows = await loadCopyText(
    client, VRAW, [...T.keys.map((t, i) => ({ name: kc(i), type: t.ctype })), { name: 'hp', type: 'int8' }, ...shipped.map((_, i) => ({ name: `s${i + 1}`, type: 'text' }))],
    reads.copy(srcCols, sig), p.copyIn,
  );
  const ks = T.keys.map((_, i) => kc(i));
  await client.query(
    `INSERT INTO ${VSRC} SELECT ${ks.join(', ')}, hash_record_extended(ROW(hp, ${shipped.map((t, i) => `(s${i + 1}::${t.ctype})::text COLLATE "C"`).join(', ')}), 0) FROM ${VRAW}`,
  );
  await client.query(
    `INSERT INTO ${VTGT} SELECT ${T.keys.map((t) => t.tgt).join(', ')}, ${rowHash(T, 'tgt')} FROM ${p.tableRead} x
      WHERE EXISTS (SELECT 1 FROM ${p.trackingRead} t WHERE ${keyEq(p, 'x', 't')})`,
  );
  const targetRows = Number((await client.query(`SELECT count(*) AS n FROM ${p.tableRead}`)).rows[0].n);
  await fillDrift(client, p, T);
  return { sourceRows, targetRows, method: 'rows' };
}

/** The drift table from the FULL JOIN of the two sides' (key, hash) tables. */
async function fillDrift(client: pg.ClientBase, p: Prepared, T: Terms): Promise<void> {
  const ks = T.keys.map((_, i) => kc(i));
  await client.query(
    `INSERT INTO ${DRIFT}
     SELECT ${ks.map((k) => `coalesce(s.${k}, g.${k})`).join(', ')}, CASE WHEN g.h IS NULL THEN 'missing' WHEN s.h IS NULL THEN 'extra' ELSE 'changed' END
       FROM ${VSRC} s FULL JOIN ${VTGT} g ON ${ks.map((k) => `s.${k} = g.${k}`).join(' AND ')}
      WHERE s.h IS DISTINCT FROM g.h`,
  );
  // A source key the target holds in a row this flow did not write: not ours to judge (left alone).
  await client.query(
    `UPDATE ${DRIFT} d SET kind = 'not-owned'
      WHERE kind = 'missing' AND EXISTS (SELECT 1 FROM ${p.tableRead} x WHERE ${T.keys.map((t, i) => `${t.tgt} = d.${kc(i)}`).join(' AND ')})`,
  );
}

/**
 * Planner settings for step 2's GROUP BY of a few thousand hash buckets, on both sides. The planner
 * takes a GROUP BY expression for one group per row: it would sort a million rows, or (with the
 * apply's large work_mem) fill one serial hash table, measured 3× slower than parallel partial hash
 * tables, which is what a few thousand groups want. Transaction-local, restored after the query.
 */
export const GROUPED_SETTINGS: Record<string, string> = { enable_sort: 'off', work_mem: '4MB', parallel_setup_cost: '0', parallel_tuple_cost: '0' };
export const GROUPED_SETTINGS_SQL = Object.entries(GROUPED_SETTINGS).map(([n, v]) => `SET LOCAL ${n} = '${v}'`).join('; ');

async function groupedOnTarget(client: pg.ClientBase, sql: string): Promise<pg.QueryResult> {
  const names = Object.keys(GROUPED_SETTINGS);
  const before = (await client.query({ text: `SELECT ${names.map((n) => `current_setting('${n}')`).join(', ')}`, rowMode: 'array' })).rows[0] as string[];
  await client.query(GROUPED_SETTINGS_SQL);
  try {
    return await client.query(sql);
  } finally {
    await client.query(`SELECT ${names.map((n, i) => `set_config('${n}', $${i + 1}, true)`).join(', ')}`, before);
  }
}

type Kind = 'changed' | 'missing' | 'extra' | 'not-owned';

async function driftCounts(client: pg.ClientBase): Promise<Record<Kind, number>> {
  const counts: Record<Kind, number> = { changed: 0, missing: 0, extra: 0, 'not-owned': 0 };
  const { rows } = await client.query(`SELECT kind, count(*) AS n FROM ${DRIFT} GROUP BY kind`);
  for (const r of rows as { kind: Kind; n: string }[]) counts[r.kind] = Number(r.n);
  return counts;
}

async function driftKeys(client: pg.ClientBase, T: Terms, kind: Kind, limit: number): Promise<Row[]> {
  const ks = T.keys.map((_, i) => kc(i));
  const { rows } = await client.query({ text: `SELECT ${ks.map((k) => `${k}::text`).join(', ')} FROM ${DRIFT} WHERE kind = $1 ORDER BY ${ks.join(', ')} LIMIT ${limit}`, values: [kind], rowMode: 'array' });
  return rows as Row[];
}

/** Cells for the first few rows: the target's row and the source's as the target would store it. */
async function details(client: pg.ClientBase, p: Prepared, T: Terms, keys: Row[], want: { before: boolean; after: boolean }): Promise<VerifyRow[]> {
  const keyObj = (k: Row) => Object.fromEntries(T.keys.map((t, i) => [t.col.name, k[i] ?? null]));
  const id = (k: Row) => JSON.stringify(k);
  const few = keys.slice(0, DETAIL_LIMIT);
  let before = new Map<string, Record<string, string | null>>();
  const after = new Map<string, Record<string, string | null>>();
  try {
    if (want.before && few.length) {
      // Under a savepoint: a failed read must not abort the caller's transaction.
      await client.query('SAVEPOINT tablesync_verify_cells');
      try {
        for (const [k, r] of await targetRows(client, p, few)) before.set(k, r);
        await client.query('RELEASE SAVEPOINT tablesync_verify_cells');
      } catch (e) {
        await client.query('ROLLBACK TO SAVEPOINT tablesync_verify_cells');
        throw e;
      }
    }
    if (want.after && few.length) {
      for await (const row of p.job.source.readRowsByKeys(few)) {
        const rec = Object.fromEntries(p.columns.map((c, i) => [c.name, row[i] ?? null]));
        after.set(JSON.stringify(p.keyColumns.map((k) => rec[k.name] ?? null)), rec);
      }
      await renderAsTarget(client, p, after);
    }
  } catch {
    // Cells are a courtesy (a key whose text the other side cannot parse): the keys still stand.
    before = new Map();
    after.clear();
  }
  return keys.map((k, i) => {
    const row: VerifyRow = { key: keyObj(k) };
    if (i >= DETAIL_LIMIT) return row;
    // targetRows keys its map by the asked key's text; the source rows by the source's.
    const b = before.get(id(k));
    const a = after.get(id(k));
    if (b) row.before = b;
    if (a) row.after = a;
    if (a && b) row.changed = p.columns.filter((c) => (a[c.name] ?? null) !== (b[c.name] ?? null)).map((c) => c.name);
    return row;
  });
}

/** Verify a job on a target connection (which this leaves as it found it). */
export async function verifyOn(client: pg.ClientBase, job: SyncJob, opts: { signal?: AbortSignal; listLimit?: number } = {}): Promise<VerifyResult> {
  const started = performance.now();
  await tuneSession(client);
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
  try {
    await tuneTransaction(client);
    const p = await prepare(client, job);
    const reads = assertVerifiable(p);
    const T = await buildTerms(client, p, reads);
    await createVerifyTables(client, T);
    await client.query('SET TRANSACTION READ ONLY');
    const cmp = await compareOn(client, p, T, reads, opts.signal);
    const counts = await driftCounts(client);
    const limit = opts.listLimit ?? VERIFY_LIST_LIMIT;
    const list = async (kind: Kind, want: { before: boolean; after: boolean }) => details(client, p, T, await driftKeys(client, T, kind, limit), want);
    const changed = await list('changed', { before: true, after: true });
    const missing = await list('missing', { before: false, after: true });
    const extra = await list('extra', { before: true, after: false });
    const notOwned = await list('not-owned', { before: false, after: false });
    const warnings: string[] = [];
    if (shippedOf(T).length) warnings.push(`compared row by row: ${shippedOf(T).map((t) => `column "${t.col.name}" (${t.ctype})`).join(', ')} has a type the source server does not have, so its source text was sent to the target to be cast there (this verify moved that column's data)`);
    if (T.unverified.length) warnings.push(`not compared: ${T.unverified.map((u) => `column "${u.column}" (${u.reason})`).join('; ')}`);
    return {
      flow: job.flowName,
      equal: counts.changed + counts.missing + counts.extra === 0,
      sourceRows: cmp.sourceRows,
      targetRows: cmp.targetRows,
      counts: { changed: counts.changed, missing: counts.missing, extra: counts.extra, notOwned: counts['not-owned'] },
      changed, missing, extra, notOwned,
      truncated: Object.values(counts).some((n) => n > limit),
      method: cmp.method,
      ...(cmp.buckets ? { buckets: cmp.buckets } : {}),
      unverifiedColumns: T.unverified,
      warnings,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await client.query('ROLLBACK').catch(() => {});
  }
}

/**
 * apply --repair, inside the apply's transaction after the scan and the diff (before the row phase):
 * verify the target, then add the changed and missing rows that are tracked to the changed set, so
 * the row phase re-reads and rewrites (or reinserts) exactly them. Extra rows are tracked keys the
 * scan lacks, which the row phase deletes anyway. A flow whose tracking is not comparable re-checks
 * every row in this apply already, so there is nothing to add: undefined.
 */
export async function repairDrift(client: pg.ClientBase, p: Prepared, diff: RowCounts, signal?: AbortSignal): Promise<{ diff: RowCounts; repaired: { changed: number; missing: number; extra: number } } | undefined> {
  if (!p.trackingExists || !p.comparable) return undefined;
  const reads = assertVerifiable(p);
  const T = await buildTerms(client, p, reads);
  await createVerifyTables(client, T);
  await compareOn(client, p, T, reads, signal);
  const counts = await driftCounts(client);
  if (counts.changed + counts.missing === 0) return { diff, repaired: { changed: 0, missing: 0, extra: counts.extra } };
  // Scan keys are the source's types; drift keys the compared types (see buildTerms).
  const match = T.keys.map((t, i) => `${t.ctype === t.col.stagingType ? `s.${q(t.col.name)}` : `s.${q(t.col.name)}::${t.ctype}`} = d.${kc(i)}`).join(' AND ');
  const r = await client.query(
    `WITH added AS (
       INSERT INTO ${CHANGED}
       SELECT s.*, true, (SELECT coalesce(max(${q(p.names.rn)}), 0) FROM ${CHANGED}) + row_number() OVER ()
         FROM ${SCAN} s JOIN ${DRIFT} d ON ${match}
        WHERE d.kind IN ('changed', 'missing')
          AND EXISTS (SELECT 1 FROM ${p.trackingRead} t WHERE ${keyEqCast(p, 't', 's')})
          AND NOT EXISTS (SELECT 1 FROM ${CHANGED} c WHERE ${keyEq(p, 'c', 's')})
       RETURNING 1)
     SELECT count(*) AS n FROM added`,
  );
  const added = Number((r.rows[0] as { n: string }).n);
  return {
    diff: { ...diff, update: diff.update + added, unchanged: Math.max(0, diff.unchanged - added) },
    repaired: { changed: counts.changed, missing: counts.missing, extra: counts.extra },
  };
}
