import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, planFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import type { TestDatabase } from '../support/db';
import { waitFor } from '../support/live';

// plan writes nothing anywhere: no schema, table or state appears, no user table's row counters
// move, and the source sees only reads. (Stats are flushed when a backend exits, so the plan's
// pools are closed before the counters are read.)
describe('plan writes nothing', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget();
    const w = new pg.Client({ connectionString: t.src.url });
    await w.connect();
    await w.query(`CREATE TABLE s (id int PRIMARY KEY, v text)`);
    await w.query(`INSERT INTO s SELECT g, 'v' || g FROM generate_series(1, 200) g`);
    await w.end();
  });
  afterAll(async () => { await t.close(); });

  // A backend flushes its statistics as it exits: wait until every backend of the plan's (or the
  // writer's) closed connections is gone from both servers, instead of sleeping.
  const exited = async (also: string[] = []) => {
    for (const db of [t.src, t.tgt]) {
      await waitFor(`${db.name}: closed connections gone`, async () => {
        const { rows } = await db.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND (application_name LIKE 'tablesync%' OR pid::text = ANY($1))`, [also]);
        return rows[0].n === '0'; // values arrive as PostgreSQL text
      });
    }
  };

  const snapshot = async (db: TestDatabase) => {
    await db.sql('SELECT pg_stat_clear_snapshot()');
    const rels = (await db.sql(`SELECT n.nspname || '.' || c.relname AS r, c.relfilenode::text AS f FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT LIKE 'pg_%' AND n.nspname <> 'information_schema' ORDER BY 1`)).rows;
    const stats = (await db.sql(`SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables ORDER BY relname`)).rows;
    const schemas = (await db.sql(`SELECT nspname FROM pg_namespace ORDER BY 1`)).rows;
    return { rels, stats, schemas };
  };

  it('before the first apply and after changes', async () => {
    const planOnce = async () => {
      const ctx = t.ctx({ name: 'pwn', source: { table: 's' }, target: { table: 'tgt' } });
      const plan = await planFlow(ctx);
      await t.contexts.pop()!.close();
      return plan;
    };
    const s0 = await snapshot(t.src);
    const g0 = await snapshot(t.tgt);
    const plan = await planOnce();
    expect(plan.rows.insert).toBe(200);
    await exited();
    expect(await snapshot(t.src)).toEqual(s0);
    expect(await snapshot(t.tgt)).toEqual(g0);

    const ctx = t.ctx({ name: 'pwn', source: { table: 's' }, target: { table: 'tgt' } });
    await applyFlow(ctx);
    await t.contexts.pop()!.close();
    // Written from a client that then exits, so its own counters are flushed before the snapshot.
    const w = new pg.Client({ connectionString: t.src.url });
    await w.connect();
    const writer = String((await w.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    await w.query(`UPDATE s SET v = v || '!' WHERE id < 20`);
    await w.query(`DELETE FROM s WHERE id > 190`);
    await w.end();
    await exited([writer]);
    const g1 = await snapshot(t.tgt);
    const s1 = await snapshot(t.src);
    const p2 = await planOnce();
    expect(p2.rows).toMatchObject({ update: 19, delete: 10 });
    await exited();
    expect(await snapshot(t.tgt)).toEqual(g1);
    expect(await snapshot(t.src)).toEqual(s1);
  });
});
