import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { logicalNames } from '../../core/live';
import type { FlowContext } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitFor, waitForSameRows, watch, type Watching } from '../support/live';

// Logical (and trigger) capture of the transactions users write: several changes of one key in one transaction
// (a key swap, insert + update + delete), a SAVEPOINT rolled back, transactions that commit in the
// opposite order of their first change, and transactions larger than the change buffer (the stream
// pauses and must resume). After each, the target equals the filtered source.
describe.each(['replication', 'notification'] as const)('%s capture: transactions', (mode) => {
  let t: Pair;
  let ctx: FlowContext;
  let w: Watching | undefined;
  const FILTERED = `SELECT id, grp, body FROM items WHERE grp <> 3`;
  const same = (what: string) => waitForSameRows(what, t.src.pool, FILTERED, t.tgt.pool, `SELECT id, grp, body FROM items`, 30_000);

  beforeAll(async () => {
    t = await sourceAndTarget(`logx${mode[0]}`);
    await t.src.sql(`CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, body text)`);
    await t.src.sql(`INSERT INTO items SELECT g, g % 10, 'b' || g FROM generate_series(1, 100) g`);
    ctx = t.ctx({ name: 'logx', source: { table: 'items', filter: 'grp <> 3', [mode]: {} }, target: { table: 'items' } });
    // a small change buffer, so a transaction of a few hundred rows is larger than it
    w = watch(ctx, { maxBufferedChanges: 50 } as never);
    await w.live();
    await same('initial load');
  });
  afterAll(async () => {
    await w?.stop();
    await t.src.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [logicalNames(ctx.flow).slot]).catch(() => {});
    await t?.close();
  });

  it('a key swap in one transaction (1→1000, 2→1, 1000→2), and a rotation of three keys', async () => {
    await t.src.sql(`BEGIN; UPDATE items SET id = 1000 WHERE id = 1; UPDATE items SET id = 1 WHERE id = 2; UPDATE items SET id = 2 WHERE id = 1000; COMMIT`);
    await t.src.sql(`BEGIN; UPDATE items SET id = -10 WHERE id = 10; UPDATE items SET id = 10 WHERE id = 11; UPDATE items SET id = 11 WHERE id = 12; UPDATE items SET id = 12 WHERE id = -10; COMMIT`);
    // many keys changed by one statement, then moved again
    await t.src.sql(`UPDATE items SET id = id + 1000 WHERE id BETWEEN 90 AND 99`);
    await t.src.sql(`UPDATE items SET id = id - 989 WHERE id BETWEEN 1090 AND 1099`);
    await same('after the key swaps');
  });

  it('insert + update + delete of one key in one transaction, delete + insert, and a row that leaves the filter and comes back', async () => {
    await t.src.sql(`BEGIN; INSERT INTO items VALUES (500, 1, 'x'); UPDATE items SET body = 'y' WHERE id = 500; DELETE FROM items WHERE id = 500; COMMIT`);
    await t.src.sql(`BEGIN; DELETE FROM items WHERE id = 40; INSERT INTO items VALUES (40, 2, 'reborn'); COMMIT`);
    await t.src.sql(`BEGIN; INSERT INTO items VALUES (501, 1, 'x'); DELETE FROM items WHERE id = 501; INSERT INTO items VALUES (501, 4, 'second'); COMMIT`);
    await t.src.sql(`BEGIN; UPDATE items SET grp = 3 WHERE id = 41; UPDATE items SET grp = 4, body = 'back' WHERE id = 41; COMMIT`);
    await t.src.sql(`BEGIN; UPDATE items SET grp = 1 WHERE id = 43; UPDATE items SET grp = 3, body = 'gone' WHERE id = 43; COMMIT`);
    await same('after many changes of one key');
  });

  it('SAVEPOINT and ROLLBACK TO inside a transaction; a rolled-back transaction', async () => {
    await t.src.sql(`BEGIN; UPDATE items SET body = 'kept' WHERE id = 50; SAVEPOINT a; UPDATE items SET body = 'undone' WHERE id = 50; DELETE FROM items WHERE id = 51; INSERT INTO items VALUES (600, 1, 'undone'); ROLLBACK TO a; UPDATE items SET body = 'after' WHERE id = 52; COMMIT`);
    await t.src.sql(`BEGIN; DELETE FROM items WHERE id = 53; ROLLBACK`);
    await same('after savepoints');
  });

  it('two transactions that commit in the opposite order of their first change', async () => {
    const a = new pg.Client({ connectionString: t.src.url });
    const b = new pg.Client({ connectionString: t.src.url });
    await a.connect();
    await b.connect();
    try {
      await a.query(`BEGIN; UPDATE items SET body = 'a first' WHERE id = 60; INSERT INTO items VALUES (700, 1, 'a')`);
      await b.query(`BEGIN; UPDATE items SET body = 'b' WHERE id = 61; INSERT INTO items VALUES (701, 1, 'b'); DELETE FROM items WHERE id = 62; COMMIT`);
      await a.query(`UPDATE items SET body = 'a later' WHERE id = 61; DELETE FROM items WHERE id = 701; COMMIT`);
    } finally {
      await a.end();
      await b.end();
    }
    await same('after interleaved transactions');
  });

  it('transactions larger than the change buffer (the stream pauses and resumes), with smaller ones around them', async () => {
    await t.src.sql(`UPDATE items SET body = 'small' WHERE id = 70`);
    // ~1 MB of changes: more than the socket hands over at once, so the pause really stops the stream mid-transaction
    await t.src.sql(`INSERT INTO items SELECT g, g % 10, 'big' || g || repeat('x', 1000) FROM generate_series(2001, 3000) g`);
    await t.src.sql(`UPDATE items SET body = body || '!' WHERE id BETWEEN 2001 AND 2900`);
    await t.src.sql(`BEGIN; DELETE FROM items WHERE id BETWEEN 2100 AND 2200; UPDATE items SET id = id + 10000 WHERE id BETWEEN 2201 AND 2300; COMMIT`);
    await t.src.sql(`UPDATE items SET body = 'small again' WHERE id = 71`);
    await same('after large transactions');
    // the large ones were applied by a rescan (their changes are more than the watch holds); the
    // rescan reads the table as it is now, so the target can equal the source before its catch-up
    // event is emitted (after the target's flush is checked): wait for the event
    if (mode === 'replication') await waitFor('a rescan for a transaction larger than the buffer', () => w!.catchUps.some((e) => /maxBufferedChanges/.test(e.catchUp?.reason ?? '')));
  });

  it('a transaction larger than the change buffer while the watch is stopped: replayed from the slot on the next start', async () => {
    await w!.stop();
    await t.src.sql(`UPDATE items SET body = 'while stopped' WHERE id = 72`);
    await t.src.sql(`BEGIN; UPDATE items SET body = body || '?', grp = (grp + 1) % 10 WHERE id BETWEEN 2001 AND 2999; DELETE FROM items WHERE id = 73; COMMIT`);
    await t.src.sql(`UPDATE items SET body = 'after it' WHERE id = 74`);
    w = watch(ctx, { maxBufferedChanges: 50 } as never);
    await w.live();
    await same('after a restart over a large transaction');
    await t.src.sql(`UPDATE items SET body = 'live again' WHERE id = 75`);
    await same('live after the restart');
  });

  it('the walsender and the target connection terminated again and again while a writer commits: the target ends equal', async () => {
    const writer = new pg.Client({ connectionString: t.src.url });
    await writer.connect();
    let writing = true;
    let round = 0;
    const writes = (async () => {
      while (writing) {
        round++;
        const n = 5 + (round % 4) * 10; // 5 to 35 changes
        // its own ids (above every id the tests before it made: 12300 at most), however many rounds it runs
        await writer.query(`BEGIN; UPDATE items SET body = 'r${round}' WHERE id IN (SELECT id FROM items ORDER BY id LIMIT ${n} OFFSET ${(round * 13) % 300}); INSERT INTO items VALUES (${100000 + round}, ${round % 10}, 'w'); DELETE FROM items WHERE id = ${99999 + round - 3}; COMMIT`);
      }
    })();
    try {
      for (let i = 0; i < 6; i++) {
        const reconnects = w!.statuses.filter((s) => s.state === 'reconnecting').length;
        const killed = i % 2 === 0 && mode === 'replication'
          // this database's walsender only (other test files' run on the same server)
          ? await t.src.sql(`SELECT pg_terminate_backend(r.pid) FROM pg_stat_replication r JOIN pg_stat_activity a ON a.pid = r.pid WHERE r.application_name = 'tablesync replication' AND a.datname = current_database()`)
          : await t.tgt.sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'tablesync[%' AND pid <> pg_backend_pid()`);
        expect(killed.rowCount).toBe(1);
        await waitFor('reconnected and live again', () => w!.statuses.filter((s) => s.state === 'reconnecting').length > reconnects && w!.statuses.at(-1)!.state === 'live');
      }
    } finally {
      writing = false;
      await writes;
      await writer.end();
    }
    await same('after the terminations');
  });
});
