// One naming module (core/api/names) for engine and UI: the flow editor shows exactly the channel,
// capture objects and vector index names that watch and apply create, for long, unicode and quoted
// names; and the names are the ones earlier versions created (so existing triggers stay ours).
import { describe, expect, it } from 'vitest';
import { flowSpec } from '../../core/flow/schema';
import { flowCaptureNames } from '../../core/live';
import { vectorIndexName as engineVectorIndexName } from '../../core/target';
import { ORDINAL_TYPE_OIDS } from '../../core/source';
import { SSL_MODES as connectionSslModes } from '../../core/connections';
import { SSL_MODES as contractSslModes } from '../../core/api/contract';
import { identifierByteLength } from '../../core/api/names';
import { flowFromForm, formCaptureNames, formFromTable, formVectorIndexName, ordinalCandidates } from '../../renderer/src/lib/flow-draft';
import type { ColumnInfo, SavedConnection, TableDescription } from '../../renderer/src/api/types';

const conn = (id: string, name: string): SavedConnection => ({ id, name, host: 'h', port: 5432, database: 'd', user: 'u', sslmode: 'prefer', options: {}, hasPassword: false, demo: false });
const col = (name: string, type: string, typeOid: number, over: Partial<ColumnInfo> = {}): ColumnInfo => ({
  name, position: 1, type, typeOid, typeName: type, category: 'base', nullable: true, default: null, identity: null, generated: false, keyPosition: null, ...over,
});
const table = (name: string): TableDescription => ({
  schema: 'public', name, kind: 'table', primaryKey: ['id'], estimatedRows: 1,
  columns: [col('id', 'bigint', 20, { keyPosition: 1, nullable: false }), col('embedding', 'vector(3)', 99999, { category: 'vector', vector: { kind: 'vector', dimensions: 3 } })],
});

// [flow name, source table, channelName typed in the form, channel earlier engines created]
const cases: Array<[string, string, string, string]> = [
  ['products_search', 'source_products', '', 'products_search__source_products__tablesync'],
  // the 51-character flow name: the editor used to show "…__source_pro", the engine made a hashed name
  ['a_flow_name_that_is_exactly_fifty_one_characters_x', 'source_products', '', 'a_flow_name_that_is_exactly_fifty_one_characters_x___d4b5cd8c'],
  ['ü'.repeat(40), 'products', '', 'üüüüüüüüüüüüüüüüüüüüüüüüüü_4879d324'],
  ['naïve"quote flow', 'My "Table"', '', 'naïve"quote flow__My "Table"__tablesync'],
  ['f', 't', 'c'.repeat(62), 'cccccccccccccccccccccccccccccccccccccccccccccccccccc_d209f56f'],
  ['日本語のフロー名前'.repeat(3), 'テーブル', '', '日本語のフロー名前日本語のフロー名_27c3aede'],
  ["it's a flow", 'select', '', "it's a flow__select__tablesync"],
  ['emoji 🚀 flow '.repeat(4).trim(), 't🚀', '', 'emoji 🚀 flow emoji 🚀 flow emoji 🚀 flow emoj_62072dd1'],
  ['  spaced  ', 'items', '  Audit Channel ', 'Audit Channel'],
];

describe('the flow editor and the engine name things the same way', () => {
  it.each(cases)('capture names for flow %j on %j (channel %j)', (flowName, sourceTable, channelName, expected) => {
    const form = { ...formFromTable(table(sourceTable), conn('a', 'src'), conn('b', 'tgt'), []), name: flowName, channelName };
    const flow = flowSpec.parse(flowFromForm(form));
    const ui = formCaptureNames(form);
    const engine = flowCaptureNames(flow);
    expect(ui).toEqual(engine);
    expect(engine.channel).toBe(expected);
    for (const n of Object.values(engine)) expect(identifierByteLength(n)).toBeLessThanOrEqual(63);
    expect(engine.functionName).toBe(`${engine.channel}_n`);
    expect(engine.rowTrigger).toBe(`${engine.channel}_t`);
    expect(engine.truncateTrigger).toBe(`${engine.channel}_r`);
  });

  const indexCases: Array<[string, string, string, string]> = [
    ['products', '', 'embedding', 'products__vector__embedding'],
    ['x'.repeat(60), '', 'embedding_one', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx_8e705728'],
    ['é'.repeat(40), '', 'c', 'ééééééééééééééééééééééééééé_211ef3ef'],
    ['My "T"', 'vec 🚀', 'embedding', 'My "T"__vector__vec 🚀'],
  ];
  it.each(indexCases)('vector index name on %j (name %j, column %j)', (targetTable, name, column, expected) => {
    const form = { ...formFromTable(table('src'), conn('a', 'src'), conn('b', 'tgt'), []), targetTable };
    form.vectorIndexes = [{ name, column, metric: 'cosine', method: 'hnsw', lists: '', m: '', efConstruction: '' }];
    const flow = flowSpec.parse(flowFromForm(form));
    const spec = flow.target.vectorIndexes![0]!;
    expect(formVectorIndexName(form, form.vectorIndexes[0]!)).toBe(engineVectorIndexName(flow.target.table, spec));
    expect(engineVectorIndexName(flow.target.table, spec)).toBe(expected);
  });

  it('offers as ordinal exactly the types the engine accepts, and one sslmode list everywhere', () => {
    const oids = [16, 20, 21, 23, 25, 700, 701, 1082, 1083, 1114, 1184, 1700, 16401];
    const offered = ordinalCandidates(oids.map((o) => col(`c${o}`, 'whatever', o))).map((c) => c.typeOid);
    expect(offered).toEqual(oids.filter((o) => ORDINAL_TYPE_OIDS.has(o)));
    expect(offered).toEqual([20, 21, 23, 1114, 1184]);
    expect(ordinalCandidates([col('k', 'bigint', 20, { keyPosition: 1 })])).toEqual([]);
    expect(connectionSslModes).toBe(contractSslModes);
  });
});
