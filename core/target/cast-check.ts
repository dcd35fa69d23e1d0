/**
 * Will every source value fit its target column? A type override (text → integer), a narrower key
 * (integer → smallint) or a target type of the user's (an enum missing a label, a domain with a
 * CHECK) can refuse some values, and apply would then fail half-way into its merge with
 * PostgreSQL's bare "invalid input syntax" and no column. The plan finds them first, set-based:
 *
 * 1. Risky columns only. A cast that cannot fail (same built-in type, anything to a text type,
 *    integer widening) is skipped; so are vectors (same pgvector on both ends).
 * 2. Built-in target types are the same type on both servers, so the SOURCE tries the cast itself
 *    in one read-only aggregate over the filtered rows (`count(col::integer)`, one query for all
 *    such columns): when it succeeds, which is the common case, no value crossed the wire.
 * 3. Otherwise (a type that exists only in the target, or a value that refused on the source) the
 *    source groups each risky column's distinct values (one GROUPING SETS query, one scan for all
 *    columns: an enum column sends a handful of rows, not the table) into a temporary table on the
 *    TARGET, where the target type lives. There one statement per column tries the whole cast;
 *    only when that fails are the failing values counted: with `pg_input_is_valid` on PostgreSQL
 *    16+ where text input decides, else through a small temporary PL/pgSQL function that tries the
 *    exact cast apply will run (PostgreSQL 15 has no pg_input_is_valid; the function's exception
 *    block costs a subtransaction per distinct value, so it only runs on this failure path).
 * 4. Each failing column becomes a blocker naming the column, how many rows fail, and a sample key
 *    and value with the server's own error for it.
 *
 * Temporary objects are created before a plan's transaction turns READ ONLY (see plan.ts) and go
 * with its rollback.
 */
import type pg from 'pg';
import { qualifiedName, quoteIdent, quoteLiteral } from '../sql/ident';
import type { Blocker, Prepared } from './prepare';
import { pgErrorFields } from '../errors';
import type { TargetColumn } from './target-columns';
import { loadCopyText } from './copy-in';
import type { SyncJob } from './job';
import { prepare } from './prepare';
import { tuneTransaction } from './rows';

const VALUES = 'pg_temp._tablesync_cast_values';

/** A column whose source values might not all fit its target type. */
export interface CastRisk {
  column: TargetColumn;
  /** Position in the values table (`i`) and suffix of its checking function. */
  index: number;
  /** The source can try the cast itself (built-in target type, no user type on the way). */
  sourceSide: boolean;
  /** How the target decides per value: text input (pg_input_is_valid, PG 16+) or the try function. */
  method: 'input' | 'function';
}

interface TypeFacts {
  builtin: boolean;
  /** An enum or a domain, or an array of one: its accepted values are the target's own. */
  userDefined: boolean;
  textLike: boolean;
}

/** Casts between built-in types that accept every value of the source type. */
const WIDENING = new Set([
  'smallint>integer', 'smallint>bigint', 'smallint>numeric', 'smallint>double precision', 'smallint>real',
  'integer>bigint', 'integer>numeric', 'integer>double precision',
  'bigint>numeric', 'real>double precision',
  'date>timestamp without time zone', 'date>timestamp with time zone',
  'timestamp without time zone>timestamp with time zone', 'timestamp with time zone>timestamp without time zone',
  'json>text', 'jsonb>json', 'uuid>text',
]);

async function typeFacts(client: pg.ClientBase, types: string[]): Promise<Map<string, TypeFacts>> {
  const { rows } = await client.query(
    `SELECT x.n, t.oid < 16384 AS builtin, t.typtype::text AS typtype, t.typcategory::text AS cat,
            e.typtype::text AS elem_typtype
       FROM unnest($1::text[]) AS x(n)
       LEFT JOIN pg_type t ON t.oid = to_regtype(x.n)
       LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'`,
    [types],
  );
  const out = new Map<string, TypeFacts>();
  for (const r of rows as { n: string; builtin: string | null; typtype: string | null; cat: string | null; elem_typtype: string | null }[]) {
    out.set(r.n, {
      builtin: r.builtin === 't',
      userDefined: r.typtype === 'e' || r.typtype === 'd' || r.elem_typtype === 'e' || r.elem_typtype === 'd',
      textLike: r.cat === 'S' && r.builtin === 't' && r.typtype === 'b',
    });
  }
  return out;
}

/** The columns to check, with how (reads the target catalog only). */
export async function castRisks(client: pg.ClientBase, p: Prepared): Promise<CastRisk[]> {
  if (!p.job.source.verifyReads) return []; // rows from code: nothing to ask a source server
  const candidates = p.columns.filter((c) =>
    !c.needsOverride && !c.isVector && !vectorish(c.stagingType)
    && !p.blockers.some((b) => b.message.includes(`"${c.sourceName}"`)));
  if (candidates.length === 0) return [];
  const facts = await typeFacts(client, [...new Set(candidates.flatMap((c) => [c.type, c.stagingType]))]);
  const v16 = Number((await client.query(`SELECT current_setting('server_version_num') AS v`)).rows[0].v) >= 160000;
  const risks: CastRisk[] = [];
  for (const c of candidates) {
    const to = facts.get(c.type);
    const from = facts.get(c.stagingType);
    if (!to || !from) continue;
    const same = c.stagingType === c.type;
    if (same && !to.userDefined) continue;
    if (!same && !to.userDefined && !from.userDefined && (to.textLike || WIDENING.has(`${baseName(c.stagingType)}>${baseName(c.type)}`) || (c.type === 'numeric' && /^numeric/.test(c.stagingType)))) continue;
    const byInput = v16 && (same || from.textLike);
    risks.push({ column: c, index: risks.length, sourceSide: to.builtin && !to.userDefined && !from.userDefined, method: byInput ? 'input' : 'function' });
  }
  return risks;
}

const vectorish = (t: string) => /^(?:public\.)?(vector|halfvec|sparsevec)\b/i.test(t);
const baseName = (t: string) => t.replace(/\(.*\)$/, '').trim();

/** Temporary objects the check needs; call before the plan's transaction turns READ ONLY. */
export async function createCastObjects(client: pg.ClientBase, risks: CastRisk[]): Promise<void> {
  if (risks.length === 0) return;
  await client.query(`CREATE TEMP TABLE ${VALUES.slice(8)} (i int, v text, n bigint) ON COMMIT DROP`);
  for (const r of risks) {
    if (r.method !== 'function') continue;
    // The exact cast apply runs (COPY text → staging type → target type), tried per value.
    await client.query(
      `CREATE FUNCTION pg_temp.${fnName(r)}(v text) RETURNS boolean LANGUAGE plpgsql AS $fn$
       BEGIN PERFORM (v::${r.column.stagingType})::${r.column.type}; RETURN true;
       EXCEPTION WHEN others THEN RETURN false; END $fn$`,
    );
  }
}

const fnName = (r: CastRisk) => `_tablesync_cast_ok_${r.index}`;

/** The source-side text of a column's value, as COPY would send it. */
const sourceText = (c: TargetColumn) => `(${quoteIdent(c.sourceName)})::text`;

/** How the source tries the cast: the same expression the target would evaluate on its text. */
const sourceCast = (c: TargetColumn) => (c.stagingType === 'text' ? `(${sourceText(c)})::${c.type}` : `(${quoteIdent(c.sourceName)})::${c.type}`);

/**
 * Run the check (after the temporary objects exist); a blocker per column where some value does not
 * fit. `signal` cancels the source reads.
 */
export async function checkCasts(client: pg.ClientBase, p: Prepared, risks: CastRisk[], opts: { signal?: AbortSignal } = {}): Promise<Blocker[]> {
  const reads = p.job.source.verifyReads;
  if (!reads || risks.length === 0) return [];
  const sig = opts.signal ? { signal: opts.signal } : {};
  // 1. The source tries built-in casts itself: one aggregate for all, per column only when it fails.
  const onSource = risks.filter((r) => r.sourceSide);
  const clean = new Set<CastRisk>();
  const trySource = async (rs: CastRisk[]) => {
    try {
      await reads.query(rs.map((r, i) => `count(${sourceCast(r.column)}) AS c${i}`).join(', '), sig);
      return true;
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      return false;
    }
  };
  if (onSource.length > 0) {
    if (await trySource(onSource)) onSource.forEach((r) => clean.add(r));
    else if (onSource.length > 1) for (const r of onSource) if (await trySource([r])) clean.add(r);
  }
  const toTarget = risks.filter((r) => !clean.has(r));
  if (toTarget.length === 0) return [];

  // 2. Distinct values of the rest, one scan, into the target's temporary table.
  const exprs = toTarget.map((r) => sourceText(r.column));
  const which = `CASE ${toTarget.map((r, i) => `WHEN GROUPING(${exprs[i]}) = 0 THEN ${r.index}`).join(' ')} END`;
  await loadCopyText(
    client, VALUES, [{ name: 'i', type: 'int' }, { name: 'v', type: 'text' }, { name: 'n', type: 'bigint' }],
    reads.copy(`${which}, COALESCE(${exprs.join(', ')}), count(*)`, { ...sig, groupBy: `GROUPING SETS (${exprs.map((e) => `(${e})`).join(', ')})` }),
    p.copyIn,
  );

  // 3. Per column: the whole cast at once; count the failures only when it refuses.
  const blockers: Blocker[] = [];
  for (const r of toTarget) {
    const c = r.column;
    const cast = `(v::${c.stagingType})::${c.type}`;
    if (await attempt(client, `SELECT count(${cast}) FROM ${VALUES} WHERE i = ${r.index} AND v IS NOT NULL`)) continue;
    const valid = r.method === 'input'
      ? (c.stagingType === c.type ? `pg_input_is_valid(v, ${quoteLiteral(c.type)})` : `pg_input_is_valid(v, ${quoteLiteral(c.stagingType)}) AND pg_input_is_valid(v, ${quoteLiteral(c.type)})`)
      : `pg_temp.${fnName(r)}(v)`;
    const { rows } = await client.query(
      `SELECT coalesce(sum(n), 0)::text AS rows, count(*)::text AS vals, min(v) AS sample
         FROM ${VALUES} WHERE i = ${r.index} AND v IS NOT NULL AND NOT (${valid})`,
    );
    const f = rows[0] as { rows: string; vals: string; sample: string | null };
    if (f.sample === null) continue; // refused as a whole but no single value: leave it to apply
    const reason = await castError(client, c, f.sample);
    const keyRow = (await reads.query(`${p.job.source.keyColumns.map((k) => `${quoteIdent(k.name)}::text AS ${quoteIdent(k.name)}`).join(', ')}`, { ...sig, where: `${sourceText(c)} = ${quoteLiteral(f.sample)}`, limit: 1 }))[0];
    const key = keyRow ? Object.fromEntries(p.job.source.keyColumns.map((k) => [k.name, keyRow[k.name] ?? null])) : {};
    const n = Number(f.rows);
    const keyText = Object.entries(key).map(([k, v]) => `${k}=${v}`).join(', ');
    const kind = c.keyPosition !== null ? 'key column' : 'column';
    const fix = c.overridden ? `choose another type in target.columns."${c.sourceName}".type` : `override its type in target.columns."${c.sourceName}".type${/enum|label/i.test(reason) ? ' (e.g. text), or add the missing labels to the target\'s type' : ''}`;
    blockers.push({
      code: 'UNSUPPORTED',
      message: `${kind} "${c.sourceName}": ${n} row${n === 1 ? '' : 's'} of the source ${n === 1 ? 'has a value' : 'have values'} that cannot be stored as ${c.type} in ${qualifiedName(p.job.target.schema, p.job.target.table)}`
        + ` (for example ${keyText ? `${keyText}: ` : ''}${JSON.stringify(f.sample)}: ${reason}); change or filter out those rows, or ${fix}`,
      column: c.sourceName,
      failingRows: n,
      sample: { key, value: f.sample },
    });
  }
  return blockers;
}

async function attempt(client: pg.ClientBase, sql: string): Promise<boolean> {
  await client.query('SAVEPOINT tablesync_cast_check');
  try {
    await client.query(sql);
    await client.query('RELEASE SAVEPOINT tablesync_cast_check');
    return true;
  } catch {
    await client.query('ROLLBACK TO SAVEPOINT tablesync_cast_check');
    await client.query('RELEASE SAVEPOINT tablesync_cast_check');
    return false;
  }
}

/** The server's own words for one value's refusal. */
async function castError(client: pg.ClientBase, c: TargetColumn, value: string): Promise<string> {
  await client.query('SAVEPOINT tablesync_cast_check');
  try {
    await client.query(`SELECT ($1::text::${c.stagingType})::${c.type}`, [value]);
    return 'refused';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    await client.query('ROLLBACK TO SAVEPOINT tablesync_cast_check');
    await client.query('RELEASE SAVEPOINT tablesync_cast_check');
  }
}

/** SQLSTATEs of a value that did not fit its type: data exceptions (class 22) and a domain's CHECK. */
export function isValueFailure(e: unknown): boolean {
  const seen = new Set<unknown>();
  for (let cur: unknown = e; cur && !seen.has(cur); cur = (cur as { cause?: unknown }).cause) {
    seen.add(cur);
    const state = pgErrorFields(cur)?.code ?? ((cur as { detail?: { sqlstate?: unknown } }).detail?.sqlstate as string | undefined);
    if (typeof state === 'string' && (state.startsWith('22') || state === '23514')) return true;
  }
  return false;
}

/**
 * After an apply failed on a value (and rolled back): which columns, rows and values were to blame.
 * Runs the plan's check in a transaction of its own, rolled back.
 */
export async function diagnoseCasts(client: pg.ClientBase, job: SyncJob): Promise<Blocker[]> {
  await client.query('BEGIN');
  try {
    await tuneTransaction(client);
    const p = await prepare(client, job);
    const risks = await castRisks(client, p);
    await createCastObjects(client, risks);
    return await checkCasts(client, p, risks);
  } finally {
    await client.query('ROLLBACK').catch(() => {});
  }
}
