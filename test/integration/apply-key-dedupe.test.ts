import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, planFlow } from '../../core/target';
import { rowsOf, sourceAndTarget, type Pair } from './target-fixture';

// Keys are de-duplicated: when an overridden key type folds two source keys into one target key
// (numeric 1.1 and 1.2 both become integer 1), apply writes one row for it instead of failing, on
// the first load and on later ones. A cancelled apply leaves the target untouched.
describe('key de-duplication and cancel', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget();
    await t.src.sql(`CREATE TABLE s (id numeric(5,1) PRIMARY KEY, v text)`);
    await t.src.sql(`INSERT INTO s VALUES (1.1, 'a'), (1.2, 'b'), (2.0, 'c'), (3.0, 'd')`);
  });
  afterAll(async () => { await t.close(); });

  it('folds colliding keys into one row', async () => {
    const ctx = () => t.ctx({ name: 'dd', source: { table: 's' }, target: { table: 'dd', columns: { id: { type: 'integer' } } } });
    await applyFlow(ctx());
    const rows = await rowsOf(t.tgt, 'dd');
    expect(rows.map((r) => r.id)).toEqual(['1', '2', '3']);
    expect(['a', 'b']).toContain(rows[0]!.v);
    await t.src.sql(`UPDATE s SET v = v || '!'`);
    await applyFlow(ctx());
    const again = await rowsOf(t.tgt, 'dd');
    expect(again.map((r) => r.id)).toEqual(['1', '2', '3']);
    expect(again.slice(1).map((r) => r.v)).toEqual(['c!', 'd!']);
    expect((await t.tgt.sql(`SELECT count(*) AS n FROM tablesync."rows__dd"`)).rows[0].n).toBe('3');
  });

  it('a cancelled apply writes nothing', async () => {
    const ctx = t.ctx({ name: 'cx', source: { table: 's' }, target: { table: 'cx' } });
    const abort = new AbortController();
    const err = await applyFlow(ctx, { signal: abort.signal, onProgress: (p) => { if (p.phase === 'ddl') abort.abort(); } }).catch((e) => e);
    expect(err).toMatchObject({ code: 'CANCELLED' });
    expect((await t.tgt.sql(`SELECT to_regclass('public.cx') AS r, (SELECT count(*) FROM tablesync.flows WHERE flow = 'cx') AS n`)).rows[0]).toEqual({ r: null, n: '0' });
    expect((await planFlow(ctx)).rows.insert).toBe(4);
  });
});
