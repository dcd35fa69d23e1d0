/**
 * A set writes as many flows: it holds every member's advisory lock (core/state/lock.ts), all on the
 * one target connection that also runs the set's transaction, so a single-flow apply or watch of a
 * member and the set never write at once. All or none: when one is taken, the ones already held are
 * released and the error says who holds it.
 */
import type pg from 'pg';
import { TableSyncError } from '../errors';
import { flowLockKey, lockHolder } from '../state/lock';

export async function lockFlows(client: pg.ClientBase, names: string[], opts: { wait?: boolean } = {}): Promise<() => Promise<void>> {
  const held: string[] = [];
  const release = async () => {
    for (const n of held.splice(0).reverse()) await client.query('SELECT pg_advisory_unlock($1::int8)', [flowLockKey(n).toString()]);
  };
  try {
    for (const name of names) {
      const key = flowLockKey(name).toString();
      if (opts.wait) await client.query('SELECT pg_advisory_lock($1::int8)', [key]);
      else {
        const { rows } = await client.query('SELECT pg_try_advisory_lock($1::int8) AS ok', [key]);
        if ((rows[0] as { ok: string }).ok !== 't') {
          const who = await lockHolder(client, name);
          const desc = who ? `${who.applicationName || 'unknown application'}${who.clientAddr ? ` from ${who.clientAddr}` : ''} (pid ${who.pid}, connected since ${who.backendStart})` : 'another session';
          throw new TableSyncError('LOCKED', `flow "${name}" is being written by ${desc}; try again when it is done`, { holder: who, flow: name });
        }
      }
      held.push(name);
    }
  } catch (e) {
    await release().catch(() => {});
    throw e;
  }
  return release;
}
