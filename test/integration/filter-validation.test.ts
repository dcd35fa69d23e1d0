import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { copyRowsOut, resolveSource, validateFilter } from '../../core/source';
import { copyRows } from '../fixtures/source/collect';
import { TableSyncError } from '../../core/errors';

// The filter is user SQL: validateFilter reports PostgreSQL's own verdict, with the position
// mapped into the filter text, and never writes.
describe('validateFilter', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    await db.sql(`CREATE SEQUENCE seq`);
    await db.sql(`CREATE TABLE items (id int PRIMARY KEY, name text, price numeric)`);
    await db.sql(`CREATE TABLE empty (id int PRIMARY KEY, n int)`);
    await db.sql(`INSERT INTO items VALUES (1, 'a', 5), (2, 'b', -1), (3, NULL, 0)`);
  });
  afterAll(async () => { await db?.drop(); });

  const check = (filter: string, table = 'items') => validateFilter(db.pool, 'public', table, filter);

  it('accepts boolean expressions, subqueries and a blank filter', async () => {
    expect(await check('price > 0')).toEqual({ ok: true });
    // (what the verdict depends on besides the row is said: filter-dependence)
    expect(await check("name IS NOT NULL AND name <> '' OR id IN (SELECT id FROM empty)")).toEqual({ ok: true, dependsOn: 'other rows or tables (a subquery)' });
    expect(await check('items.price > 0 AND public.items.id > 0')).toEqual({ ok: true });
    expect(await check('  ')).toEqual({ ok: true });
    expect(await check('random() < 2 AND now() > now() - interval \'1 day\'')).toEqual({ ok: true, dependsOn: 'the time (now()), chance (random())' });
  });

  it('reports the position inside the filter text', async () => {
    const r = await check('price > 0 AND nmae = 1');
    expect(r).toMatchObject({ ok: false, message: 'column "nmae" does not exist', position: 15, sqlstate: '42703' });
    const r2 = await check('price >> ');
    expect(r2.ok).toBe(false);
    if (!r2.ok) expect(r2.position).toBeGreaterThanOrEqual(1);
  });

  it('counts positions in characters, as PostgreSQL does', async () => {
    const r = await check("name = 'naïve😀' AND nope");
    expect(r).toMatchObject({ ok: false, message: 'column "nope" does not exist', position: [..."name = 'naïve😀' AND "].length + 1 });
  });

  it('rejects a non-boolean result', async () => {
    expect(await check('price')).toMatchObject({ ok: false, message: 'argument of WHERE must be type boolean, not type numeric', sqlstate: '42804' });
    expect(await check("'abc'")).toMatchObject({ ok: false, sqlstate: '22P02' });
  });

  it('rejects two statements however they are dressed', async () => {
    expect(await check('1=1; drop table items')).toMatchObject({ ok: false, sqlstate: '42601' });
    expect(await check('1=1) ; (select 1')).toMatchObject({ ok: false, message: 'cannot insert multiple commands into a prepared statement', sqlstate: '42601' });
    expect(await check("true) ; DELETE FROM items WHERE (true")).toMatchObject({ ok: false, sqlstate: '42601' });
    expect((await db.sql('SELECT count(*) AS n FROM items')).rows[0].n).toBe('3');
  });

  it('a comment cannot swallow the closing parenthesis', async () => {
    // `--` runs to the end of the line; the filter sits between newlines, so the query stays whole.
    expect(await check('price > 0 -- only priced')).toEqual({ ok: true });
    const r = await resolveSource(db.pool, { table: 'items', filter: 'price > 0 -- only priced' });
    expect(await copyRows(copyRowsOut(db.pool, r))).toEqual([['1', 'a', '5']]);
    expect(await check('true) --')).toMatchObject({ ok: false, sqlstate: '42601' });
    expect(await check('true /*')).toMatchObject({ ok: false });
  });

  it('catches writes even when the table is empty, and writes nothing', async () => {
    const seqBefore = (await db.sql('SELECT last_value, is_called FROM seq')).rows[0];
    for (const table of ['items', 'empty']) {
      const r = await check("nextval('seq') > 0", table);
      expect(r).toMatchObject({ ok: false, sqlstate: '25006' });
      if (!r.ok) expect(r.message).toBe('the filter must not write: cannot execute nextval() in a read-only transaction');
    }
    // guarded by a branch the NULL row does not take, but the first real row does
    expect(await check("CASE WHEN id IS NOT NULL THEN nextval('seq') > 0 ELSE true END")).toMatchObject({ ok: false, sqlstate: '25006' });
    expect((await db.sql('SELECT last_value, is_called FROM seq')).rows[0]).toEqual(seqBefore);
  });

  it('reports errors the data raises on evaluation', async () => {
    expect(await check('1 / (id - id) > 0')).toMatchObject({ ok: false, message: 'division by zero', sqlstate: '22012' });
  });

  it('a table locked by someone else is LOCKED, not an invalid filter', async () => {
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN; LOCK TABLE empty IN ACCESS EXCLUSIVE MODE');
      await expect(check('n > 0', 'empty')).rejects.toSatisfy((e: unknown) =>
        e instanceof TableSyncError && e.code === 'LOCKED' && /another session holds a lock/.test(e.message));
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  }, 20_000);

  it('does not leave locks or open transactions behind', async () => {
    await check('price > 0');
    await check('nope');
    const { rows } = await db.sql(`SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid)
      WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND l.locktype = 'relation'`);
    expect(rows[0].n).toBe('0');
  });
});
