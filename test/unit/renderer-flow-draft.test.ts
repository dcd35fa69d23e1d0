// The flow setup form maps to a flow file the engine's own schema accepts: overrides, included
// columns, ordinal candidates, the default channel within 63 bytes, vector indexes, attachments.
import { describe, expect, it } from 'vitest';
import { flowSpec } from '../../core/flow/schema';
import { formCaptureNames, flowFromForm, formFromFlow, formFromTable, ordinalCandidates, typeSuggestions } from '../../renderer/src/lib/flow-draft';
import type { ColumnInfo, SavedConnection, TableDescription } from '../../renderer/src/api/types';

const col = (name: string, type: string, over: Partial<ColumnInfo> = {}): ColumnInfo => ({
  name, position: 1, type, typeOid: 0, typeName: type, category: 'base', nullable: true, default: null, identity: null, generated: false, keyPosition: null, ...over,
});
const desc: TableDescription = {
  schema: 'public', name: 'products', kind: 'table', primaryKey: ['id'], estimatedRows: 10,
  columns: [
    col('id', 'bigint', { keyPosition: 1, nullable: false, typeOid: 20 }),
    col('name', 'text', { typeOid: 25 }),
    col('qty', 'integer', { typeOid: 23 }),
    col('price', 'numeric(12,2)', { typeOid: 1700 }),
    col('updated_at', 'timestamp with time zone', { typeOid: 1184 }),
    col('embedding', 'vector(384)', { category: 'vector', vector: { kind: 'vector', dimensions: 384 } }),
    // a domain over integer prints as its own name and has its own OID: the engine refuses it
    col('rank', 'positive_int', { typeOid: 16401, category: 'domain', domainBaseType: 'integer' }),
  ],
};
const conn = (id: string, name: string): SavedConnection => ({ id, name, host: 'h', port: 5432, database: 'd', user: 'u', sslmode: 'prefer', options: {}, hasPassword: false, demo: false });
const src = conn('c1', 'shop');
const tgt = conn('c2', 'search');

describe('flow setup form', () => {
  it('"New flow from this table" starts from the filter the user had applied', () => {
    const f = flowFromForm(formFromTable(desc, src, tgt, [src, tgt], "price > 10 and name ilike '%lamp%'"));
    expect(f.source.filter).toBe("price > 10 and name ilike '%lamp%'");
    expect(flowFromForm(formFromTable(desc, src, tgt, [src, tgt])).source.filter).toBeUndefined();
  });

  it('a fresh form makes a valid flow that includes every column', () => {
    const f = flowFromForm(formFromTable(desc, src, tgt, [src, tgt]));
    expect(flowSpec.safeParse(f).success).toBe(true);
    expect(f.source.includedColumns).toBeUndefined();
    expect(f.source.connection).toEqual({ saved: 'shop' });
    expect(f.target.connection).toEqual({ saved: 'search' });
    expect(f.source.notification).toEqual({});
  });

  it('writes overrides, included columns, ordinal, filter, vector index and attachment', () => {
    const v = formFromTable(desc, src, tgt, [src, tgt]);
    v.columns.find((c) => c.source === 'qty')!.included = false;
    v.columns.find((c) => c.source === 'name')!.targetName = 'title';
    v.columns.find((c) => c.source === 'embedding')!.dims = '768';
    v.columns.find((c) => c.source === 'embedding')!.targetType = 'halfvec(384)';
    v.ordinalColumn = 'updated_at';
    v.filter = ' price > 0 ';
    v.channelName = 'products_changes';
    v.vectorIndexes = [{ name: '', column: 'embedding', metric: 'cosine', method: 'hnsw', lists: '', m: '16', efConstruction: '64' }];
    v.attachments = [{ name: 'fts', setupSql: 'CREATE INDEX fts ON products_search (title)', teardownSql: '' }];
    const f = flowFromForm(v);
    expect(flowSpec.parse(f)).toBeTruthy();
    expect(f.source.includedColumns).toEqual(['name', 'price', 'updated_at', 'embedding', 'rank']);
    expect(f.target.columns).toEqual({ name: { name: 'title' }, embedding: { type: 'halfvec(768)' } });
    expect(f.source).toMatchObject({ ordinalColumn: 'updated_at', filter: 'price > 0', notification: { channelName: 'products_changes' } });
    expect(f.target.vectorIndexes).toEqual([{ column: 'embedding', metric: 'cosine', method: 'hnsw', m: 16, efConstruction: 64 }]);
    expect(f.target.sqlAttachments).toEqual([{ name: 'fts', setupSql: 'CREATE INDEX fts ON products_search (title)' }]);
    // and back: the saved flow reopens as the same form
    const again = flowFromForm(formFromFlow(f, desc));
    expect(again).toEqual(f);
  });

  it('initial load: automatic saves no `load`; a fixed number saves load.streams and reopens as the same form', () => {
    const auto = flowFromForm(formFromTable(desc, src, tgt, [src, tgt]));
    expect(auto.load).toBeUndefined();
    expect(formFromFlow(auto, desc)).toMatchObject({ loadMode: 'auto', loadStreams: '' });
    const v = { ...formFromTable(desc, src, tgt, [src, tgt]), loadMode: 'fixed' as const, loadStreams: '6' };
    const f = flowFromForm(v);
    expect(f.load).toEqual({ streams: 6 });
    expect(flowSpec.parse(f).load).toEqual({ streams: 6 });
    const back = formFromFlow(flowSpec.parse(f), desc);
    expect(back).toMatchObject({ loadMode: 'fixed', loadStreams: '6' });
    expect(flowFromForm(back)).toEqual(f);
    // Back to automatic: the setting leaves the flow file.
    expect(flowFromForm({ ...back, loadMode: 'auto' }).load).toBeUndefined();
  });

  it('a flow with logical-replication capture keeps it when saved from the form (never turned into a trigger, never lost)', () => {
    const f = flowFromForm(formFromTable(desc, src, tgt, [src, tgt]));
    const logical = flowSpec.parse({ ...f, source: { ...f.source, notification: undefined, replication: { slotName: 'my_slot' } } });
    const form = formFromFlow(logical, desc);
    expect(form.replication).toEqual({ slotName: 'my_slot' });
    const back = flowFromForm(form);
    expect(back.source.replication).toEqual({ slotName: 'my_slot' });
    expect(back.source.notification).toBeUndefined();
    expect(flowSpec.safeParse(back).success).toBe(true);
    // a new flow from a table is trigger capture, as before
    expect(formFromTable(desc, src, tgt, [src, tgt]).replication).toBeNull();
  });

  it('a flow that names its connections by id (the demo flow) opens with them picked', () => {
    const f = flowFromForm(formFromTable(desc, src, tgt, [src, tgt]));
    const byId = { ...f, source: { ...f.source, connection: { saved: 'c1' } }, target: { ...f.target, connection: { saved: 'c2' } } };
    const form = formFromFlow(byId, desc, [src, tgt]);
    // the pickers' option values: the name while it is unique
    expect(form.sourceConnection).toBe('shop');
    expect(form.targetConnection).toBe('search');
    // a reference to nothing saved stays as written (the form then says so)
    expect(formFromFlow({ ...byId, target: { ...byId.target, connection: { saved: 'gone' } } }, desc, [src, tgt]).targetConnection).toBe('gone');
  });

  it('offers only non-key integer and timestamp columns as the ordinal', () => {
    expect(ordinalCandidates(desc.columns).map((c) => c.name)).toEqual(['qty', 'updated_at']);
  });

  it('the default channel is the engine’s, cut to 63 bytes at a character boundary', () => {
    expect(formCaptureNames({ name: 'products_sync', sourceTable: 'products', channelName: '' }).channel).toBe('products_sync__products__tablesync');
    const long = formCaptureNames({ name: 'ü'.repeat(40), sourceTable: 'products', channelName: '' }).rowTrigger;
    expect(new TextEncoder().encode(long).length).toBeLessThanOrEqual(63);
    expect(long.endsWith('\uFFFD')).toBe(false);
  });

  it('suggests the source type first and vector types for vectors', () => {
    const s = typeSuggestions(desc.columns[5]!);
    expect(s[0]).toBe('vector(384)');
    expect(s).toContain('halfvec(384)');
  });
});
