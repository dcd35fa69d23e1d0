import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFlow, parseFlow } from '../../core/flow/load';
import { connectionResolver } from '../../core/flow/resolver';
import type { FlowInput } from '../../core/flow/schema';
import { applyFlow, formatApplyResult, formatPlan, initialLoadOf, planFlow } from '../../core/target';
import { freshDatabase, type TestDatabase } from '../support/db';

// What the plan (and the flow editor's "automatic: …") says an initial load will do, and what the
// apply result says it did: the load planner's own choice (core/target/initial-load.ts), reached
// through the flow's pools as the app and the CLI open them (core/flow/load.ts openFlow), so
// `load.streams` above the old source-pool cap of 4 is honoured.
describe('initial load: the plan says how it will run, the result how it ran', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  const opened: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    src = await freshDatabase('ilcs');
    tgt = await freshDatabase('ilct');
    for (const db of [src, tgt]) await db.sql(`CREATE DOMAIN posint AS integer CHECK (VALUE > 0)`);
    await src.sql(`CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2))`);
    // Wide enough rows (~40 heap pages) that a 6-stream load has more ranges than streams to share.
    await src.sql(`INSERT INTO items SELECT g, 'item ' || g || repeat('.', 400), g / 10.0 FROM generate_series(1, 600) g`);
    await src.sql(`CREATE TABLE dom (id bigint PRIMARY KEY, p posint)`);
    await src.sql(`INSERT INTO dom SELECT g, g FROM generate_series(1, 300) g`);
    await src.sql('ANALYZE');
  }, 120_000);
  afterAll(async () => {
    for (const c of opened) await c.close().catch(() => {});
    await src?.drop();
    await tgt?.drop();
  });

  const ctxOf = async (f: Omit<FlowInput, 'version' | 'source' | 'target'> & { source: Omit<FlowInput['source'], 'connection'>; target: Omit<FlowInput['target'], 'connection'> }) => {
    const flow = parseFlow({ version: 1, ...f, source: { connection: { url: src.url }, ...f.source }, target: { connection: { url: tgt.url }, ...f.target } });
    const ctx = await openFlow(flow, connectionResolver());
    opened.push(ctx);
    return ctx;
  };

  it('automatic: one stream for a small table, binary; the plan, the CLI text and the result say so', async () => {
    const ctx = await ctxOf({ name: 'auto_items', source: { table: 'items' }, target: { table: 'auto_items' } });
    const plan = await planFlow(ctx);
    expect(plan.initialLoad).toEqual({ streams: 1, format: 'binary', estimatedRows: 600 });
    expect(formatPlan(plan)).toContain('Initial load: one stream, binary COPY, ~600 rows (automatic, by the table’s size)');
    expect(await initialLoadOf(ctx, { automatic: true })).toEqual(plan.initialLoad);
    const r = await applyFlow(ctx);
    expect(r.initialLoad).toEqual({ how: '1 stream, binary COPY' });
    expect(formatApplyResult(r)).toContain('Initial load: 1 stream, binary COPY.');
    // Loaded: the next apply is not an initial load, and nothing says it is.
    expect((await planFlow(ctx)).initialLoad).toBeUndefined();
    expect(await initialLoadOf(ctx, { automatic: true })).toBeUndefined();
    const again = await applyFlow(ctx);
    expect(again.initialLoad).toBeUndefined();
    expect(again.rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 600 });
  });

  it('load.streams 6 (above the old cap of 4): planned, run and reported as 6 streams; the rows arrive exactly', async () => {
    const ctx = await ctxOf({ name: 'six_items', source: { table: 'items' }, target: { table: 'six_items' }, load: { streams: 6 } });
    const plan = await planFlow(ctx);
    expect(plan.initialLoad).toEqual({ streams: 6, requested: 6, format: 'binary', estimatedRows: 600 });
    expect(formatPlan(plan)).toContain('Initial load: 6 parallel streams, binary COPY, ~600 rows (set in the flow: 6)');
    // The editor's "automatic" line ignores the flow's own number.
    expect(await initialLoadOf(ctx, { automatic: true })).toEqual({ streams: 1, format: 'binary', estimatedRows: 600 });
    const r = await applyFlow(ctx, { expectedFingerprint: plan.fingerprint });
    expect(r.initialLoad).toEqual({ how: '6 streams, binary COPY' });
    expect(r.replanned).toBe(false);
    expect(r.rows.insert).toBe(600);
    const digest = async (db: TestDatabase, table: string) => (await db.sql(`SELECT count(*) AS n, md5(string_agg(ROW(id, name, price)::text, ',' ORDER BY id)) AS h FROM ${table}`)).rows[0];
    expect(await digest(tgt, 'six_items')).toEqual(await digest(src, 'items'));
  });

  it('a domain column (the target has the domain too) goes as text COPY, and the plan says so before the load', async () => {
    const ctx = await ctxOf({ name: 'dom_text', source: { table: 'dom' }, target: { table: 'dom_text' }, load: { streams: 2 } });
    const plan = await planFlow(ctx);
    expect(plan.initialLoad).toMatchObject({ streams: 2, requested: 2, format: 'text' });
    const r = await applyFlow(ctx);
    expect(r.initialLoad).toEqual({ how: '2 streams, text COPY' });
    expect((await tgt.sql(`SELECT count(*) AS n FROM dom_text`)).rows[0].n).toBe('300');
  });

  it('a user-managed target is never an initial load: no initialLoad in plan or result', async () => {
    await tgt.sql(`CREATE TABLE mine (id bigint PRIMARY KEY, name text, price numeric(10,2))`);
    const ctx = await ctxOf({ name: 'mine_items', source: { table: 'items' }, target: { table: 'mine', managedBy: 'user' }, load: { streams: 3 } });
    expect((await planFlow(ctx)).initialLoad).toBeUndefined();
    expect(await initialLoadOf(ctx, { automatic: true })).toBeUndefined();
    expect((await applyFlow(ctx)).initialLoad).toBeUndefined();
  });
});
