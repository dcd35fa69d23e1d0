/**
 * One writer per flow (DESIGN §7): apply, watch and drop hold a session-level advisory lock in the
 * TARGET database keyed by the flow's name, so two processes on any machines never write the same
 * flow at once. The lock lives on one connection, and the work runs on that same connection: a
 * PGlite target serves a single connection, so holding a second one would deadlock.
 */
import { LONG_WORK_SESSION_SQL } from '../sql/long-work';
import type pg from 'pg';
import { hostname } from 'node:os';
import { TableSyncError } from '../errors';

/**
 * While it holds a flow's lock, a session's application_name says which OS process on which
 * machine holds it: `tablesync[12345@web-1] cli products_search`. pg_stat_activity shows
 * application_name to every role (unlike client_addr or the query), so a second writer can always
 * tell the user which process to look for: the server backend's pid means nothing on their machine.
 */
export function holderApplicationName(current: string, pid = process.pid, host = hostname()): string {
  const rest = current.replace(/^tablesync\b\s*/, '').replace(/^\[[^\]]*\]\s*/, '');
  const tag = `tablesync[${pid}@${host.slice(0, 32)}]`;
  return fitBytes(rest ? `${tag} ${rest}` : tag, 63);
}

/** The process, host and application a holder's application_name names (see holderApplicationName). */
export function parseHolderApplicationName(name: string | null): { osPid: number; host: string; app: string } | undefined {
  const m = name ? /^tablesync\[(\d+)@([^\]]+)\]\s*(.*)$/.exec(name) : null;
  return m ? { osPid: Number(m[1]), host: m[2]!, app: `tablesync ${m[3]!}`.trim() } : undefined;
}

function fitBytes(s: string, max: number): string {
  let out = s;
  while (Buffer.byteLength(out, 'utf8') > max) out = out.slice(0, -1);
  return out;
}

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
  /** The holder's OS process and machine, when it is a TableSync that tagged its session. */
  osPid: number | null;
  host: string | null;
  /** Server backend pid (pg_stat_activity.pid): what pg_terminate_backend takes. */
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
  const tagged = parseHolderApplicationName(r.application_name);
  return {
    osPid: tagged?.osPid ?? null,
    host: tagged?.host ?? null,
    pid: r.pid === null ? null : Number(r.pid),
    applicationName: tagged?.app ?? r.application_name,
    clientAddr: r.client_addr,
    backendStart: r.backend_start,
  };
}

/** "tablesync cli products (process 12345 on host web-1, connected since …; server pid 678)". */
export function describeHolder(who: LockHolder | null): string {
  if (!who) return 'another session';
  const app = who.applicationName || 'an unknown application';
  const where = who.osPid !== null
    ? `process ${who.osPid} on host ${who.host}`
    : `a process${who.clientAddr ? ` connecting from ${who.clientAddr}` : ' on the database server itself'}`;
  return `${app} (${where}${who.backendStart ? `, connected since ${who.backendStart}` : ''}; its database session is server pid ${who.pid})`;
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
        throw new TableSyncError('LOCKED', `flow "${flowName}" is being written by ${describeHolder(who)}; try again when it is done`, { holder: who });
      }
    }
    try {
      // Tag the session with our process and host for as long as we hold the lock.
      const { rows } = await client.query(`SELECT current_setting('application_name') AS a`);
      // and, in the same round trip, the holder's work is long (an apply's load, a watch's hours): not cut by the server's timeouts
      await client.query(`SELECT set_config('application_name', $1, false), (${LONG_WORK_SESSION_SQL}) AS timeouts`, [holderApplicationName((rows[0] as { a: string }).a)]);
      return await fn(client);
    } finally {
      try {
        await client.query('SELECT pg_advisory_unlock($1::int8)', [key]);
        // back to the connection's own settings: the tag, and any session settings the holder made
        // (a live watch fixes the text settings for its session: core/sql/text-settings.ts)
        await client.query('RESET ALL');
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
