/**
 * TableSync's own long work (a load, a scan, a catch-up, a verify, a watch's session) runs without
 * the server's statement and idle timeouts, as pg_dump and pg_restore do. A database or role set up
 * with `statement_timeout = 30s` (a common guard against runaway application queries) would cancel
 * every sync of a large table, and `idle_in_transaction_session_timeout` would end an apply whose
 * transaction waits while its parallel streams load. `lock_timeout` is kept: it stops our DDL from
 * queueing behind (and in front of) the applications' own work. README "Decisions".
 */

/** For a transaction of ours: `SET LOCAL` (BEGIN first). */
export const LONG_WORK_SQL = 'SET LOCAL statement_timeout = 0; SET LOCAL idle_in_transaction_session_timeout = 0';

/**
 * For a session of ours for a while (the flow lock's connection: an apply, a watch), the same and
 * `idle_session_timeout` (PostgreSQL 14+; a watch's connection sits idle between batches), each
 * only where the server has it. One statement, no parameters (usable as a scalar sub-select); RESET ALL undoes it.
 */
export const LONG_WORK_SESSION_SQL = `SELECT count(set_config(name, '0', false)) FROM pg_settings WHERE name IN ('statement_timeout', 'idle_in_transaction_session_timeout', 'idle_session_timeout')`;
