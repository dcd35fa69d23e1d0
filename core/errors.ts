/**
 * Every failure the engine reports to a person goes through TableSyncError: a stable `code`
 * (the API contract and the CLI's exit status depend on it), a message that names the problem
 * (table, column, SQL position), and optional structured `detail`.
 */
export const ERROR_CODES = [
  'INVALID_INPUT', // the flow or a request is malformed (exit 2)
  'NOT_FOUND', // schema, table, column, flow or connection that does not exist (exit 2)
  'NO_PRIMARY_KEY', // a source relation without a primary key (exit 2)
  'UNSUPPORTED', // a view, a wrong-typed ordinal column, a type that needs an override (exit 2)
  'FILTER_INVALID', // the user's filter SQL was rejected by PostgreSQL or by our checks (exit 2)
  'PERMISSION_DENIED', // missing privilege (exit 2: nothing written, the user must act)
  'PGVECTOR_MISSING', // the target server has no pgvector extension available (exit 2)
  'INCOMPATIBLE_TARGET', // user-managed target table missing or with incompatible columns (exit 2)
  'DESTRUCTIVE_NOT_ALLOWED', // the plan has destructive steps and the apply did not allow them (exit 2)
  'PLAN_STALE', // the plan no longer describes the world; recompute
  'LOCKED', // another writer holds the flow's advisory lock
  'CONNECTION_FAILED', // cannot reach or authenticate to a server
  'CANCELLED', // the user cancelled
  'INTERNAL', // anything else
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes that mean "your input is wrong, nothing was written": the CLI exits 2 for these. */
export const INPUT_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'INVALID_INPUT', 'NOT_FOUND', 'NO_PRIMARY_KEY', 'UNSUPPORTED', 'FILTER_INVALID',
  'PERMISSION_DENIED', 'PGVECTOR_MISSING', 'INCOMPATIBLE_TARGET', 'DESTRUCTIVE_NOT_ALLOWED',
]);

export class TableSyncError extends Error {
  override readonly name = 'TableSyncError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly detail?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isTableSyncError(e: unknown): e is TableSyncError {
  return e instanceof TableSyncError;
}

/** Fields of a PostgreSQL error (pg's DatabaseError) that are worth carrying to the user. */
export interface PgErrorFields {
  code?: string;
  position?: string;
  detail?: string;
  hint?: string;
  schema?: string;
  table?: string;
  column?: string;
}

export function pgErrorFields(e: unknown): PgErrorFields | undefined {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    const { code, position, detail, hint, schema, table, column } = e as PgErrorFields;
    return { code, position, detail, hint, schema, table, column };
  }
  return undefined;
}

/** Turn anything thrown into a TableSyncError, mapping PostgreSQL SQLSTATEs to our codes. */
export function toTableSyncError(e: unknown, context?: string): TableSyncError {
  if (e instanceof TableSyncError) return e;
  const pg = pgErrorFields(e);
  const msg = e instanceof Error ? e.message : String(e);
  const prefix = context ? `${context}: ` : '';
  if (pg?.code) {
    const state = pg.code;
    let code: ErrorCode = 'INTERNAL';
    if (state === '42501') code = 'PERMISSION_DENIED';
    else if (state === '3F000' || state === '42P01' || state === '42703' || state === '3D000') code = 'NOT_FOUND';
    else if (state.startsWith('08') || state === '28P01' || state === '28000' || state === '57P03') code = 'CONNECTION_FAILED';
    else if (state === '57014') code = 'CANCELLED';
    // read_only_sql_transaction: retrying cannot help (a watch would reconnect forever)
    else if (state === '25006') code = 'UNSUPPORTED';
    // lock_not_available: the server's (database's, role's) lock_timeout, which TableSync keeps (core/sql/long-work.ts)
    const why = state === '55P03' && /lock timeout/.test(msg) ? ' (another session holds a lock this needs, and lock_timeout is set for this server, database or role: retry when it is released, or raise lock_timeout)'
      : state === '25006' ? ' (this database is read-only: default_transaction_read_only is on for its server, database or role, or it is a standby in recovery; TableSync writes there only what this step needs, and does not override that: point it at a primary, or at a database where it may write)'
        : '';
    return new TableSyncError(code, `${prefix}${msg}${why}`, { sqlstate: state, ...stripUndefined(pg) }, { cause: e });
  }
  const sys = e as { code?: unknown };
  if (typeof sys?.code === 'string' && /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|EPIPE)$/.test(sys.code)) {
    return new TableSyncError('CONNECTION_FAILED', `${prefix}${msg}`, { errno: sys.code }, { cause: e });
  }
  return new TableSyncError('INTERNAL', `${prefix}${msg}`, undefined, { cause: e });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
