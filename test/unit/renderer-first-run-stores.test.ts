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
