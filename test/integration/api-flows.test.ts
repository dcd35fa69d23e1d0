import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, type TestDatabase } from '../support/db';
import { Engine } from '../../core/app/engine';
import { MemorySecretStore } from '../../core/settings/secret-store';
import { createDispatcher, type Dispatcher } from '../../core/api/dispatcher';
import type { ApiEvent } from '../../core/api/events';
import type { Plan, ApplyResult } from '../../core/api/model';
import type { SavedConnection } from '../../core/api/contract';
import { call as callApi } from '../support/api';

// A flow's whole life through the contract: save, plan (writes nothing), apply with progress
// events, plan again (nothing to do), a stale fingerprint applied as recomputed, drop.
describe('API: flows plan, apply, drop', () => {
  let src: TestDatabase;
  let dst: TestDatabase;
  let dataDir: string;
  let engine: Engine;
  let api: Dispatcher;
  const events: ApiEvent[] = [];

  const call = <T = unknown>(method: string, input?: unknown) => callApi<T>(api, method, input);

  beforeAll(async () => {
    src = await freshDatabase('flsrc');
    dst = await freshDatabase('fldst');
    await src.sql(`CREATE TABLE products (id bigint PRIMARY KEY, name text, price numeric(12,2), modified_time timestamptz NOT NULL DEFAULT now())`);
    await src.sql(`INSERT INTO products (id, name, price) SELECT i, 'p' || i, i FROM generate_series(1, 250) i`);
    dataDir = mkdtempSync(join(tmpdir(), 'tablesync-flows-'));
    engine = new Engine({ dataDir, mode: 'browser', secrets: new MemorySecretStore() });
    engine.events.on((e) => events.push(e));
    api = createDispatcher(engine);
  });
  afterAll(async () => {
    await engine?.close();
    await src.drop();
    await dst.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('plans, applies with progress, re-plans to nothing, and drops', async () => {
    const s = await call<SavedConnection>('connections.save', { name: 'src', connection: { url: src.url } });
    await call('connections.save', { name: 'dst', connection: { url: dst.url } });
    const flow = {
      version: 1, name: 'products_copy',
      source: { connection: { saved: s.id }, table: 'products', ordinalColumn: 'modified_time', filter: 'price > 50' },
      target: { connection: { saved: 'dst' }, table: 'products_copy' },
    };
    await call('flows.save', { flow });

    const plan = await call<Plan>('flows.plan', { name: 'products_copy' });
    expect(plan.rows.insert).toBe(200);
    expect(plan.target.exists).toBe(false);
    expect((await dst.sql(`SELECT to_regclass('public.products_copy') AS t`)).rows[0].t).toBeNull();

    // an unsaved draft plans too
    const draft = await call<Plan>('flows.plan', { flow: { ...flow, name: 'draft', source: { ...flow.source, filter: 'price > 240' } } });
    expect(draft.rows.insert).toBe(10);

    const result = await call<ApplyResult>('flows.apply', { name: 'products_copy', expectedFingerprint: plan.fingerprint, requestId: 'apply-1' });
    expect(result.rows.insert).toBe(200);
    expect((await dst.sql('SELECT count(*) AS n FROM products_copy')).rows[0].n).toBe('200');
    const progress = events.filter((e) => e.event === 'flow.applyProgress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((e) => e.event === 'flow.applyProgress' && e.payload.requestId === 'apply-1' && e.payload.flow === 'products_copy')).toBe(true);

    const again = await call<Plan>('flows.plan', { name: 'products_copy' });
    expect(again.rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 200 });

    await src.sql(`UPDATE products SET price = 1, modified_time = now() WHERE id = 100`);
    // rows changed since the reviewed plan: applied as recomputed, and the answer says so
    const re = await call<ApplyResult>('flows.apply', { name: 'products_copy', expectedFingerprint: again.fingerprint });
    expect(re).toMatchObject({ replanned: true, rows: { delete: 1 } });

    const dropped = await call<{ steps: string[] }>('flows.drop', { name: 'products_copy', allowDestructive: true });
    expect(dropped.steps.length).toBeGreaterThan(0);
    expect((await dst.sql(`SELECT to_regclass('public.products_copy') AS t`)).rows[0].t).toBeNull();
  });

  it('cancels a long plan and a long apply by requestId; the target stays as it was', async () => {
    await src.sql(`CREATE TABLE slow (id int PRIMARY KEY, v text)`);
    await src.sql(`INSERT INTO slow SELECT i, 'v' || i FROM generate_series(1, 2000) i`);
    // cheap where validation evaluates it (a NULL row, the first row), ~20 s over the table
    const filter = 'pg_sleep(CASE WHEN id > 1 THEN 0.01 ELSE 0 END) IS NOT NULL';
    const flow = { version: 1, name: 'slow_copy', source: { connection: { saved: 'src' }, table: 'slow', filter }, target: { connection: { saved: 'dst' }, table: 'slow_copy' } };
    await call('flows.save', { flow });
    for (const [method, input] of [['flows.plan', { name: 'slow_copy', requestId: 'plan-slow' }], ['flows.apply', { name: 'slow_copy', requestId: 'apply-slow' }]] as const) {
      const started = Date.now();
      const running = api.dispatch(method, input);
      await new Promise((r) => setTimeout(r, 1000));
      expect(await call('query.cancel', { requestId: input.requestId })).toEqual({ cancelled: true });
      expect(await running).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
      expect(Date.now() - started).toBeLessThan(10_000);
    }
    expect((await dst.sql(`SELECT to_regclass('public.slow_copy') AS t`)).rows[0].t).toBeNull();
  });

  it('reports flow errors with their codes', async () => {
    await expect(call('flows.plan', { name: 'missing' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const bad = {
      version: 1, name: 'bad_flow',
      source: { connection: { saved: 'src' }, table: 'nope' },
      target: { connection: { saved: 'dst' }, table: 'x' },
    };
    await expect(call('flows.plan', { flow: bad })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(call('flows.plan', { flow: { ...bad, source: { ...bad.source, connection: { saved: 'ghost' } } } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(call('flows.plan', { flow: { ...bad, source: { ...bad.source, connection: { env: 'TABLESYNC_TEST_UNSET_VAR' } } } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
