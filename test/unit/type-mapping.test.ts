import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TableSchema } from '../../core/target/declare';
import { toPgText } from '../../core/target/type-mapping';

describe('zod → PostgreSQL type mapping (from_class)', () => {
  it('maps the reference table, nullability and overrides', () => {
    const s = TableSchema.fromZod(z.object({
      ok: z.boolean(),
      count: z.number().int(),
      n: z.int(),
      score: z.number(),
      big: z.bigint(),
      name: z.string(),
      id: z.uuid(),
      at: z.date(),
      raw: z.instanceof(Uint8Array),
      doc: z.object({ a: z.string() }),
      tags: z.array(z.string()),
      kind: z.enum(['a', 'b']),
      emb: z.array(z.number()).meta({ vector: 3 }),
      half: z.instanceof(Float32Array).meta({ vector: 4, kind: 'halfvec' }),
      small: z.number().int().meta({ pgType: 'integer' }),
      note: z.string().optional(),
      when: z.date().nullable(),
      price: z.number(),
    }), ['name'], { columnOverrides: { price: 'numeric(12,2)' } });
    expect(Object.fromEntries(s.columns.map((c) => [c.name, c.nullable ? `${c.type} NULL` : c.type]))).toEqual({
      ok: 'boolean', count: 'bigint', n: 'bigint', score: 'double precision', big: 'bigint', name: 'text', id: 'uuid',
      at: 'timestamp with time zone', raw: 'bytea', doc: 'jsonb', tags: 'jsonb', kind: 'text', emb: 'vector(3)', half: 'halfvec(4)',
      small: 'integer', note: 'text NULL', when: 'timestamp with time zone NULL', price: 'numeric(12,2)',
    });
  });
  it('explicit columns and key checks', () => {
    const s = TableSchema.fromColumns({ category: { type: 'text', nullable: false }, price: { type: 'numeric' } }, ['category']);
    expect(s.columns).toEqual([{ name: 'category', type: 'text', nullable: false }, { name: 'price', type: 'numeric', nullable: true }]);
    expect(() => TableSchema.fromColumns({ a: { type: 'text' } }, ['b'])).toThrow(/"b" is not a column/);
    expect(() => TableSchema.fromZod(z.object({ f: z.instanceof(Float32Array) }), ['f'])).toThrow(/vector schema/);
  });
});

describe('JS values as PostgreSQL text', () => {
  it('encodes each kind exactly', () => {
    expect(toPgText(true, 'boolean')).toBe('t');
    expect(toPgText(2 ** 53 + 2, 'bigint')).toBe('9007199254740994');
    expect(toPgText(12345678901234567890n, 'numeric')).toBe('12345678901234567890');
    expect(toPgText(NaN, 'double precision')).toBe('NaN');
    expect(toPgText(new Date('2024-01-02T03:04:05.678Z'), 'timestamp with time zone')).toBe('2024-01-02T03:04:05.678Z');
    expect(toPgText(new Uint8Array([0, 255, 16]), 'bytea')).toBe('\\x00ff10');
    expect(toPgText({ a: [1, 'x'] }, 'jsonb')).toBe('{"a":[1,"x"]}');
    expect(toPgText('plain', 'jsonb')).toBe('"plain"');
    expect(toPgText(new Float32Array([0.5, 1, -2]), 'vector(3)')).toBe('[0.5,1,-2]');
    expect(toPgText(['a "q"', null, 'b\\c'], 'text[]')).toBe('{"a \\"q\\"",NULL,"b\\\\c"}');
    expect(toPgText(null, 'text')).toBeNull();
    expect(toPgText(undefined, 'text')).toBeNull();
  });
});
