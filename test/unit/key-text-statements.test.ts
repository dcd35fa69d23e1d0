import { describe, expect, it } from 'vitest';
import { batchSql, knownBatchSql } from '../../core/target/key-batch';
import { mergeStageSql, settleMarksSql } from '../../core/target/load-rows';
import { changedSql } from '../../core/target/rows';
import { internalNames } from '../../core/target/internal-names';
import type { Prepared } from '../../core/target/prepare';
import type { TargetColumn } from '../../core/target/target-columns';
import { looseKeys } from '../../core/target/text-identity';
import { summaryKeySql } from '../../core/target/summary';

/**
 * The hot statements (live batches, the apply's diff, merge and tracking) for keys of types whose
 * equal values always print alike must not pay for keys whose equal values print differently
 * (numeric 1.0 = 1.00): their text is pinned here (the snapshot was taken before that change), and
 * a numeric key's statements are shown to set and compare the key's text.
 */
function col(name: string, type: string, keyPosition: number | null): TargetColumn {
  return { name, sourceName: name, sourceType: type, type, stagingType: type, nullable: keyPosition === null, keyPosition, overridden: false, isVector: false, category: 'base' as TargetColumn['category'] };
}

function prepared(opts: { keys: [string, string][]; values: [string, string][]; ordinal?: string; managedBy?: 'system' | 'user'; nullableOrdinal?: boolean; comparable?: boolean }): Prepared {
  const keyColumns = opts.keys.map(([n, t], i) => col(n, t, i + 1));
  const valueColumns = opts.values.map(([n, t]) => col(n, t, null));
  const mode = opts.ordinal ? 'ordinal' : 'fingerprint';
  return {
    job: {
      flowName: 'f',
      source: { mode, ...(opts.ordinal ? { ordinalColumn: opts.ordinal, ordinalType: 'bigint' } : {}) },
      target: { managedBy: opts.managedBy ?? 'system', schema: 'public', table: 't_copy' },
    },
    columns: [...keyColumns, ...valueColumns],
    keyColumns,
    valueColumns,
    tableSql: '"public"."t_copy"',
    trackingSql: '"tablesync"."tracking_f"',
    tableRead: '"public"."t_copy"',
    trackingRead: '"tablesync"."tracking_f"',
    trackingExists: true,
    comparable: opts.comparable ?? true,
    names: internalNames(keyColumns.map((k) => k.name)),
    nullableOrdinal: opts.nullableOrdinal === true,
    newSetup: { tracking: { ordinalType: opts.ordinal ? 'bigint' : 'text' } },
  } as unknown as Prepared;
}

const side = (param: (i: number) => string) => `INSERT INTO pos VALUES (${param(1)}) RETURNING 1`;

function statements(p: Prepared): Record<string, string> {
  return { batch: batchSql(p), known: knownBatchSql(p), knownSide: knownBatchSql(p, side), merge: mergeStageSql(p), settle: settleMarksSql(p), changed: changedSql(p) };
}

const exactShapes: Record<string, Parameters<typeof prepared>[0]> = {
  'int key, fingerprint': { keys: [['id', 'integer']], values: [['v', 'text'], ['n', 'numeric']] },
  'bigint key, ordinal, user-managed': { keys: [['id', 'bigint']], values: [['v', 'text'], ['m', 'bigint']], ordinal: 'm', managedBy: 'user' },
  'composite (uuid, text, timestamptz) key, nullable ordinal': { keys: [['a', 'uuid'], ['b', 'text'], ['c', 'timestamp with time zone']], values: [['m', 'bigint']], ordinal: 'm', nullableOrdinal: true },
  'smallint key, no value columns': { keys: [['id', 'smallint']], values: [] },
  'date + varchar key, not comparable': { keys: [['d', 'date'], ['s', 'character varying(20)']], values: [['v', 'bytea']], comparable: false },
};

describe('statements for keys whose equal values print alike', () => {
  for (const [shape, o] of Object.entries(exactShapes)) {
    it(`${shape}: unchanged`, () => {
      expect(statements(prepared(o))).toMatchSnapshot();
    });
  }
});

describe('keys whose equal values may print differently', () => {
  it('the list: integers, uuid, text, dates and timestamps print alike; numeric, floats, interval, arrays, a nondeterministic collation do not', () => {
    const keys = (types: string[], nondet: string[] = []) => looseKeys({ keyColumns: types.map((t, i) => ({ ...col(`k${i}`, t, i + 1), ...(nondet.includes(t) ? { nondeterministic: true as const } : {}) })) }).map((k) => k.type);
    expect(keys(['smallint', 'integer', 'bigint', 'uuid', 'text', 'character varying(20)', 'date', 'timestamp with time zone', 'timestamp(3) without time zone', 'boolean', 'bytea'])).toEqual([]);
    expect(keys(['numeric', 'numeric(12,2)', 'double precision', 'real', 'interval', 'integer[]', 'citext', 'character(3)', 'my_enum'])).toEqual(['numeric', 'numeric(12,2)', 'double precision', 'real', 'interval', 'integer[]', 'citext', 'character(3)', 'my_enum']);
    expect(keys(['text', 'integer'], ['text'])).toEqual(['text']);
  });

  it('the summaries hash an int key typed, a numeric key by its text', () => {
    expect(summaryKeySql('id', 'integer', 't')).toBe('t."id"');
    expect(summaryKeySql('id', 'integer')).toBe('"id"');
    expect(summaryKeySql('n', 'numeric', 't')).toBe('t."n"::text');
  });

  it('a numeric key of a composite key: the upserts set it, tracking follows, the diff compares its text, an equal old key is not removed', () => {
    const p = prepared({ keys: [['id', 'integer'], ['n', 'numeric']], values: [['v', 'text']] });
    const s = statements(p);
    for (const st of [s.batch, s.known, s.knownSide]) {
      expect(st).toContain('DO UPDATE SET "v" = EXCLUDED."v", "n" = EXCLUDED."n"');
      expect(st).toContain('DO UPDATE SET "__tablesync_fingerprint" = EXCLUDED."__tablesync_fingerprint", "n" = EXCLUDED."n"');
      expect(st).toContain('AND NOT EXISTS (SELECT 1 FROM s WHERE s.c1::integer = g.k1::integer AND s.c2::numeric = g.k2::numeric)');
      expect(st).not.toContain('"id" = EXCLUDED."id"');
    }
    expect(s.batch).toContain('WHERE ROW(x."v", x."n")::text IS DISTINCT FROM ROW(EXCLUDED."v", EXCLUDED."n")::text');
    expect(s.merge).toContain('DO UPDATE SET "v" = EXCLUDED."v", "n" = EXCLUDED."n"');
    expect(s.merge).toContain('WHERE ROW(x."v", x."n")::text IS DISTINCT FROM ROW(EXCLUDED."v", EXCLUDED."n")::text');
    expect(s.settle).toContain('DO UPDATE SET "__tablesync_fingerprint" = EXCLUDED."__tablesync_fingerprint", "n" = EXCLUDED."n"');
    expect(s.changed).toContain('t."n"::text IS DISTINCT FROM (s."n")::text');
    expect(s.changed).not.toContain('t."id"::text');
  });

  it('a numeric key without value columns: the upserts update the key instead of doing nothing', () => {
    const s = statements(prepared({ keys: [['n', 'numeric']], values: [] }));
    expect(s.batch).toContain('DO UPDATE SET "n" = EXCLUDED."n"\n         WHERE ROW(x."n")::text IS DISTINCT FROM ROW(EXCLUDED."n")::text');
    expect(s.known).toContain('DO UPDATE SET "n" = EXCLUDED."n"');
    expect(s.merge).toContain('DO UPDATE SET "n" = EXCLUDED."n"');
    expect(s.batch).not.toContain('DO NOTHING');
  });
});
