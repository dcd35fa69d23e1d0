import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, planFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';

// Sample "after" cells are what the target will store, printed by the target: a value whose text
// differs only in form between source and target type (1.50 as numeric → 1.5 as real) is not shown
// as a changed cell.
describe('plan samples show cells in the target type', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('samples');
    await t.src.sql(`CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(6,2))`);
    await t.src.sql(`INSERT INTO items VALUES (1, 'one', 1.50), (2, 'two', 2.25)`);
  });
  afterAll(async () => { await t?.close(); });

  it('renders after-cells through the override type and marks only real changes', async () => {
    const spec = { name: 'samples', source: { table: 'items' }, target: { table: 'items', columns: { price: { type: 'real' } } } };
    const first = await planFlow(t.ctx(spec));
    const ins = first.samples.find((s) => s.op === 'insert' && s.key['id'] === '1');
    expect(ins?.after?.['price']).toBe('1.5');
    await applyFlow(t.ctx(spec));

    await t.src.sql(`UPDATE items SET name = 'uno' WHERE id = 1`);
    const next = await planFlow(t.ctx(spec));
    const upd = next.samples.find((s) => s.op === 'update' && s.key['id'] === '1');
    expect(upd?.before?.['price']).toBe('1.5');
    expect(upd?.after?.['price']).toBe('1.5');
    expect(upd?.changed).toEqual(['name']);
  });

  it('keeps a value that will not cast as its source text, and still renders the other rows', async () => {
    await t.src.sql(`CREATE TABLE codes (id int PRIMARY KEY, code text)`);
    await t.src.sql(`INSERT INTO codes VALUES (1, '042'), (2, 'abc')`);
    const plan = await planFlow(t.ctx({ name: 'samples_cast', source: { table: 'codes' }, target: { table: 'codes', columns: { code: { type: 'integer' } } } }));
    const after = (id: string) => plan.samples.find((s) => s.key['id'] === id)?.after?.['code'];
    expect(after('1')).toBe('42');
    expect(after('2')).toBe('abc');
  });
});
