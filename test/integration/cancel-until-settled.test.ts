import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { freshDatabase, type TestDatabase } from '../support/db';
import { waitFor } from '../support/live';
import { holdProxy, type HoldProxy } from '../support/hold-proxy';
import { createPool } from '../../core/connections/pool';
import { BackendCancel, cancelSenderForPool, cancelWasSent } from '../../core/connections/cancel';
import { backendPid } from '../../core/connections/backend-pid';
import { resolveSource } from '../../core/source';
import { copyOut, withReadOnly } from '../../core/source/read-only';
import { withBulkReaders } from '../../core/source/bulk-read';
import { TableSyncError } from '../../core/errors';
import { RequestRegistry } from '../../core/app/requests';
import { connectClient } from '../../core/connections/pool';

// A pg_cancel_backend reaches only the statement running at that moment: one that lands between two
// statements (or before a statement reached the server) cancels nothing. core/connections/cancel.ts
// repeats it until the work settles, ends a connection thrown away mid-statement on the server,
// and never lets a connection a cancel was sent to serve another query. Each test makes a cancel
// miss first, then checks on the server (pg_stat_activity) that the long statement is gone: a
// 60 s pg_sleep that nobody cancelled would still be there.
describe('a cancel is repeated until the work settles', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await freshDatabase();
    await db.sql(`CREATE TABLE items (id int PRIMARY KEY, v text)`);
    await db.sql(`INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 300) g`);
    pool = createPool(db.url, { max: 4 });
  });
  afterAll(async () => { await pool?.end(); await db?.drop(); });

  /** The statements still running on the server that sleep for 60 s (the test's long one). */
  const sleepers = async () => Number((await db.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid() AND state = 'active'`)).rows[0].n);
  /** A cancel has been sent and has reached the server (its sender, whichever it is, is idle after it). */
  const cancelDelivered = async () => Number((await db.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_cancel_backend%' AND state = 'idle'`)).rows[0].n) > 0;
  /** Sessions that sent a cancel (or are for sending them), still open. */
  const senders = async () => Number((await db.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND (application_name = 'tablesync cancel' OR query LIKE 'SELECT pg_cancel_backend%')`)).rows[0].n);
  const alive = async (pid: number) => (await db.sql(`SELECT 1 FROM pg_stat_activity WHERE pid = $1`, [pid])).rows.length > 0;

  it('a multi-statement read: a cancel that lands between its two statements still stops the second, and the connection is not reused', async () => {
    const ac = new AbortController();
    let pid: number | undefined;
    const read = withReadOnly(pool, async (client) => {
      pid = backendPid(client);
      await client.query('SELECT 1');
      // Aborted between the statements: the first cancel finds the backend idle and is lost.
      ac.abort();
      await waitFor('the first cancel reached the server', cancelDelivered, 10_000);
      await client.query('SELECT pg_sleep(60)');
      return 'finished';
    }, { signal: ac.signal });
    const err = await read.then(() => undefined, (e: unknown) => e);
    expect((err as { code?: string } | undefined)?.code, String(err)).toBe('57014'); // the server's "canceling statement due to user request"
    expect(await sleepers()).toBe(0);
    // not returned to the pool: its server session ends, and the next read gets another one
    await waitFor('the cancelled connection closed', async () => !(await alive(pid!)), 10_000);
    const next = await withReadOnly(pool, async (client) => backendPid(client));
    expect(next).not.toBe(pid);
  });

  it('a bulk read: a COPY that reaches the server after the cancel did is stopped, and its connection is not reused', async () => {
    const proxy: HoldProxy = await holdProxy(db.url);
    const bulkPool = createPool(proxy.url, { max: 4 });
    try {
      const resolved = await resolveSource(pool, { table: 'items' });
      await waitFor('no cancel sender of an earlier test left', async () => (await senders()) === 0, 10_000);
      const ac = new AbortController();
      let readerPid: number | undefined;
      const run = withBulkReaders(bulkPool, resolved, { ranges: 1, readers: () => 1 }, async (readers) => {
        readerPid = Number((await db.sql(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction' AND pid <> pg_backend_pid() ORDER BY backend_start DESC LIMIT 1`)).rows[0].pid);
        // The first COPY runs to its end.
        let rows = 0;
        for await (const _ of readers[0]!.rows(undefined, 'text')) rows++;
        expect(rows).toBeGreaterThan(0);
        // The second is held on its way to the server until the cancel has come and gone.
        proxy.hold(0);
        const second = readers[0]!.marks(['pg_sleep(60)::text'], undefined, 'text');
        second.on('error', () => {});
        ac.abort();
        await waitFor('the first cancel reached the server', cancelDelivered, 10_000);
        proxy.release(0);
        for await (const _ of second) rows++;
        return rows;
      }, { signal: ac.signal });
      const err = await run.then(() => undefined, (e: unknown) => e);
      expect(err instanceof TableSyncError && err.code, String(err)).toBe('CANCELLED');
      // Stopped on the server (the 60 s sleep is gone), its session ended: nothing of it is left to reuse.
      await waitFor('no pg_sleep(60) left on the server', async () => (await sleepers()) === 0, 10_000);
      await waitFor('the reader\'s session ended', async () => !(await alive(readerPid!)), 10_000);
    } finally {
      await bulkPool.end();
      await proxy.close();
    }
  });

  it('a pooled connection a cancel was sent to is destroyed when released, not kept for the next query', async () => {
    const client = await pool.connect();
    const pid = backendPid(client)!;
    const cancel = new BackendCancel(cancelSenderForPool(pool));
    cancel.add(client);
    cancel.cancel();
    await cancel.settle();
    expect(cancelWasSent(client)).toBe(true);
    client.release(); // released as if healthy: the pool still must not keep it
    await waitFor('its server session ended', async () => !(await alive(pid)), 10_000);
    const pids = await Promise.all([1, 2, 3].map(async () => {
      const c = await pool.connect();
      try { return backendPid(c); } finally { c.release(); }
    }));
    expect(pids).not.toContain(pid);
  });
  it('a request (query.cancel): the cancel reaches a statement sent after it, the pooled connection is not reused, and a console session is kept', async () => {
    const requests = new RequestRegistry();
    let pid: number | undefined;
    const run = requests.run('r1', async (h) => {
      const client = await pool.connect();
      try {
        h.backend(db.url, client);
        pid = backendPid(client);
        await client.query('SELECT 1');
        expect(await requests.cancel('r1')).toBe(true); // between two statements: this cancel is lost
        await waitFor('the first cancel reached the server', cancelDelivered, 10_000);
        await client.query('SELECT pg_sleep(60)');
        return 'finished';
      } finally {
        client.release();
      }
    });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await sleepers()).toBe(0);
    await waitFor('the cancelled connection closed', async () => !(await alive(pid!)), 10_000);

    // A session that is not pooled (the console's) stops the cancels before its own cleanup and stays usable.
    await waitFor('no cancel sender left', async () => (await senders()) === 0, 10_000);
    const session = await connectClient(db.url, { applicationName: 'tablesync console' });
    try {
      const r2 = requests.run('r2', async (h) => {
        const stop = h.backend(db.url, session);
        await session.query('BEGIN');
        expect(await requests.cancel('r2')).toBe(true);
        await waitFor('the first cancel reached the server', cancelDelivered, 10_000);
        const e = await session.query('SELECT pg_sleep(60)').then(() => undefined, (x: unknown) => x);
        await stop(); // no cancel of this request is on its way now
        await session.query('ROLLBACK');
        throw e;
      });
      await expect(r2).rejects.toMatchObject({ code: 'CANCELLED' });
      expect((await session.query('SELECT 42 AS n')).rows[0]).toEqual({ n: '42' });
    } finally {
      await session.end();
    }
  });
  it('a COPY out whose statement sends nothing for long (a verify\'s GROUP BY): an abort stops it on the server, not only on our side', async () => {
    const ac = new AbortController();
    const reading = (async () => {
      let n = 0;
      for await (const _ of copyOut(pool, 'SELECT pg_sleep(60)', { signal: ac.signal })) n++;
      return n;
    })();
    await waitFor('the COPY is running on the server', async () => (await sleepers()) > 0, 10_000);
    ac.abort();
    const err = await reading.then(() => undefined, (e: unknown) => e);
    expect(err instanceof TableSyncError && err.code, String(err)).toBe('CANCELLED');
    await waitFor('no pg_sleep(60) left on the server', async () => (await sleepers()) === 0, 10_000);
  });
});
