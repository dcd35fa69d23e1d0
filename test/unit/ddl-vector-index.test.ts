import { describe, expect, it } from 'vitest';
import { createVectorIndexSql, vectorIndexName } from '../../core/target/vector-index';
import { createTableSql, planTableDdl } from '../../core/target/ddl-planner';
import type { TargetColumn } from '../../core/target/target-columns';

const col = (name: string, type: string, keyPosition: number | null = null): TargetColumn => ({
  name, sourceName: name, sourceType: type, type, stagingType: type, nullable: keyPosition === null, keyPosition, overridden: false, isVector: false, category: 'base',
});

describe('vector index SQL', () => {
  it('maps metric and kind to the operator class and method options', () => {
    expect(createVectorIndexSql('public', 'items', { column: 'emb', metric: 'cosine', method: 'hnsw', m: 16, efConstruction: 64 }, 'vector(384)'))
      .toBe('CREATE INDEX "items__vector__emb" ON "public"."items" USING hnsw ("emb" vector_cosine_ops) WITH (m = 16, ef_construction = 64)');
    expect(createVectorIndexSql('s', 't', { name: 'x', column: 'h', metric: 'ip', method: 'ivfflat', lists: 100 }, 'halfvec(8)'))
      .toBe('CREATE INDEX "t__vector__x" ON "s"."t" USING ivfflat ("h" halfvec_ip_ops) WITH (lists = 100)');
    expect(createVectorIndexSql('s', 't', { column: 'v', metric: 'l2', method: 'ivfflat' }, 'vector')).toBe('CREATE INDEX "t__vector__v" ON "s"."t" USING ivfflat ("v" vector_l2_ops)');
  });
  it('refuses a non-vector column', () => {
    expect(() => createVectorIndexSql('s', 't', { column: 'v', metric: 'l2', method: 'ivfflat' }, 'real[]')).toThrow(/not vector or halfvec/);
  });
  it('keeps index names within 63 bytes, distinct for distinct long names', () => {
    const long = 'a_very_long_table_name_that_goes_on_and_on_and_on_forever';
    const a = vectorIndexName(long, { column: 'embedding_one' });
    const b = vectorIndexName(long, { column: 'embedding_two' });
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(vectorIndexName('é'.repeat(40), { column: 'c' }).length).toBeGreaterThan(0);
  });
});

describe('table DDL planning', () => {
  const cols = [col('id', 'integer', 1), col('My Col', 'text')];
  it('creates with quoted names and the key', () => {
    expect(createTableSql('public', 'select', cols)).toBe('CREATE TABLE "public"."select" (\n  "id" integer NOT NULL,\n  "My Col" text,\n  PRIMARY KEY ("id")\n)');
  });
  it('plans nothing for an identical table', () => {
    const actual = { schema: 'public', table: 't', kind: 'r', primaryKey: ['id'], uniqueKeys: [['id']], indexes: [], columns: [
      { name: 'id', type: 'integer', nullable: false, hasDefault: false, keyPosition: 1 },
      { name: 'My Col', type: 'text', nullable: true, hasDefault: false, keyPosition: null },
    ] };
    expect(planTableDdl({ schema: 'public', table: 't', columns: cols, actual, castable: () => true }).steps).toEqual([]);
  });
});
