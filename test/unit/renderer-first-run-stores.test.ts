import { describe, expect, it } from 'vitest';
import { fakeApi } from './renderer-fake-api';
import { createConnectionsStore } from '../../renderer/src/stores/connections';
import { createCatalogStore } from '../../renderer/src/stores/catalog';
import { ApiCallError } from '../../core/api/errors';

// What a new user hit in the stores: a fixed password must reload the explorer (not keep the old
// auth error until Retry), a reopened connection form starts without the last test result, and
// Enter in the table search opens the first table it finds.
describe('first-run store behaviour', () => {
  const conn = { id: 'c1', name: 'shop', host: 'h', port: 5432, database: 'shop', user: 'u', sslmode: 'prefer', hasPassword: true };

  it('saving a connection bumps its revision; the explorer reopened with force reloads past an auth error', async () => {
    const api = fakeApi(0);
    let password = 'wrong';
    api.handlers['connections.save'] = (() => { password = 'right'; return conn; }) as never;
    api.handlers['catalog.schemas'] = (() => {
      if (password === 'wrong') throw new ApiCallError('CONNECTION_FAILED', 'password authentication failed for user "u"');
      return [{ name: 'public', isSystem: false }];
    }) as never;
    api.handlers['catalog.tables'] = (() => []) as never;
    const connections = createConnectionsStore(api);
    const catalog = createCatalogStore(api);
    await catalog.getState().open('c1');
    expect(catalog.getState().error).toMatch(/password authentication failed/);

    await connections.getState().save({ id: 'c1', name: 'shop', connection: { url: 'postgres://u:right@h/shop' } as never });
    expect(connections.getState().revisions['c1']).toBe(1);
    // what App does when the active connection's revision moves
    await catalog.getState().open('c1', { force: connections.getState().revisions['c1']! > 0 });
    expect(catalog.getState().error).toBeNull();
    expect(catalog.getState().schemas).toEqual(['public']);
  });

  it('forgets the form’s test result when the dialog closes', async () => {
    const api = fakeApi(0);
    api.handlers['connections.test'] = (() => ({ ok: false, error: { code: 'CONNECTION_FAILED', message: 'password authentication failed' } })) as never;
    const connections = createConnectionsStore(api);
    await connections.getState().test({ connection: { url: 'postgres://u@h/db' } as never }, 'draft');
    expect(connections.getState().tests['draft']?.result?.ok).toBe(false);
    connections.getState().clearDraftTest();
    expect(connections.getState().tests['draft']).toBeUndefined();
  });

  it('finds the first matching table in tree order', async () => {
    const api = fakeApi(0);
    api.handlers['catalog.schemas'] = (() => [{ name: 'public', isSystem: false }, { name: 'sales', isSystem: false }]) as never;
    const t = (name: string) => ({ name, kind: 'table', primaryKey: ['id'], estimatedRows: 1, unusableAsSource: null });
    api.handlers['catalog.tables'] = ((i: { schema: string }) => (i.schema === 'public' ? [t('customers'), t('products')] : [t('orders')])) as never;
    const catalog = createCatalogStore(api);
    await catalog.getState().open('c1');
    await catalog.getState().toggle('sales');
    catalog.getState().setSearch('ORD');
    expect(catalog.getState().firstMatch()).toEqual({ schema: 'sales', table: 'orders' });
    catalog.getState().setSearch('prod');
    expect(catalog.getState().firstMatch()).toEqual({ schema: 'public', table: 'products' });
    catalog.getState().setSearch('nothing');
    expect(catalog.getState().firstMatch()).toBeNull();
  });
});

describe('the flows store prepares the flow setup form', () => {
  const c = (id: string, name: string, demo = false) => ({ id, name, host: 'h', port: 5432, database: 'd', user: 'u', sslmode: 'prefer', options: {}, hasPassword: false, demo });
  const desc = { schema: 'public', name: 'products', kind: 'table', primaryKey: ['id'], estimatedRows: 3, columns: [{ name: 'id', position: 1, type: 'bigint', typeOid: 20, typeName: 'int8', category: 'base', nullable: false, default: null, identity: null, generated: false, keyPosition: 1 }] };

  it('from a table: the applied filter kept, the demo target chosen by the demo status (no name guessing)', async () => {
    const { createFlowsStore } = await import('../../renderer/src/stores/flows');
    const api = fakeApi(0);
    api.handlers['catalog.describe'] = (() => desc) as never;
    const flows = createFlowsStore(api);
    const conns = [c('src', 'Demo source', true), c('other', 'vector things'), c('tgt', 'Demo target (pgvector)', true)];
    flows.getState().newFrom({ connectionId: 'src', schema: 'public', table: 'products', filter: 'id > 2' });
    await flows.getState().prepareEditor(conns as never, { state: 'running', sourceConnectionId: 'src', targetConnectionId: 'tgt', flowName: 'x', activity: { running: false, ratePerSecond: 0, applied: 0 } } as never);
    const p = flows.getState().prepared!;
    expect(p.seq).toBe(flows.getState().editor.seq);
    expect(p.initial!.filter).toBe('id > 2');
    expect(p.initial!.targetConnection).toBe('Demo target (pgvector)');
    // not from the demo: the target starts as the source itself
    flows.getState().newFrom({ connectionId: 'other', schema: 'public', table: 'products' });
    await flows.getState().prepareEditor(conns as never, null);
    expect(flows.getState().prepared!.initial!.targetConnection).toBe('vector things');
  });

  it('says why when the source table cannot be read', async () => {
    const { createFlowsStore } = await import('../../renderer/src/stores/flows');
    const api = fakeApi(0);
    api.handlers['catalog.describe'] = (() => { throw new ApiCallError('NOT_FOUND', 'table "public"."products" does not exist'); }) as never;
    const flows = createFlowsStore(api);
    flows.getState().newFrom({ connectionId: 'src', schema: 'public', table: 'products' });
    await flows.getState().prepareEditor([c('src', 's')] as never, null);
    expect(flows.getState().prepared).toMatchObject({ initial: null, error: expect.stringContaining('does not exist') });
  });
});
