/**
 * One writer per flow (DESIGN §7): apply, watch and drop hold a session-level advisory lock in the
 * TARGET database keyed by the flow's name, so two processes on any machines never write the same
 * flow at once. The lock lives on one connection, and the work runs on that same connection: a
 * PGlite target serves a single connection, so holding a second one would deadlock.
 */
import type pg from 'pg';
import { TableSyncError } from '../errors';

/** 64-bit advisory key for a flow, as a signed decimal string (FNV-1a over "tablesync:" + name). */
export function flowLockKey(flowName: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(`tablesync:${flowName}`, 'utf8')) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return BigInt.asIntN(64, h);
}

export interface LockHolder {
  pid: number | null;
  applicationName: string | null;
  clientAddr: string | null;
  backendStart: string | null;
}

/** Who holds the flow's lock right now (null when nobody). */
export async function lockHolder(client: pg.ClientBase, flowName: string): Promise<LockHolder | null> {
  const key = BigInt.asUintN(64, flowLockKey(flowName));
  const classid = (key >> 32n).toString();
  const objid = (key & 0xffffffffn).toString();
  const { rows } = await client.query(
    `SELECT a.pid, a.application_name, a.client_addr::text AS client_addr, a.backend_start::text AS backend_start
       FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid AND l.objid = $2::oid AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      LIMIT 1`,
    [classid, objid],
  );
  const r = rows[0] as { pid: string | null; application_name: string | null; client_addr: string | null; backend_start: string | null } | undefined;
  if (!r) return null;
  return { pid: r.pid === null ? null : Number(r.pid), applicationName: r.application_name, clientAddr: r.client_addr, backendStart: r.backend_start };
}

export interface FlowLockOptions {
  /** Wait for the lock instead of failing with LOCKED (default false). */
  wait?: boolean;
}

/**
 * Run `fn` while holding the flow's advisory lock, on the connection that holds it. Fails with
 * LOCKED (saying who holds it) when another session has it and `wait` is not set.
 * @example await withFlowLock(targetPool, 'products_search', (client) => applyFlow({ ...ctx, targetClient: client }, {}))
 */
export async function withFlowLock<T>(
  targetPool: pg.Pool,
  flowName: string,
  fn: (client: pg.PoolClient) => Promise<T>,
  opts: FlowLockOptions = {},
): Promise<T> {
  const client = await targetPool.connect();
  let broken = false;
  try {
    const key = flowLockKey(flowName).toString();
    if (opts.wait) {
      await client.query('SELECT pg_advisory_lock($1::int8)', [key]);
    } else {
      const { rows } = await client.query('SELECT pg_try_advisory_lock($1::int8) AS ok', [key]);
      if ((rows[0] as { ok: string }).ok !== 't') {
        const who = await lockHolder(client, flowName);
        const desc = who
          ? `${who.applicationName || 'unknown application'}${who.clientAddr ? ` from ${who.clientAddr}` : ''} (pid ${who.pid}, connected since ${who.backendStart})`
          : 'another session';
        throw new TableSyncError('LOCKED', `flow "${flowName}" is being written by ${desc}; try again when it is done`, { holder: who });
      }
    }
    try {
      return await fn(client);
    } finally {
      try {
        await client.query('SELECT pg_advisory_unlock($1::int8)', [key]);
      } catch {
        broken = true;
      }
    }
  } catch (e) {
    // Anything but a clean refusal may have left the connection dead or mid-transaction.
    if (!(e instanceof TableSyncError) || e.code === 'INTERNAL' || e.code === 'CONNECTION_FAILED' || e.code === 'CANCELLED') broken = true;
    throw e;
  } finally {
    // A connection that failed mid-statement may still be in a transaction: discard it.
    client.release(broken ? true : undefined);
  }
}
