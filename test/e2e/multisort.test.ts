// Multi-column sort in the grid, in Debian's Chromium against `tablesync serve` on real PostgreSQL:
// a plain click sorts by one column, shift-click adds the next sort, shift-click again flips it;
// the header shows each sorted column's position and arrow, the rows (first page and after a jump
// to the last page) are those of a plain ORDER BY over the whole table, and a plain click resets.
// Screenshots go to test-results/screenshots/msort-*.png.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newAppPage, startServe, startSource, type Served, type SourceDb } from './support/env';
import { ConnectionsPage, TablePage } from './pages/app';

let source: SourceDb;
let served: Served;
let browser: Browser;
let page: Page;
let conns: ConnectionsPage;
let table: TablePage;

beforeAll(async () => {
  source = await startSource(200);
  // grp: 4 values and NULL every 5th row; tag: 3 values and NULL every 7th: many ties.
  await source.sql(`CREATE TABLE tasks (id int PRIMARY KEY, grp int, tag text, note text)`);
  await source.sql(`INSERT INTO tasks SELECT i, CASE WHEN i % 5 = 0 THEN NULL ELSE i % 4 END, CASE WHEN i % 7 = 0 THEN NULL ELSE 't' || (i % 3) END, 'n' || i FROM generate_series(1, 600) i`);
  served = await startServe();
  browser = await launchBrowser();
  page = await newAppPage(browser, served.url);
  conns = new ConnectionsPage(page);
  table = new TablePage(page);
}, 180_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page) await table.screenshot(`fail-msort-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await source?.close();
});

const header = (column: string) => page.locator(`[role=columnheader][data-column="${column}"]`);

describe('multi-column sort', () => {
  it('adds a secondary sort with shift-click, flips it, pages to the end in ORDER BY order, and resets with a plain click', async () => {
    await page.getByTestId('connections-empty').waitFor();
    expect(await conns.addByUrl('shop', source.url)).toMatch(/connected/);
    await conns.save();
    await conns.open('shop');
    await table.openTable('public', 'tasks');
    await expect.poll(async () => (await table.row(0))[0], { timeout: 30_000 }).toBe('1');

    await table.sortBy('grp');
    await header('tag').click({ modifiers: ['Shift'] });
    await expect.poll(() => header('tag').getAttribute('aria-sort')).toBe('ascending');
    await header('tag').click({ modifiers: ['Shift'] });
    await expect.poll(() => header('tag').getAttribute('aria-sort')).toBe('descending');
    expect(await header('grp').getAttribute('aria-sort')).toBe('ascending');
    expect(await page.getByTestId('sort-grp').innerText()).toBe('▲1');
    expect(await page.getByTestId('sort-tag').innerText()).toBe('▼2');

    const order = 'grp ASC, tag DESC, id ASC';
    const all = (await source.sql(`SELECT id::text AS rid, grp::text AS g, tag FROM tasks ORDER BY ${order}`)).rows as Array<{ rid: string; g: string | null; tag: string | null }>;
    const first = all[0]!;
    await expect.poll(async () => (await table.row(0)).slice(0, 3), { timeout: 30_000 }).toEqual([first.rid, first.g ?? 'NULL', first.tag ?? 'NULL'].map(String));
    expect(await table.text('grid-foot')).toMatch(/"grp", "tag" desc, "id"/);
    await table.screenshot('msort-01-two-columns');

    await table.jumpToEnd();
    const last = all[all.length - 1]!;
    await expect.poll(async () => (await table.lastRenderedRow())[0], { timeout: 30_000 }).toBe(last.rid);
    await table.screenshot('msort-02-last-page');

    // a plain click on the secondary column: that column alone, ascending
    await header('tag').click();
    await expect.poll(() => header('grp').getAttribute('aria-sort')).toBe('none');
    expect(await header('tag').getAttribute('aria-sort')).toBe('ascending');
    expect(await page.getByTestId('sort-tag').innerText()).toBe('▲');
  });
});
