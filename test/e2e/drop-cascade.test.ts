// The drop dialog when objects of someone else's depend on the flow's table (issue 9 C3), in
// Debian's Chromium against `tablesync serve`: the refusal names the view and the attachment that
// created it, nothing is dropped, and a second tick (CASCADE) lets the drop through. Screens go to
// test-results/screenshots/drop-cascade-*.png.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newAppPage, startServe, startSource, type Served, type SourceDb } from './support/env';
import { AppPage } from './pages/app';
import { SettingsStore } from '../../core/settings/settings-store';
import { parseFlow } from '../../core/flow/load';
import { openFlow, connectionResolver } from '../../core/flow/load';
import { applyFlow } from '../../core/target';

const FLOW = 'cascade_products';

let source: SourceDb;
let target: pg.Pool;
let served: Served;
let browser: Browser;
let page: Page;
let app: AppPage;

beforeAll(async () => {
  source = await startSource(50);
  await source.sql('CREATE DATABASE search');
  const targetUrl = source.pg.url('search');
  target = new pg.Pool({ connectionString: targetUrl, max: 1 });
  target.on('error', () => {});
  const flow = parseFlow({
    version: 1,
    name: FLOW,
    source: { connection: { url: source.url }, table: 'products', includedColumns: ['name'] },
    target: { connection: { url: targetUrl }, table: 'products_copy', sqlAttachments: [{ name: 'names_view', setupSql: 'CREATE VIEW product_names AS SELECT id, name FROM products_copy' }] },
  });
  const ctx = await openFlow(flow, connectionResolver());
  try {
    await applyFlow(ctx);
  } finally {
    await ctx.close();
  }
  served = await startServe();
  new SettingsStore(served.home).putFlow(flow);
  browser = await launchBrowser();
  page = await newAppPage(browser, served.url);
  app = new AppPage(page);
}, 180_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page) await app.screenshot(`drop-cascade-fail-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await target?.end().catch(() => {});
  await source?.close();
});

const exists = async (rel: string) => (await target.query<{ e: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS e`, [rel])).rows[0]!.e;

describe('drop dialog: dependent objects', () => {
  it('names the view and its attachment, drops nothing, then drops with CASCADE', async () => {
    await app.go('Flows');
    await page.getByTestId('flows-table').waitFor();
    await page.getByTestId(`drop-${FLOW}`).click();
    await page.getByTestId('drop-steps').locator('[data-step="drop-table"]').waitFor({ timeout: 60_000 });
    await page.getByTestId('drop-allow').check();
    await page.getByTestId('drop-confirm').click();
    const refusal = await app.waitText(page.getByTestId('drop-steps'), /depends on its table/, 60_000);
    expect(refusal).toContain('view product_names (created by attachment "names_view"');
    expect(await exists('public.products_copy')).toBe(true);
    expect(await exists('public.product_names')).toBe(true);
    await page.getByTestId('drop-cascade').waitFor();
    expect(await page.getByTestId('drop-confirm').isDisabled()).toBe(true);
    await app.screenshot('drop-cascade-refused');

    await page.getByTestId('drop-cascade').check();
    await page.getByTestId('drop-confirm').click();
    expect(await app.waitText(page.getByTestId('drop-result'), /Dropped/, 60_000)).toContain(FLOW);
    expect(await exists('public.products_copy')).toBe(false);
    expect(await exists('public.product_names')).toBe(false);
    await app.screenshot('drop-cascade-dropped');
  });
});
