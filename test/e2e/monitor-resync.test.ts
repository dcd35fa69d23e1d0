// The Monitor of a logical-replication flow whose slot was invalidated, in Debian's Chromium against
// `tablesync serve`, on a real PostgreSQL 18 of its own (wal_level = logical, max_slot_wal_keep_size
// = 1 MB). With the watch stopped, WAL is switched and checkpointed until the server marks the slot
// 'lost'; Start watching then fails, the Monitor says the slot was invalidated and offers "Resync…",
// whose confirm says what it does; confirming drops and recreates the slot and runs a full
// catch-up: live again, target = filtered source. Screens: test-results/screenshots/resync-*.png.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newAppPage, startServe, type Served } from './support/env';
import { AppPage } from './pages/app';
import { SettingsStore } from '../../core/settings/settings-store';
import { parseFlow } from '../../core/flow/load';
import { embeddedBinaries, startPostgres, type RunningPg } from '../../core/embedded/pg-server';
import { logicalNames } from '../../core/live/logical-objects';

const FLOW = 'orders_logical';

let server: RunningPg;
let admin: pg.Pool;
let src: pg.Pool;
let tgt: pg.Pool;
let served: Served;
let browser: Browser;
let page: Page;
let app: AppPage;
const pageErrors: string[] = [];
const slot = () => logicalNames(parseFlow(flowSpec())).slot;
const flowSpec = () => ({
  version: 1 as const,
  name: FLOW,
  source: { connection: { url: server.url('shop') }, table: 'orders', filter: "status <> 'void'", replication: {} },
  target: { connection: { url: server.url('copy') }, table: 'orders' },
});
const rows = async (p: pg.Pool, sql: string) => (await p.query(sql)).rows.map((r) => JSON.stringify(r)).sort();
const waitSame = async () => {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [a, b] = await Promise.all([rows(src, `SELECT id, status, total::text FROM orders WHERE status <> 'void'`), rows(tgt, `SELECT id, status, total::text FROM orders`)]);
    if (JSON.stringify(a) === JSON.stringify(b)) return a.length;
    if (Date.now() > deadline) throw new Error(`target ≠ filtered source (${a.length} vs ${b.length} rows)`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

beforeAll(async () => {
  server = await startPostgres({ binaries: await embeddedBinaries(), fast: true, settings: { wal_level: 'logical', max_slot_wal_keep_size: 1, max_wal_size: '32MB', min_wal_size: '32MB', max_replication_slots: 4, max_wal_senders: 4 } });
  admin = new pg.Pool({ connectionString: server.url(), max: 1 });
  await admin.query('CREATE DATABASE shop');
  await admin.query('CREATE DATABASE copy');
  await admin.query('CREATE TABLE churn (id int, pad text)');
  src = new pg.Pool({ connectionString: server.url('shop'), max: 2 });
  tgt = new pg.Pool({ connectionString: server.url('copy'), max: 1 });
  for (const p of [admin, src, tgt]) p.on('error', () => {});
  await src.query(`CREATE TABLE orders (id int PRIMARY KEY, status text NOT NULL, total numeric(10,2))`);
  await src.query(`INSERT INTO orders SELECT g, (ARRAY['open','paid','void'])[g % 3 + 1], g * 1.5 FROM generate_series(1, 300) g`);
  served = await startServe();
  new SettingsStore(served.home).putFlow(parseFlow(flowSpec()));
  browser = await launchBrowser();
  page = await newAppPage(browser, served.url);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  app = new AppPage(page);
}, 180_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page) await app.screenshot(`resync-fail-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  for (const p of [admin, src, tgt]) await p?.end().catch(() => {});
  await server?.stop();
});

describe('monitor: an invalidated replication slot and Resync', () => {
  it('watches the logical flow, then stops', async () => {
    await app.go('Monitor');
    await page.getByTestId('monitor-flow').selectOption(`flow:${FLOW}`);
    await page.getByTestId('watch-start').click();
    await expect.poll(() => page.getByTestId('listener-state').getAttribute('data-state'), { timeout: 30_000 }).toBe('live');
    await waitSame();
    await page.getByTestId('watch-stop').click();
    await page.getByTestId('watch-start').waitFor({ timeout: 15_000 });
  });

  it('shows the lost slot and offers Resync after the server invalidated it', async () => {
    await src.query(`UPDATE orders SET total = total + 1 WHERE id <= 30`);
    await src.query(`UPDATE orders SET status = 'void' WHERE id BETWEEN 40 AND 45`);
    const status = async () => (await src.query<{ wal_status: string }>(`SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1`, [slot()])).rows[0]?.wal_status;
    const deadline = Date.now() + 60_000;
    while ((await status()) !== 'lost') {
      if (Date.now() > deadline) throw new Error('the slot was not invalidated');
      await admin.query(`INSERT INTO churn SELECT g, repeat('x', 500) FROM generate_series(1, 2000) g`);
      await admin.query('SELECT pg_switch_wal()');
      await admin.query('CHECKPOINT');
    }
    await page.getByTestId('watch-start').click();
    await expect.poll(() => page.getByTestId('listener-state').getAttribute('data-state'), { timeout: 30_000 }).toBe('failed');
    await page.getByTestId('slot-lost').waitFor();
    expect(await page.getByTestId('slot-lost').textContent()).toMatch(/was invalidated.*max_slot_wal_keep_size/);
    await page.getByTestId('watch-resync').waitFor();
    await app.screenshot('resync-slot-lost');

    await page.getByTestId('watch-resync').click();
    const text = await page.getByTestId('resync-text').textContent();
    expect(text).toMatch(new RegExp(`drops TableSync's replication slot ${slot()} on the source and creates it again, then runs a full catch-up`));
    await app.screenshot('resync-confirm');
  });

  it('Resync drops and recreates the slot, catches up in full and goes live: target = filtered source', async () => {
    await page.getByTestId('resync-confirm').click();
    await expect.poll(() => page.getByTestId('listener-state').getAttribute('data-state'), { timeout: 30_000 }).toBe('live');
    await waitSame();
    expect(await page.getByTestId('slot-lost').count()).toBe(0);
    expect(await page.getByTestId('status-log').textContent()).toMatch(/new replication slot/);
    expect((await src.query(`SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1`, [slot()])).rows[0]?.wal_status).toBe('reserved');
    await src.query(`INSERT INTO orders VALUES (1000, 'open', 9.99)`);
    await waitSame();
    await app.screenshot('resync-live');
    await page.getByTestId('watch-stop').click();
    await page.getByTestId('watch-start').waitFor({ timeout: 15_000 });
    expect(pageErrors).toEqual([]);
  });
});
