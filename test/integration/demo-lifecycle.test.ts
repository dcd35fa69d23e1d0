import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Engine } from '../../core/app/engine';
import { MemorySecretStore } from '../../core/settings/secret-store';
import { createDispatcher, type Dispatcher } from '../../core/api/dispatcher';
import type { ApiEvent } from '../../core/api/events';
import type { DemoStatus, SavedConnection } from '../../core/api/contract';
import type { Plan, TableInfo } from '../../core/api/model';
import { DEMO_FLOW_NAME } from '../../core/demo/demo-flow';
import { seedCounts } from '../../core/demo/seed';
import { call as callApi } from '../support/api';

// The built-in demo from nothing: real PostgreSQL 18 + PGlite/pgvector started in the data folder,
// registered as connections with a ready flow that plans and applies (vector override and HNSW
// index), activity that writes, and a restart that finds its data again. The demo always runs its
// own PostgreSQL 18, so it runs once (in the PG 18 project), at a small scale to stay fast.
const SCALE = 0.02;

describe.runIf(inject('pgLabel').includes('PostgreSQL 18'))('demo: start from nothing, use, restart, reset', () => {
  let dataDir: string;
  let engine: Engine;
  let api: Dispatcher;
  const events: ApiEvent[] = [];

  const call = <T = unknown>(method: string, input?: unknown) => callApi<T>(api, method, input);
  const open = () => {
    engine = new Engine({ dataDir, mode: 'browser', secrets: new MemorySecretStore(), demo: { scale: SCALE } });
    engine.events.on((e) => events.push(e));
    api = createDispatcher(engine);
  };
  const sourceCount = async (table: string) => {
    const url = engine.demo.urls()!.source;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return Number((await c.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
    } finally {
      await c.end();
    }
  };

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tablesync-demo-'));
    open();
  });
  afterAll(async () => {
    await engine?.demo.destroy().catch(() => {});
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts from nothing and registers its connections and flow', async () => {
    expect((await call<DemoStatus>('demo.status')).state).toBe('absent');
    expect((await call<{ firstRun: boolean }>('app.info')).firstRun).toBe(true);
    const status = await call<DemoStatus>('demo.start');
    expect(status).toMatchObject({ state: 'running', sourceConnectionId: 'demo-source', targetConnectionId: 'demo-target', flowName: DEMO_FLOW_NAME });
    const conns = await call<SavedConnection[]>('connections.list');
    expect(conns.map((c) => [c.name, c.demo])).toEqual([['Demo source', true], ['Demo target (pgvector)', true]]);
    expect((await call<{ name: string; demo: boolean }[]>('flows.list')).map((f) => [f.name, f.demo])).toEqual([[DEMO_FLOW_NAME, true]]);
    expect(events.some((e) => e.event === 'demo.status' && e.payload.state === 'starting')).toBe(true);
    expect(events.some((e) => e.event === 'demo.status' && e.payload.state === 'running')).toBe(true);
  });

  it('is usable: the catalog shows the seeded shop, with a key-less table marked unusable', async () => {
    const tables = await call<TableInfo[]>('catalog.tables', { connectionId: 'demo-source', schema: 'public' });
    expect(tables.map((t) => t.name).sort()).toEqual(['customers', 'order_lines', 'page_views', 'products']);
    expect(tables.find((t) => t.name === 'order_lines')?.primaryKey).toEqual(['order_id', 'line_no']);
    expect(tables.find((t) => t.name === 'page_views')?.unusableAsSource).toBeTruthy();
    const counts = seedCounts(SCALE);
    expect(await sourceCount('products')).toBe(counts.products);
    expect(await sourceCount('order_lines')).toBe(counts.orderLines);
    const d = await call<{ columns: { name: string; type: string }[] }>('catalog.describe', { connectionId: 'demo-source', schema: 'public', table: 'products' });
    expect(Object.fromEntries(d.columns.map((c) => [c.name, c.type]))).toMatchObject({ embedding: 'real[]', attributes: 'jsonb', tags: 'text[]', modified_time: 'timestamp with time zone', price: 'numeric(12,2)' });
    const page = await call<{ rows: unknown[][] }>('browse.rows', { connectionId: 'demo-source', schema: 'public', table: 'products', limit: 5, sort: { column: 'price', dir: 'desc' } });
    expect(page.rows).toHaveLength(5);
    // the target is a PostgreSQL with pgvector
    expect(await call('connections.test', { id: 'demo-target' })).toMatchObject({ ok: true, pgvector: expect.stringMatching(/installed|available/) });
  });

  it('plans and applies the demo flow into the pgvector target', async () => {
    const plan = await call<Plan>('flows.plan', { name: DEMO_FLOW_NAME });
    expect(plan.blockers).toEqual([]);
    expect(plan.rows.insert).toBeGreaterThan(0);
    expect(plan.columns.find((c) => c.sourceName === 'embedding')?.type).toBe('vector(16)');
    expect(plan.steps.some((s) => s.kind === 'create-index')).toBe(true);
    const result = await call<{ rows: { insert: number } }>('flows.apply', { name: DEMO_FLOW_NAME, expectedFingerprint: plan.fingerprint });
    expect(result.rows.insert).toBe(plan.rows.insert);
    const target = await call<{ rows: unknown[][]; columns: { name: string; type: string }[] }>('browse.rows', { connectionId: 'demo-target', schema: 'public', table: 'products_search', limit: 3 });
    expect(target.columns.find((c) => c.name === 'embedding')?.type).toBe('vector(16)');
    expect(target.rows).toHaveLength(3);
  });

  it('simulates activity on the source until stopped', async () => {
    const before = events.filter((e) => e.event === 'demo.activity').length;
    await call('demo.activityStart', { ratePerSecond: 20 });
    const deadline = Date.now() + 15_000;
    while (events.filter((e) => e.event === 'demo.activity').length < before + 5) {
      if (Date.now() > deadline) throw new Error('no activity');
      await new Promise((r) => setTimeout(r, 50));
    }
    const stopped = await call<DemoStatus>('demo.activityStop');
    expect(stopped.activity.running).toBe(false);
    expect(stopped.activity.applied).toBeGreaterThanOrEqual(5);
    const n = events.filter((e) => e.event === 'demo.activity').length;
    await new Promise((r) => setTimeout(r, 300));
    expect(events.filter((e) => e.event === 'demo.activity').length).toBe(n);
  });

  it('restarts with its data (a new engine on the same data folder), and resets afresh', async () => {
    const products = await sourceCount('products');
    expect((await call<DemoStatus>('demo.stop')).state).toBe('stopped');
    await engine.close();
    expect(existsSync(join(dataDir, 'demo', 'demo.json'))).toBe(true);
    open();
    expect((await call<DemoStatus>('demo.status')).state).toBe('stopped');
    await call('demo.start');
    expect(await sourceCount('products')).toBe(products);
    // the target kept what the flow applied
    const again = await call<Plan>('flows.plan', { name: DEMO_FLOW_NAME });
    expect(again.target.exists).toBe(true);

    await call('demo.reset');
    expect(await sourceCount('products')).toBe(seedCounts(SCALE).products);
    const fresh = await call<Plan>('flows.plan', { name: DEMO_FLOW_NAME });
    expect(fresh.target.exists).toBe(false);
  });
});
