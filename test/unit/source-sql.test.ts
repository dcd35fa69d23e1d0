import { describe, expect, it } from 'vitest';
import type { ColumnInfo } from '../../core/api/model';
import { fingerprintSql, fromWhereSql, selectListSql, rowsByKeysSql, type ResolvedSource } from '../../core/source';

const col = (name: string, type: string, typeOid: number, keyPosition: number | null = null): ColumnInfo => ({
  name, type, typeOid, typeName: `pg_catalog.${type}`, category: 'base', position: 1, nullable: true, default: null,
  identity: null, generated: false, keyPosition,
});

const resolved = {
  schema: 'My Schema', table: 'select', description: {} as ResolvedSource['description'],
  keyColumns: [col('naïve"quote', 'text', 25, 1), col('id', 'bigint', 20, 2)],
  valueColumns: [col('a.b', 'numeric(12,2)', 1700), col('when', 'timestamp with time zone', 1184)],
  filter: 'id > 0 -- positive',
} satisfies ResolvedSource;

describe('source SQL builders', () => {
  it('quotes every identifier and keeps keys first', () => {
    expect(selectListSql(resolved)).toBe('"naïve""quote", "id", "a.b", "when"');
  });

  it('puts the filter on lines of its own inside parentheses', () => {
    expect(fromWhereSql(resolved)).toBe('FROM "My Schema"."select" WHERE (\nid > 0 -- positive\n)');
    expect(fromWhereSql({ ...resolved, filter: undefined })).toBe('FROM "My Schema"."select"');
  });

  it('hashes exact-hash types typed and the rest as text, in column order', () => {
    expect(fingerprintSql(resolved.valueColumns)).toBe('hash_record_extended(ROW("a.b"::text, "when"), 0)');
    expect(fingerprintSql([])).toBe('0::int8');
  });

  it('casts key arrays to the key types in a subquery the filter cannot see', () => {
    expect(rowsByKeysSql(resolved)).toBe(
      'SELECT "naïve""quote", "id", "a.b", "when" FROM "My Schema"."select" WHERE ("naïve""quote", "id") IN ' +
      '(SELECT k1::text, k2::bigint FROM unnest($1::text[], $2::text[]) AS keys(k1, k2)) AND (\nid > 0 -- positive\n)');
  });
});
