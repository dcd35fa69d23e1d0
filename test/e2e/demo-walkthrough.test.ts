// A new user's first look at the built-in demo, in Debian's Chromium against `tablesync serve --demo`
// with a fresh data folder (so the demo is created and seeded from nothing): the demo's connections,
// its tables in the explorer, the ready-made flow's plan, apply, then the live monitor fed by the
// activity simulator. Each step is a test sharing one page; screens go to
// test-results/screenshots/demo-*.png.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newAppPage, startServe, type Served } from './support/env';
import { AppPage, PlanPage, TablePage } from './pages/app';
import { SettingsStore } from '../../core/settings/settings-store';
import { openEngine } from '../../core/app/open';
import { isAlive, readPid } from '../../core/embedded/pids';

const FLOW = 'demo_products_search';

let served: Served;
let browser: Browser;
let page: Page;
let app: AppPage;
let table: TablePage;
let plan: PlanPage;
let source: pg.Pool;
/** The demo source cluster's data directory (outside the data folder when running as root). */
let sourceDataDir: string;
const pageErrors: string[] = [];

const sourceCount = async (sql: string): Promise<number> => Number((await source.query<{ n: string }>(sql)).rows[0]!.n);
const fmt = (n: number) => n.toLocaleString('en-US');

beforeAll(async () => {
  // first start: initdb, seed ~100,000 rows, start PGlite (and build the UI if dist/ lacks it)
  served = await startServe({ args: ['--demo'], timeoutMs: 170_000 });
  sourceDataDir = openEngine({ dataDir: served.home }).demo.sourceDataDir;
  const c = new SettingsStore(served.home).getConnection('demo-source')!;
  source = new pg.Pool({ connectionString: `postgres://${c.user}@${c.host}:${c.port}/${c.database}`, max: 1 });
  source.on('error', () => {});
  browser = await launchBrowser();
  page = await newAppPage(browser, served.url);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  app = new AppPage(page);
  table = new TablePage(page);
  plan = new PlanPage(page);
}, 180_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page) await app.screenshot(`demo-fail-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await source?.end().catch(() => {});
  const postmaster = sourceDataDir ? readPid(join(sourceDataDir, 'postmaster.pid')) : undefined;
  await served?.stop(); // SIGTERM: serve stops the watch, the simulator and both demo servers
  if (postmaster !== undefined) {
    const deadline = Date.now() + 15_000;
    while (isAlive(postmaster) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const alive = isAlive(postmaster);
    if (alive) process.kill(postmaster, 'SIGQUIT');
    expect(alive, 'the demo PostgreSQL outlived serve').toBe(false);
  }
  if (sourceDataDir) rmSync(join(sourceDataDir, '..'), { recursive: true, force: true });
}, 60_000);

describe('demo walkthrough', () => {
  it('opens on the explorer with the demo source and its tables', async () => {
    await table.treeItem('public', 'products').waitFor({ timeout: 30_000 });
    expect(await page.getByLabel('Active connection').locator('option:checked').innerText()).toBe('Demo source');
    expect(await page.getByRole('complementary', { name: 'Explorer' }).innerText()).toContain(FLOW);
    await app.screenshot('demo-01-first-page');
  });

  it('lists the two demo connections, and both answer a test', async () => {
    await app.go('Connections');
    const sourceCard = page.locator('[data-connection="Demo source"]');
    const targetCard = page.locator('[data-connection="Demo target (pgvector)"]');
    await sourceCard.getByRole('button', { name: 'Test' }).click();
    await app.waitText(sourceCard, /connected[\s\S]*PostgreSQL 18/);
    await targetCard.getByRole('button', { name: 'Test' }).click();
    await app.waitText(targetCard, /connected[\s\S]*pgvector/);
    await app.screenshot('demo-02-connections');
    await sourceCard.getByRole('button', { name: 'Open' }).click();
  });

  it('browses each demo table; the one without a key is marked', async () => {
    await app.go('Explorer');
    const tables = [
      ['products', 'SELECT count(*) AS n FROM products'],
      ['customers', 'SELECT count(*) AS n FROM customers'],
      ['order_lines', 'SELECT count(*) AS n FROM order_lines'],
      ['page_views', 'SELECT count(*) AS n FROM page_views'],
    ] as const;
    for (const [i, [name, countSql]] of tables.entries()) {
      await table.openTable('public', name);
      await page.getByTestId('count-exact').click();
      await expect.poll(() => app.text('row-count'), { timeout: 30_000 }).toBe(`${fmt(await sourceCount(countSql))} rows`);
      await app.screenshot(`demo-0${3 + i}-table-${name}`);
    }
    expect(await table.treeItem('public', 'page_views').innerText()).toMatch(/NO KEY/);
    expect(await app.text('unusable')).toMatch(/primary key/);
    expect(await page.getByTestId('new-flow').count()).toBe(0); // no flow from a table that cannot be a source
    await table.openTable('public', 'products');
    expect(await table.row(0)).toContain('SKU-000001');
  });

  it('previews the ready-made flow: counts, the vector extension and index', async () => {
    await page.getByRole('complementary', { name: 'Explorer' }).getByText(FLOW).click();
    await plan.waitForPlan();
    const active = await sourceCount(`SELECT count(*) AS n FROM products WHERE status = 'active'`);
    expect(await plan.counts()).toMatchObject({ insert: active, update: 0, delete: 0, unchanged: 0, foreign: 0 });
    const steps = await page.getByTestId('plan-steps').innerText();
    expect(steps).toMatch(/CREATE EXTENSION IF NOT EXISTS vector/);
    expect(steps).toMatch(/"embedding" vector\(16\)/);
    expect(steps).toMatch(/CREATE INDEX "products_search__vector__embedding"[\s\S]*USING hnsw/);
    expect(await page.getByTestId('diff-grid').innerText()).toMatch(/SKU-000001/);
    await app.screenshot('demo-07-plan');
  });

  it('opens the ready-made flow in the editor with its connections picked', async () => {
    await page.getByRole('button', { name: 'Edit flow' }).click();
    await page.getByTestId('columns-table').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('target-connection').locator('option:checked').innerText()).toBe('Demo target (pgvector)');
    expect(await page.getByLabel('target type of embedding', { exact: true }).inputValue()).toBe('vector(16)');
    await app.screenshot('demo-07b-flow-editor');
    await page.getByRole('complementary', { name: 'Explorer' }).getByText(FLOW).click();
    await plan.waitForPlan();
  });

  it('applies the plan with a result summary', async () => {
    const active = await sourceCount(`SELECT count(*) AS n FROM products WHERE status = 'active'`);
    await page.getByTestId('apply-plan').click();
    await page.getByTestId('apply-panel').waitFor();
    const result = await app.waitText(page.getByTestId('apply-result'), /Done in/, 120_000);
    expect(result).toContain(`${fmt(active)} inserted`);
    await app.screenshot('demo-08-applied');
  });

  it('watches live while the simulator writes: events arrive and the chart moves', async () => {
    await page.getByTestId('plan-screen').getByRole('button', { name: 'Monitor' }).click();
    await page.getByTestId('monitor-screen').waitFor();
    expect(await app.text('feed-empty')).toMatch(/start watching/i);
    await app.screenshot('demo-09-monitor-idle');
    await page.getByTestId('watch-start').click();
    await expect.poll(() => page.getByTestId('listener-state').getAttribute('data-state'), { timeout: 30_000 }).toBe('live');
    await page.getByRole('button', { name: /Simulate writes/ }).click();
    await expect.poll(() => page.getByTestId('feed').locator('tbody tr').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(8);
    expect(await app.text('totals')).toMatch(/applied \d/);
    // the chart's changes/s line has left zero
    await expect.poll(() => page.getByTestId('monitor-screen').getByText(/^\d+(\.\d)?\/s/).innerText(), { timeout: 15_000 }).not.toMatch(/^0\.0\/s/);
    await app.screenshot('demo-10-monitor-live');
  });

  it('says plainly why the target cannot be browsed while a watch holds it', async () => {
    await page.getByLabel('Active connection').selectOption({ label: 'Demo target (pgvector)' });
    const tree = page.getByTestId('table-tree');
    const said = await app.waitText(tree, /one connection at a time|products_search/, 30_000);
    expect(said).toMatch(/Demo target \(pgvector\) serves one connection at a time, and a running watch or apply is using it: stop it/);
    await app.screenshot('demo-11-target-while-watching');
  });

  it('stops, and the target holds every active product', async () => {
    await app.go('Monitor');
    await page.getByRole('button', { name: /Stop simulated writes/ }).click();
    await page.getByRole('button', { name: /Simulate writes/ }).waitFor();
    // let the last simulated writes reach the target: the totals stop moving
    let seen = '';
    await expect.poll(async () => {
      const prev = seen;
      seen = await app.text('totals');
      return seen === prev;
    }, { timeout: 30_000, interval: 1500 }).toBe(true);
    const active = await sourceCount(`SELECT count(*) AS n FROM products WHERE status = 'active'`);
    await page.getByTestId('watch-stop').click();
    await page.getByTestId('watch-start').waitFor({ timeout: 30_000 });
    await app.screenshot('demo-12-monitor-stopped');

    await app.go('Explorer');
    await page.getByTestId('tree-error').getByRole('button', { name: 'Retry' }).click();
    await table.treeItem('public', 'products_search').waitFor({ timeout: 30_000 });
    await table.openTable('public', 'products_search');
    await page.getByTestId('count-exact').click();
    await expect.poll(() => app.text('row-count'), { timeout: 30_000 }).toBe(`${fmt(active)} rows`);
    await app.screenshot('demo-13-target-table');
  });

  it('opens the flow’s source table from the monitor, whichever connection is active', async () => {
    expect(await page.getByLabel('Active connection').locator('option:checked').innerText()).toBe('Demo target (pgvector)');
    await app.go('Monitor');
    await page.getByRole('button', { name: 'Open products' }).click();
    // the source's products (it has `status`; the target's products_search does not)
    await expect.poll(() => app.text('table-title'), { timeout: 30_000 }).toBe('public.products');
    await expect.poll(() => table.columnNames(), { timeout: 30_000 }).toContain('status');
    expect(await page.getByLabel('Active connection').locator('option:checked').innerText()).toBe('Demo source');
  });

  it('shows the flow in the flows list, and no page errors', async () => {
    await app.go('Flows');
    await page.getByTestId('flows-table').waitFor();
    expect(await app.text('flows-table')).toContain(FLOW);
    await app.screenshot('demo-14-flows');
    expect(pageErrors).toEqual([]);
  });
});
