/**
 * Checking a user's filter before anything runs it. The filter is SQL by design (reference doc
 * 000: "added as a WHERE clause"), so it is only ever executed inside READ ONLY transactions, and
 * validated here first, over the extended protocol, where PostgreSQL itself refuses more than one
 * statement ("cannot insert multiple commands into a prepared statement"). That matters because the
 * bulk read is a COPY, which goes over the simple protocol and would run a second statement.
 *
 * What the check does, all inside one `BEGIN READ ONLY` that is rolled back:
 * 1. `SELECT FROM t WHERE (filter) LIMIT 0`, the same wrapping every real query uses
 *    (source-sql.ts): parse and plan errors (syntax, unknown column, non-boolean result, a
 *    parenthesis that closes the WHERE early) come back with PostgreSQL's message and a position,
 *    mapped into the filter's own text.
 * 2. The filter evaluated once on a row of NULLs without reading the table
 *    (`FROM t RIGHT JOIN (SELECT) ON false`), and once on the first row of the table, if any.
 *    Planning alone never executes a function, so this is what makes a write such as
 *    `nextval('seq') > 0` fail here, with the read-only error, instead of later. We chose
 *    execution over a volatility check in pg_proc: random() and now() are volatile yet harmless,
 *    and what matters is writing, which only PostgreSQL's read-only guard decides reliably. A write
 *    hidden behind a branch neither row takes (`CASE WHEN id = 42 THEN nextval(…) …`) is still
 *    stopped at sync time by the same guard, since every read runs READ ONLY.
 * READ ONLY still lets a few things through: advisory locks (refused here when the filter takes
 * one), notifications and set_config (undone by ending every read with a rollback, see
 * END_READ_ONLY_SQL).
 * Short lock and statement timeouts keep the check from waiting behind a DDL lock or a slow filter.
 */
import type pg from 'pg';
import { pgErrorFields, TableSyncError, toTableSyncError } from '../errors';
import { qualifiedName } from '../sql/ident';
import { RAW_TYPES } from '../connections/pool';
import { connect, END_READ_ONLY_SQL } from './read-only';
import { filterSql } from './source-sql';
import { calledFunctions, filterDependence, planConditions } from './filter-dependence';

/** `dependsOn`: what besides the row the verdict depends on (filter-dependence.ts), when anything. */
export type FilterCheck = { ok: true; dependsOn?: string } | { ok: false; message: string; position?: number; sqlstate?: string };

const READ_ONLY_SQLSTATE = '25006';
const LOCK_TIMEOUT_SQLSTATE = '55P03';
const STATEMENT_TIMEOUT_SQLSTATE = '57014';

/**
 * Validate `filter` against `schema.table`. A blank filter is valid (it means no filter).
 * `position` is 1-based, in characters of the filter (as PostgreSQL counts them).
 * @example await validateFilter(pool, 'public', 'products', 'price > 0') // { ok: true }
 */
export async function validateFilter(pool: pg.Pool, schema: string, table: string, filter: string): Promise<FilterCheck> {
  if (filter.trim() === '') return { ok: true };
  if (filter.includes('\0')) return { ok: false, message: 'the filter contains a NUL character' };
  const rel = qualifiedName(schema, table);
  const wrapped = filterSql(filter);
  // Each statement's text up to the filter, for mapping the server's position back.
  const checks: { prefix: string; suffix: string }[] = [
    { prefix: `SELECT FROM ${rel} WHERE ${wrapped.slice(0, 2)}`, suffix: `${wrapped.slice(-2)} LIMIT 0` },
    { prefix: `SELECT ${wrapped.slice(0, 2)}`, suffix: `${wrapped.slice(-2)}::boolean FROM ${rel} RIGHT JOIN (SELECT) AS "tablesync one row" ON false` },
    { prefix: `SELECT ${wrapped.slice(0, 2)}`, suffix: `${wrapped.slice(-2)}::boolean FROM ${rel} LIMIT 1` },
  ];
  const client = await connect(pool);
  let broken = false;
  try {
    await client.query("BEGIN READ ONLY; SET LOCAL lock_timeout = '5s'; SET LOCAL statement_timeout = '30s'");
    for (const [i, { prefix, suffix }] of checks.entries()) {
      try {
        await client.query({ text: prefix + filter + suffix, queryMode: 'extended', types: RAW_TYPES } as pg.QueryConfig);
      } catch (e) {
        // The session died while the filter ran (checks 2 and 3 execute it): when the server is
        // still there for a new session, the filter ended its own (pg_terminate_backend(pg_backend_pid())).
        if (i > 0 && sessionLost(e)) {
          broken = true;
          if (await serverAnswers(pool)) {
            return { ok: false, message: 'the filter ended its own database session (for example with pg_terminate_backend(pg_backend_pid())); a filter must only test rows', sqlstate: pgErrorFields(e)?.code ?? '57P01' };
          }
        }
        return describeFailure(e, prefix, filter);
      }
    }
    // READ ONLY lets advisory locks through; a filter that takes one would hold up other sessions.
    const locks = await client.query<{ n: string }>({ text: "SELECT count(*) AS n FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'", types: RAW_TYPES });
    if (locks.rows[0]?.n !== '0') return { ok: false, message: 'the filter must not take locks: it took an advisory lock' };
    // what the verdict depends on besides the row: the server's own plan of it
    const explained = await client.query<{ p: string }>({ text: `EXPLAIN (VERBOSE, FORMAT JSON) ${checks[0]!.prefix}${filter}${checks[0]!.suffix}`, queryMode: 'extended', types: RAW_TYPES } as pg.QueryConfig);
    const conds = planConditions(JSON.parse(Object.values(explained.rows[0] as Record<string, string>)[0]!));
    const called = calledFunctions(conds.conditions);
    const mutable = called.length === 0 ? [] : (await client.query<{ f: string }>({
      text: `SELECT DISTINCT lower(proname) AS f FROM pg_proc WHERE lower(proname) = ANY($1::text[]) AND pronamespace <> 'pg_catalog'::regnamespace AND provolatile <> 'i' ORDER BY 1`,
      values: [called], types: RAW_TYPES,
    })).rows.map((r) => r.f);
    const dependsOn = filterDependence(conds, mutable);
    return dependsOn ? { ok: true, dependsOn } : { ok: true };
  } finally {
    await client.query(END_READ_ONLY_SQL).catch(() => { broken = true; });
    client.release(broken);
  }
}

/** The session is gone: terminated by the server (57P01…), or the socket closed under the query. */
function sessionLost(e: unknown): boolean {
  const code = pgErrorFields(e)?.code;
  if (code) return code === '57P01' || code === '57P02' || code.startsWith('08');
  return /connection terminated|terminating connection|ECONNRESET|EPIPE/i.test(e instanceof Error ? e.message : String(e));
}

/** A new session gets an answer (so the server did not go down: our session was ended). */
async function serverAnswers(pool: pg.Pool): Promise<boolean> {
  try {
    await pool.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

function describeFailure(e: unknown, prefix: string, filter: string): FilterCheck {
  const pg = pgErrorFields(e);
  if (!pg?.code) throw toTableSyncError(e, 'validating the filter');
  const raw = e instanceof Error ? e.message : String(e);
  // Not the filter's fault: a lock held by someone else, a lost connection. Say so instead of
  // calling the filter invalid.
  if (pg.code === LOCK_TIMEOUT_SQLSTATE) throw new TableSyncError('LOCKED', `cannot validate the filter now: another session holds a lock on the table (${raw})`, { sqlstate: pg.code }, { cause: e });
  if (pg.code.startsWith('08') || pg.code.startsWith('57P')) throw toTableSyncError(e, 'validating the filter');
  const message = pg.code === READ_ONLY_SQLSTATE ? `the filter must not write: ${raw}`
    : pg.code === STATEMENT_TIMEOUT_SQLSTATE ? `the filter is too slow to check (more than 30 s on one row): ${raw}`
    : raw;
  const out: { ok: false; message: string; position?: number; sqlstate?: string } = { ok: false, message, sqlstate: pg.code };
  if (pg.position) {
    const length = [...filter].length;
    const pos = Number(pg.position) - [...prefix].length;
    out.position = Math.min(Math.max(pos, 1), length + 1);
  }
  return out;
}

/** validateFilter, throwing FILTER_INVALID with the message and position when it fails. */
export async function assertValidFilter(pool: pg.Pool, schema: string, table: string, filter: string): Promise<{ dependsOn?: string }> {
  const check = await validateFilter(pool, schema, table, filter);
  if (check.ok) return check.dependsOn ? { dependsOn: check.dependsOn } : {};
  const at = check.position !== undefined ? ` (at character ${check.position} of the filter)` : '';
  throw new TableSyncError('FILTER_INVALID', `filter on ${qualifiedName(schema, table)} is invalid: ${check.message}${at}`, {
    filter,
    ...(check.position !== undefined ? { position: check.position } : {}),
    ...(check.sqlstate ? { sqlstate: check.sqlstate } : {}),
  });
}
