import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyFlow } from '../../core/target';
import { logicalNames } from '../../core/live';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitForSameRows, watch } from '../support/live';
import { runCli } from '../support/cli';

// A published table's UPDATEs and DELETEs send its replica identity, and PostgreSQL refuses every
// UPDATE and DELETE of a table published without one. So a logical flow checks the source table's
// (each leaf partition's) replica identity before it creates or uses a publication: NOTHING would
// break the applications writing to the table, an identity index without the primary key would
// send deletes without the key. Refused with exit 2, the fix named, nothing created on the source,
// and the table's own writes still work. DEFAULT and FULL (and an identity index that holds the
// primary key) stream as usual.

const run = runCli;

describe('logical capture: the source table must have a replica identity that carries its key', () => {
  let t: Pair;
  let dir: string;
  beforeAll(async () => {
    t = await sourceAndTarget('logr');
    dir = mkdtempSync(join(tmpdir(), 'tablesync-ident-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t?.close();
  });

  const nothingCreated = async (flow: Parameters<typeof logicalNames>[0]) => {
    const names = logicalNames(flow);
    expect((await t.src.sql(`SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = $1`, [names.slot])).rows[0].n).toBe('0');
    expect((await t.src.sql(`SELECT count(*) AS n FROM pg_publication WHERE pubname = $1`, [names.publication])).rows[0].n).toBe('0');
  };

  it('REPLICA IDENTITY NOTHING: the watch refuses (exit 2), says what to run, publishes nothing, and the table still takes UPDATEs', async () => {
    await t.src.sql(`CREATE TABLE plain (id int PRIMARY KEY, v text)`);
    await t.src.sql(`INSERT INTO plain SELECT g, 'v' || g FROM generate_series(1, 10) g`);
    await t.src.sql(`ALTER TABLE plain REPLICA IDENTITY NOTHING`);
    const spec = { version: 1, name: 'logr_nothing', source: { connection: { url: t.src.url }, table: 'plain', replication: {} }, target: { connection: { url: t.tgt.url }, table: 'plain_copy' } };
    const file = join(dir, 'nothing.json');
    writeFileSync(file, JSON.stringify(spec));
    const r = await run(['watch', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/table (public\.)?plain has no replica identity \(REPLICA IDENTITY NOTHING\): once it is published, PostgreSQL refuses every UPDATE and DELETE of it/);
    expect(r.stderr).toContain('ALTER TABLE plain REPLICA IDENTITY DEFAULT');
    const ctx = t.ctx({ name: 'logr_nothing', source: { table: 'plain', replication: {} }, target: { table: 'plain_copy' } });
    await nothingCreated(ctx.flow);
    await t.src.sql(`UPDATE plain SET v = 'still writable' WHERE id = 1`);
    await t.src.sql(`DELETE FROM plain WHERE id = 2`);
  });

  it('a partitioned table with one partition of REPLICA IDENTITY NOTHING: refused, naming that partition', async () => {
    await t.src.sql(`CREATE TABLE parted (id int, region text, v int, PRIMARY KEY (id, region)) PARTITION BY LIST (region)`);
    await t.src.sql(`CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu')`);
    await t.src.sql(`CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us')`);
    await t.src.sql(`ALTER TABLE parted_us REPLICA IDENTITY NOTHING`);
    const ctx = t.ctx({ name: 'logr_parted', source: { table: 'parted', replication: {} }, target: { table: 'parted_copy' } });
    const w = watch(ctx);
    await expect(w.handle.done).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/table parted_us has no replica identity/) });
    await nothingCreated(ctx.flow);
  });

  it('an identity index without the primary key: refused (deletes would come without the key)', async () => {
    await t.src.sql(`CREATE TABLE coded (id int PRIMARY KEY, code text NOT NULL UNIQUE, v text)`);
    await t.src.sql(`ALTER TABLE coded REPLICA IDENTITY USING INDEX coded_code_key`);
    const ctx = t.ctx({ name: 'logr_coded', source: { table: 'coded', replication: {} }, target: { table: 'coded_copy' } });
    const w = watch(ctx);
    await expect(w.handle.done).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/REPLICA IDENTITY USING INDEX coded_code_key, which does not hold its primary key: .*ALTER TABLE coded REPLICA IDENTITY DEFAULT/) });
    await nothingCreated(ctx.flow);
  });

  it('an identity index that holds the primary key streams: deletes and key changes arrive with the key', async () => {
    await t.src.sql(`CREATE TABLE keyed (id int PRIMARY KEY, code text NOT NULL, v text)`);
    await t.src.sql(`CREATE UNIQUE INDEX keyed_id_code ON keyed (code, id)`);
    await t.src.sql(`ALTER TABLE keyed REPLICA IDENTITY USING INDEX keyed_id_code`);
    await t.src.sql(`INSERT INTO keyed SELECT g, 'c' || g, 'v' || g FROM generate_series(1, 20) g`);
    const ctx = t.ctx({ name: 'logr_keyed', source: { table: 'keyed', replication: {} }, target: { table: 'keyed_copy' } });
    await applyFlow(ctx);
    const w = watch(ctx);
    try {
      await w.live();
      await t.src.sql(`DELETE FROM keyed WHERE id IN (1, 2)`);
      await t.src.sql(`UPDATE keyed SET id = 100 WHERE id = 3`);
      await t.src.sql(`UPDATE keyed SET v = 'changed' WHERE id = 4`);
      await waitForSameRows('target = source', t.src.pool, `SELECT id, code, v FROM keyed`, t.tgt.pool, `SELECT id, code, v FROM keyed_copy`, 30_000);
    } finally {
      await w.stop();
      await t.src.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [logicalNames(ctx.flow).slot]).catch(() => {});
    }
  });
});

// A publication you name (source.replication.publicationName) may publish other tables too (or
// FOR ALL TABLES): the stream then carries their changes as well, and only the flow's table's
// changes are the flow's. A delete, an insert with the same key or a TRUNCATE of another table
// must never touch the target.
describe('logical capture: a publication that publishes other tables too', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('logo');
    await t.src.sql(`CREATE TABLE mine (id int PRIMARY KEY, v text)`);
    await t.src.sql(`CREATE TABLE other (id int PRIMARY KEY, v text)`);
    await t.src.sql(`INSERT INTO mine SELECT g, 'mine ' || g FROM generate_series(1, 20) g`);
    await t.src.sql(`INSERT INTO other SELECT g, 'other ' || g FROM generate_series(1, 20) g`);
    await t.src.sql(`CREATE PUBLICATION logo_shared FOR TABLE mine, other`);
  });
  afterAll(async () => { await t?.close(); });

  it("applies only the flow's table's changes", async () => {
    const ctx = t.ctx({ name: 'logo', source: { table: 'mine', replication: { publicationName: 'logo_shared' } }, target: { table: 'mine_copy' } });
    await applyFlow(ctx);
    const w = watch(ctx);
    const same = (what: string) => waitForSameRows(what, t.src.pool, `SELECT id, v FROM mine`, t.tgt.pool, `SELECT id, v FROM mine_copy`, 30_000);
    try {
      await w.live();
      await t.src.sql(`DELETE FROM other WHERE id IN (1, 2)`);
      await t.src.sql(`INSERT INTO other VALUES (100, 'other 100')`);
      await t.src.sql(`UPDATE other SET v = 'other changed' WHERE id = 3`);
      await t.src.sql(`TRUNCATE other`);
      // a change of our own table after them: once it is applied, everything before it was seen
      await t.src.sql(`UPDATE mine SET v = 'mine changed' WHERE id = 4`);
      await same('only mine applied');
      expect((await t.tgt.sql(`SELECT count(*) AS n FROM mine_copy`)).rows[0].n).toBe('20');
      expect(w.events.filter((e) => e.op === 'truncate')).toHaveLength(0);
    } finally {
      await w.stop();
      await t.src.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [logicalNames(ctx.flow).slot]).catch(() => {});
    }
  });
});

// A publication you name must carry every change of the flow's table, as the flow sees it: all four
// kinds of change, and a partitioned table's through its root. Else refused (exit 2), the fix named.
describe('logical capture: a named publication that would not carry every change', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('logq');
    await t.src.sql(`CREATE TABLE rows_a (id int PRIMARY KEY, v text)`);
    await t.src.sql(`CREATE PUBLICATION logq_nodelete FOR TABLE rows_a WITH (publish = 'insert, update')`);
    await t.src.sql(`CREATE TABLE parts (id int, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region)`);
    await t.src.sql(`CREATE TABLE parts_eu PARTITION OF parts FOR VALUES IN ('eu')`);
    await t.src.sql(`CREATE PUBLICATION logq_leaves FOR TABLE parts`);
  });
  afterAll(async () => { await t?.close(); });

  it('a publication without deletes and truncates', async () => {
    const ctx = t.ctx({ name: 'logq_a', source: { table: 'rows_a', replication: { publicationName: 'logq_nodelete' } }, target: { table: 'rows_a' } });
    await expect(watch(ctx).handle.done).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/publication "logq_nodelete" does not publish delete, truncate .*ALTER PUBLICATION "?logq_nodelete"? SET \(publish = 'insert, update, delete, truncate'\)/) });
    expect((await t.src.sql(`SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = $1`, [logicalNames(ctx.flow).slot])).rows[0].n).toBe('0');
  });

  it('a partitioned table published partition by partition', async () => {
    const ctx = t.ctx({ name: 'logq_p', source: { table: 'parts', replication: { publicationName: 'logq_leaves' } }, target: { table: 'parts' } });
    await expect(watch(ctx).handle.done).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/publication "logq_leaves" publishes the partitioned table .*parts"? partition by partition .*SET \(publish_via_partition_root = true\)/) });
    expect((await t.src.sql(`SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = $1`, [logicalNames(ctx.flow).slot])).rows[0].n).toBe('0');
  });
});
