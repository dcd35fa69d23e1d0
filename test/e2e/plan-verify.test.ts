// The plan screen's Verify and repair tick, in Debian's Chromium against `tablesync serve`, on a real
// PostgreSQL 18 (source and target databases on it). A target edited by hand shows "nothing to do"
// in the plan; Verify lists the drifted rows (changed with old → new, missing, extra), the tick makes
// the apply repair exactly those, and Verify then finds the target equal. Screens go to
// test-results/screenshots/verify-*.png.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newAppPage, startServe, startSource, type Served, type SourceDb } from './support/env';
import { AppPage, PlanPage } from './pages/app';
import { SettingsStore } from '../../core/settings/settings-store';
import { parseFlow } from '../../core/flow/load';

const FLOW = 'verify_products';

let source: SourceDb;
let target: pg.Pool;
let served: Served;
let browser: Browser;
let page: Page;
let app: AppPage;
let plan: PlanPage;
const pageErrors: string[] = [];

beforeAll(async () => {
  source = await startSource(300);
  await source.sql('CREATE DATABASE search');
  const targetUrl = source.pg.url('search');
  target = new pg.Pool({ connectionString: targetUrl, max: 1 });
  target.on('error', () => {});
  served = await startServe();
  new SettingsStore(served.home).putFlow(parseFlow({
    version: 1,
    name: FLOW,
    source: { connection: { url: source.url }, table: 'products', includedColumns: ['name', 'price', 'qty', 'updated_at'], ordinalColumn: 'updated_at' },
    target: { connection: { url: targetUrl }, table: 'products_copy', columns: { name: { name: 'title' } } },
  }));
  browser = await launchBrowser();
  page = await newAppPage(browser, served.url);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  app = new AppPage(page);
  plan = new PlanPage(page);
}, 180_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page) await app.screenshot(`verify-fail-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await target?.end().catch(() => {});
  await source?.close();
});

describe('plan screen: verify and repair', () => {
  it('applies the flow from its plan', async () => {
    await app.go('Flows');
    await page.getByTestId('flows-table').locator(`tr[data-flow="${FLOW}"]`).getByRole('button', { name: 'Plan' }).click();
    await plan.waitForPlan();
    expect(await plan.counts()).toMatchObject({ insert: 300 });
    await page.getByTestId('apply-plan').click();
    expect(await app.waitText(page.getByTestId('apply-result'), /Done in/, 60_000)).toMatch(/300 inserted/);
    await page.getByTestId('in-sync').waitFor({ timeout: 60_000 });
    await page.getByTestId('verify-flow').click();
    expect(await app.waitText(page.getByTestId('verify-panel'), /holds exactly/)).toMatch(/300 source rows against 300 target rows/);
  });

  it('finds hand edits the plan cannot see, and lists them', async () => {
    await target.query(`UPDATE products_copy SET title = 'typo fixed by hand', price = 0 WHERE id = 12`);
    await target.query(`DELETE FROM products_copy WHERE id IN (40, 41)`);
    await source.sql(`DELETE FROM products WHERE id = 77`); // a tracked row the source no longer has…
    await target.query(`UPDATE products_copy SET qty = -5 WHERE id = 77`); // …edited by hand meanwhile
    await page.getByTestId('recompute-plan').click();
    await expect.poll(async () => (await plan.counts()).delete, { timeout: 60_000 }).toBe(1);
    expect(await plan.counts()).toMatchObject({ insert: 0, update: 0 });
    await page.getByTestId('verify-flow').click();
    await page.getByTestId('verify-grid').waitFor({ timeout: 60_000 });
    const counts = page.getByTestId('verify-counts');
    expect((await counts.innerText()).replace(/\s+/g, ' ')).toBe('1 changed 2 missing 1 extra');
    const rows = page.getByTestId('verify-grid').locator('tbody tr');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute('data-drift')} ${tr.children[1]!.textContent}`))).toEqual(['changed 12', 'missing 40', 'missing 41', 'extra 77']);
    expect(await page.getByTestId('verify-grid').locator('[data-changed="title"]').innerText()).toBe('typo fixed by hand → product 12');
    expect(await page.getByTestId('verify-grid').locator('[data-changed="price"]').innerText()).toBe('0.00 → 2.20');
    await page.getByTestId('repair-tick').check();
    await app.screenshot('verify-drift');
  });

  it('repairs exactly those rows with the apply, then verifies equal', async () => {
    await page.getByTestId('apply-plan').click();
    const result = await app.waitText(page.getByTestId('apply-result'), /Done in/, 60_000);
    expect(result).toMatch(/2 inserted, 1 updated, 1 deleted/);
    expect(result).toMatch(/Repaired drift: 1 changed, 2 missing, 1 extra row\(s\)/);
    expect(await app.waitText(page.getByTestId('verify-panel'), /holds exactly/, 60_000)).toMatch(/299 source rows against 299 target rows/);
    const fixed = await target.query(`SELECT id::text, title, price::text FROM products_copy WHERE id IN (12, 40, 41, 77) ORDER BY id`);
    expect(fixed.rows).toEqual([
      { id: '12', title: 'product 12', price: '2.20' },
      { id: '40', title: 'product 40', price: '5.00' },
      { id: '41', title: 'product 41', price: '5.10' },
    ]);
    await app.screenshot('verify-repaired');
    expect(pageErrors).toEqual([]);
  });
});
