import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, type TestDatabase } from '../support/db';
import { Engine } from '../../core/app/engine';
import { MemorySecretStore } from '../../core/settings/secret-store';
import { createDispatcher, type Dispatcher } from '../../core/api/dispatcher';
import type { SavedConnection } from '../../core/api/contract';
import type { ApplyResult, Plan } from '../../core/api/model';
import { call as callApi } from '../support/api';

// The flow editor's "automatic: …" through the contract (flows.loadChoice): the engine's own choice
// for a draft, leaving the draft's load.streams out; null once the table exists; a one-session
// server is not asked (it would be taken from whoever needs it next); and the app's plan and apply
// carry how the load runs (Plan.initialLoad, ApplyResult.initialLoad) with the saved load.streams.
describe('API: how an initial load will run', () => {
  let src: TestDatabase;
  let dst: TestDatabase;
  let dataDir: string;
  let engine: Engine;
  let api: Dispatcher;
  const call = <T = unknown>(method: string, input?: unknown) => callApi<T>(api, method, input);

  beforeAll(async () => {
    src = await freshDatabase('lcsrc');
    dst = await freshDatabase('lcdst');
    await src.sql(`CREATE TABLE products (id bigint PRIMARY KEY, name text)`);
    await src.sql(`INSERT INTO products SELECT i, 'p' || i FROM generate_series(1, 500) i`);
    await src.sql('ANALYZE products');
    dataDir = mkdtempSync(join(tmpdir(), 'tablesync-load-choice-'));
    engine = new Engine({ dataDir, mode: 'browser', secrets: new MemorySecretStore() });
    api = createDispatcher(engine);
  });
  afterAll(async () => {
    await engine?.close();
    await src.drop();
    await dst.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers for a draft, plans and applies with the saved streams, then says it is no initial load', async () => {
    await call<SavedConnection>('connections.save', { name: 'src', connection: { url: src.url } });
    await call('connections.save', { name: 'dst', connection: { url: dst.url } });
    const flow = { version: 1, name: 'copy', source: { connection: { saved: 'src' }, table: 'products' }, target: { connection: { saved: 'dst' }, table: 'products_copy' }, load: { streams: 2 } };
    expect(await call('flows.loadChoice', { flow })).toEqual({ automatic: { streams: 1, format: 'binary', estimatedRows: 500 } });
    await call('flows.save', { flow });
    const plan = await call<Plan>('flows.plan', { name: 'copy' });
    expect(plan.initialLoad).toEqual({ streams: 2, requested: 2, format: 'binary', estimatedRows: 500 });
    const r = await call<ApplyResult>('flows.apply', { name: 'copy', expectedFingerprint: plan.fingerprint });
    expect(r.initialLoad).toEqual({ how: '2 streams, binary COPY' });
    expect((await dst.sql('SELECT count(*) AS n FROM products_copy')).rows[0].n).toBe('500');
    expect(await call('flows.loadChoice', { flow })).toEqual({ automatic: null });
    expect((await call<Plan>('flows.plan', { name: 'copy' })).initialLoad).toBeUndefined();
  });

  it('does not ask a one-session server', async () => {
    const one = await call<SavedConnection>('connections.save', { name: 'one', connection: { url: dst.url } });
    engine.settings.putConnection({ ...engine.settings.findConnection(one.id)!, poolMax: 1 });
    const flow = { version: 1, name: 'copy_one', source: { connection: { saved: 'src' }, table: 'products' }, target: { connection: { saved: 'one' }, table: 'products_one' } };
    const before = (await dst.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'tablesync%'`)).rows[0].n;
    expect(await call('flows.loadChoice', { flow })).toEqual({ automatic: null, notAsked: 'the target serves one session at a time' });
    expect((await dst.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'tablesync%'`)).rows[0].n).toBe(before);
  });
});
