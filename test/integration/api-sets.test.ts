import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, type TestDatabase } from '../support/db';
import { Engine } from '../../core/app/engine';
import { MemorySecretStore } from '../../core/settings/secret-store';
import { createDispatcher, type Dispatcher } from '../../core/api/dispatcher';
import type { ApiEvent } from '../../core/api/events';
import type { SavedConnection, SetSummary } from '../../core/api/contract';
import type { SetApplyResult, SetPlan, SetVerifyResult } from '../../core/api/model.set';
import { call as callApi } from '../support/api';
import { createRentalSchema, MEMBER_TABLES, ORDER, tableDigest } from './set-fixture';

// A set's life through the contract, with its connections saved in the app (the Engine is the
// resolver): save, plan (refused tables with reasons), apply in one transaction with progress
// events, verify, drop.
describe('API: sets save, plan, apply, verify, drop', () => {
  let src: TestDatabase;
  let dst: TestDatabase;
  let dataDir: string;
  let engine: Engine;
  let api: Dispatcher;
  const events: ApiEvent[] = [];
  const call = <T = unknown>(method: string, input?: unknown) => callApi<T>(api, method, input);

  beforeAll(async () => {
    src = await freshDatabase('apiss');
    dst = await freshDatabase('apist');
    await createRentalSchema(src);
    dataDir = mkdtempSync(join(tmpdir(), 'tablesync-sets-'));
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

  it('saves, plans, applies, verifies and drops a set of saved connections', async () => {
    const s = await call<SavedConnection>('connections.save', { name: 'rental source', connection: { url: src.url } });
    await call('connections.save', { name: 'warehouse', connection: { url: dst.url } });
    const set = {
      version: 1, set: 'shop',
      source: { connection: { saved: s.id }, schema: 'public' },
      target: { connection: { saved: 'warehouse' }, schema: 'mirror' },
      tables: '*', exclude: ['audit_*'],
      defaults: { ordinalColumn: 'last_update', typeOverrides: { mpaa_rating: 'text' } },
      foreignKeys: true,
      overrides: { film: { columns: { title: { name: 'name' } } } },
    };
    expect(await call('sets.save', { set })).toMatchObject({ created: true });
    await expect(call('sets.save', { set })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const list = await call<SetSummary[]>('sets.list');
    expect(list).toEqual([expect.objectContaining({ name: 'shop', source: { connection: 'rental source', schema: 'public' }, target: { connection: 'warehouse', schema: 'mirror' }, tables: '*' })]);
    expect(events.some((e) => e.event === 'settings.changed' && e.payload.what === 'sets')).toBe(true);

    const plan = await call<SetPlan>('sets.plan', { name: 'shop' });
    expect(plan.members.map((m) => m.table)).toEqual(MEMBER_TABLES);
    expect(plan.refused.map((r) => r.table)).toEqual(['film_list', 'notes_nokey', 'payment_2024', 'payment_2025']);
    expect(plan.members.find((m) => m.table === 'film')!.plan!.columns.map((c) => c.name)).toContain('name');

    const r = await call<SetApplyResult>('sets.apply', { name: 'shop', requestId: 'apply-1' });
    expect(r.members).toHaveLength(MEMBER_TABLES.length);
    const progress = events.filter((e) => e.event === 'set.applyProgress');
    expect(progress.some((e) => e.event === 'set.applyProgress' && e.payload.requestId === 'apply-1' && e.payload.phase === 'done')).toBe(true);
    expect(new Set(progress.map((e) => (e.event === 'set.applyProgress' ? e.payload.table : undefined)).filter(Boolean))).toEqual(new Set(MEMBER_TABLES));
    for (const t of MEMBER_TABLES.filter((x) => x !== 'film')) expect(await tableDigest(dst, `mirror.${t}`, ORDER[t]!), t).toEqual(await tableDigest(src, `public.${t}`, ORDER[t]!));

    expect((await call<SetVerifyResult>('sets.verify', { name: 'shop' })).equal).toBe(true);

    // the reviewed plan through the API: unchanged → applied as is; a source column dropped since → PLAN_STALE, per member with the reason
    const expectedOf = (p: SetPlan) => ({ fingerprint: p.fingerprint, members: Object.fromEntries(p.members.map((m) => [m.table, m.plan?.fingerprint ?? ''])) });
    const fresh = await call<SetPlan>('sets.plan', { name: 'shop' });
    expect((await call<SetApplyResult>('sets.apply', { name: 'shop', expectedPlan: expectedOf(fresh) })).replanned).toBeUndefined();
    const seen = await call<SetPlan>('sets.plan', { name: 'shop' });
    await src.sql(`ALTER TABLE store DROP COLUMN manager_staff_id CASCADE`);
    await expect(call('sets.apply', { name: 'shop', allowDestructive: true, expectedPlan: expectedOf(seen) })).rejects.toMatchObject({
      code: 'PLAN_STALE',
      message: expect.stringMatching(/the plan of set "shop" is out of date and the new plan has destructive steps: "store": .*destructive: drop column "manager_staff_id"/),
    });
    expect((await dst.sql(`SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = 'mirror' AND table_name = 'store' AND column_name = 'manager_staff_id'`)).rows[0].n).toBe('1');
    await expect(call('sets.apply', { name: 'shop' })).rejects.toMatchObject({ code: 'DESTRUCTIVE_NOT_ALLOWED', message: expect.stringMatching(/table "store": .*which run only when allowed: drop column/) });

    await expect(call('sets.drop', { name: 'shop' })).rejects.toMatchObject({ code: 'DESTRUCTIVE_NOT_ALLOWED' });
    const dropped = await call<{ members: string[] }>('sets.drop', { name: 'shop', allowDestructive: true });
    expect(dropped.members).toHaveLength(MEMBER_TABLES.length);
    expect((await dst.sql(`SELECT count(*) AS n FROM pg_class WHERE relnamespace = 'mirror'::regnamespace AND relkind IN ('r', 'p')`)).rows[0].n).toBe('0');
    expect(await call('sets.remove', { name: 'shop' })).toEqual({ removed: true });
    expect(await call('sets.list')).toEqual([]);
  });

  it('watches a saved set through sets.watchStart/Stop: one watcher, member events, listed as a set watch', async () => {
    const set = {
      version: 1, set: 'live',
      source: { connection: { saved: 'rental source' }, schema: 'public' },
      target: { connection: { saved: 'warehouse' }, schema: 'livemirror' },
      tables: ['language', 'film'],
      defaults: { typeOverrides: { mpaa_rating: 'text' }, notification: {} },
    };
    await call('sets.save', { set });
    const until = async (what: string, fn: () => boolean) => {
      const deadline = Date.now() + 30_000;
      while (!fn()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    const w = await call<{ flow: string; set?: boolean; members?: string[] }>('sets.watchStart', { name: 'live' });
    expect(w).toMatchObject({ flow: 'live', set: true });
    expect([...(w.members ?? [])].sort()).toEqual(['live.film', 'live.language']);
    expect(await call('sets.watchStart', { name: 'live' })).toMatchObject({ flow: 'live', set: true }); // idempotent
    await until('live', () => events.some((e) => e.event === 'flow.listener' && e.payload.flow === 'live' && e.payload.state === 'live'));
    await src.sql(`BEGIN; INSERT INTO language VALUES (8, 'lang 8', now()); INSERT INTO film VALUES (3000, 'watched film', 8, 'PG', NULL, now()); COMMIT;`);
    const changed = () => events.filter((e) => e.event === 'flow.change' && e.payload.op === 'insert').map((e) => (e.event === 'flow.change' ? e.payload.flow : ''));
    await until('both member events', () => changed().includes('live.film') && changed().includes('live.language'));
    expect((await dst.sql(`SELECT title FROM livemirror.film WHERE film_id = 3000`)).rows[0].title).toBe('watched film');
    expect((await call<{ flow: string; set?: boolean }[]>('flows.watchList')).find((x) => x.flow === 'live')).toMatchObject({ set: true });
    expect((await call<{ flow: string }[]>('flows.watchRecent', { name: 'live' })).map((e) => e.flow)).toEqual(expect.arrayContaining(['live.film', 'live.language']));
    expect(await call('sets.watchStop', { name: 'live' })).toEqual({ stopped: true });
    expect(await call('flows.watchList')).toEqual([]);
    await expect(call('sets.watchStart', { name: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
