import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, planFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';

// Every type round-trips: the text of each value out of the source equals the text in the target
// (bigint past 2^53, numeric scale, NaN/Infinity, timestamps to the microsecond, json whitespace,
// NULL versus empty, escapes), on the initial load (COPY straight in) and on updates (staging + merge).
const TYPES: [string, string[]][] = [
  ['smallint', ['-32768', '32767']],
  ['integer', ['-2147483648', '0']],
  ['bigint', ['9007199254740993', '-9223372036854775808']],
  ['numeric(30,10)', ['12345678901234567890.0123456789', '1.0000000000']],
  ['numeric', ['1.0', '1.00', 'NaN']],
  ['real', ['1.5', 'Infinity']],
  ['double precision', ['0.1', '-Infinity', 'NaN', '-0']],
  ['boolean', ['t', 'f']],
  ['text', ['', 'tab\there\nnew line \\ back\\slash', 'naïve "quote" 🎉']],
  ['character varying(5)', ['abcde', ' ']],
  ['character(3)', ['ab ', 'xyz']],
  ['bytea', ['\\x', '\\x00ff10']],
  ['date', ['2024-02-29', '0001-01-01 BC']],
  ['time without time zone', ['23:59:59.999999']],
  ['time with time zone', ['12:00:00+05:30']],
  ['timestamp without time zone', ['2024-01-02 03:04:05.123456', 'infinity']],
  ['timestamp with time zone', ['2024-01-02 03:04:05.123456+00', '-infinity']],
  ['interval', ['1 year 2 mons 3 days 04:05:06.789']],
  ['uuid', ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11']],
  ['json', ['{"b": 1,   "a": [1, 2]}', 'null']],
  ['jsonb', ['{"a": [1, 2], "b": 1}', '"str"']],
  ['integer[]', ['{1,2,3}', '{}', '{NULL,1}']],
  ['text[]', ['{"a b","c\\"d",NULL,""}']],
  ['integer[]', ['{{1,2},{3,4}}']],
  ['inet', ['192.168.0.1/24', '::1']],
  ['cidr', ['10.0.0.0/8']],
  ['macaddr', ['08:00:2b:01:02:03']],
  ['point', ['(1,2)']],
  ['tsvector', ["'a' 'fat':2 'rat':3"]],
  ['int4range', ['[1,10)', 'empty']],
  ['bit(4)', ['1010']],
  ['bit varying(8)', ['101']],
  ['xml', ['<a x="1">t</a>']],
];

describe('round-trip type matrix', () => {
  let t: Pair;
  const n = TYPES.length;
  const cols = TYPES.map(([type], i) => `c${i} ${type}`).join(', ');
  const rows = Math.max(...TYPES.map(([, v]) => v.length)) + 1; // the last row is all NULL
  beforeAll(async () => {
    t = await sourceAndTarget();
    await t.src.sql(`CREATE TABLE m (id bigint PRIMARY KEY, ${cols})`);
    for (let r = 0; r < rows; r++) {
      const vals = TYPES.map(([, v]) => v[r] ?? null);
      await t.src.sql(`INSERT INTO m VALUES ($1, ${TYPES.map(([type], i) => `$${i + 2}::${type}`).join(', ')})`, [String(9007199254740990n + BigInt(r)), ...vals]);
    }
  });
  afterAll(async () => { await t.close(); });

  const text = async (db: Pair['src'], table: string) =>
    (await db.sql(`SELECT id::text, ${TYPES.map((_, i) => `c${i}::text`).join(', ')} FROM ${table} ORDER BY id`)).rows;

  for (const ordinal of [false, true]) {
    it(`values are equal as text after load and after update (${ordinal ? 'ordinal' : 'fingerprint'})`, async () => {
      const table = ordinal ? 'm_ord' : 'm_fp';
      if (ordinal) await t.src.sql(`ALTER TABLE m ADD COLUMN IF NOT EXISTS at int NOT NULL DEFAULT 1`);
      const ctx = t.ctx({ name: table, source: { table: 'm', ...(ordinal ? { ordinalColumn: 'at' } : {}) }, target: { table } });
      const plan = await planFlow(ctx);
      expect(plan.blockers).toEqual([]);
      expect(plan.columns.slice(1, n + 1).map((c) => c.type)).toEqual(TYPES.map(([type]) => type));
      await applyFlow(ctx);
      const cmp = async () => {
        const a = await text(t.src, 'm');
        const b = await text(t.tgt, table);
        expect(b).toEqual(a);
      };
      await cmp();
      // Rotate values between rows: every row changes, through staging and the merge.
      await t.src.sql(`UPDATE m SET ${TYPES.map((_, i) => `c${i} = (SELECT c${i} FROM m m2 WHERE m2.id = CASE WHEN m.id = (SELECT max(id) FROM m) THEN (SELECT min(id) FROM m) ELSE m.id + 1 END)`).join(', ')}${ordinal ? ', at = at + 1' : ''}`);
      const p2 = await planFlow(ctx);
      expect(p2.rows.update).toBe(rows);
      const r = await applyFlow(ctx);
      expect(r.rows.update).toBe(rows);
      await cmp();
      // numeric 1.0 → 1.00 is a change even though they compare equal.
      await t.src.sql(`UPDATE m SET c4 = '1.00' WHERE c4::text = '1.0'; UPDATE m SET c4 = '1.0' WHERE c4::text = '1.00' AND id <> (SELECT id FROM m WHERE c4::text = '1.00' LIMIT 1)`);
      await t.src.sql(`UPDATE m SET ${ordinal ? 'at = at + 1' : 'id = id'} WHERE c4::text IN ('1.0', '1.00')`);
      await applyFlow(ctx);
      await cmp();
    });
  }

  it('a source enum or domain needs an override, and works with one', async () => {
    await t.src.sql(`CREATE TYPE mood AS ENUM ('sad', 'happy'); CREATE DOMAIN posint AS int CHECK (VALUE > 0)`);
    await t.src.sql(`CREATE TABLE e (id int PRIMARY KEY, m mood, p posint, ms mood[])`);
    await t.src.sql(`INSERT INTO e VALUES (1, 'happy', 3, '{sad,happy}')`);
    const bad = t.ctx({ name: 'enum_flow', source: { table: 'e' }, target: { table: 'e' } });
    const plan = await planFlow(bad);
    expect(plan.blockers.map((b) => b.code)).toEqual(['UNSUPPORTED', 'UNSUPPORTED', 'UNSUPPORTED']);
    expect(plan.blockers[0]!.message).toContain('column "m" has type mood (a source enum)');
    expect(plan.blockers[0]!.message).toContain('e.g. text');
    expect(plan.columns.find((c) => c.name === 'm')!.needsOverride).toBeTruthy();
    await expect(applyFlow(bad)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    expect((await t.tgt.sql(`SELECT to_regclass('public.e') AS r`)).rows[0].r).toBeNull();
    const good = t.ctx({ name: 'enum_flow', source: { table: 'e' }, target: { table: 'e', columns: { m: { type: 'text' }, p: { type: 'integer' }, ms: { type: 'text[]' } } } });
    await applyFlow(good);
    expect((await t.tgt.sql(`SELECT * FROM e`)).rows).toEqual([{ id: '1', m: 'happy', p: '3', ms: '{sad,happy}' }]);
  });

  it('an override type that is not a type is refused, naming the column', async () => {
    const ctx = t.ctx({ name: 'bad_type', source: { table: 'm', includedColumns: ['c0'] }, target: { table: 'bt', columns: { c0: { type: 'no_such_type' } } } });
    const plan = await planFlow(ctx);
    expect(plan.blockers[0]).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('target.columns."c0".type "no_such_type"') });
    const inj = t.ctx({ name: 'bad_type', source: { table: 'm', includedColumns: ['c0'] }, target: { table: 'bt', columns: { c0: { type: 'int); DROP TABLE m; --' } } } });
    await expect(planFlow(inj)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
