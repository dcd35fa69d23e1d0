// The inspecting half of the app in Debian's Chromium against `tablesync serve`, on real
// PostgreSQL: the Structure tab (columns, constraints, FKs both ways and clickable, indexes,
// triggers, DDL), and the tree's views, sequences, functions and other databases.
// Screenshots go to test-results/screenshots/inspect-*.png.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import pg from 'pg';
import { launchBrowser, newAppPage, startServe, startSource, type Served, type SourceDb } from './support/env';
import { ConnectionsPage, TablePage } from './pages/app';
import { ConsolePage, InspectPage } from './pages/inspect';

let source: SourceDb;
let served: Served;
let browser: Browser;
let page: Page;
let conns: ConnectionsPage;
let table: TablePage;
let ins: InspectPage;
let sql: ConsolePage;

beforeAll(async () => {
  source = await startSource(2000);
  await source.sql(`CREATE TYPE order_state AS ENUM ('new', 'paid', 'shipped')`);
  await source.sql(`CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id bigint NOT NULL REFERENCES products (id),
    state order_state NOT NULL DEFAULT 'new',
    qty integer NOT NULL CHECK (qty > 0),
    amount numeric(12,2),
    total numeric GENERATED ALWAYS AS (amount * qty) STORED
  )`);
  await source.sql(`CREATE INDEX orders_product_idx ON orders (product_id)`);
  await source.sql(`INSERT INTO orders (product_id, qty, amount) SELECT 1 + g % 2000, 1 + g % 4, g % 100 FROM generate_series(1, 500) g`);
  await source.sql(`CREATE VIEW paid_orders AS SELECT * FROM orders WHERE state = 'paid'`);
  await source.sql(`CREATE MATERIALIZED VIEW product_sales AS SELECT product_id, sum(total) AS total FROM orders GROUP BY product_id`);
  await source.sql(`CREATE SEQUENCE invoice_no`);
  await source.sql(`CREATE FUNCTION order_total(o orders) RETURNS numeric LANGUAGE sql AS 'SELECT o.total'`);
  await source.sql(`ANALYZE`);
  const admin = new pg.Client({ connectionString: source.pg.url() });
  await admin.connect();
  await admin.query('CREATE DATABASE warehouse');
  await admin.end();
  const wh = new pg.Client({ connectionString: source.pg.url('warehouse') });
  await wh.connect();
  await wh.query('CREATE TABLE bins (id int PRIMARY KEY, label text)');
  await wh.end();
  served = await startServe();
  browser = await launchBrowser();
  page = await newAppPage(browser, served.url);
  conns = new ConnectionsPage(page);
  table = new TablePage(page);
  ins = new InspectPage(page);
  sql = new ConsolePage(page);
}, 180_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page) await ins.screenshot(`fail-inspect-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await source?.close();
});

describe('inspect', () => {
  it('opens the shop and shows views, sequences and functions in the tree, not usable as sources', async () => {
    await page.getByTestId('connections-empty').waitFor();
    expect(await conns.addByUrl('shop', source.url)).toMatch(/connected/);
    await conns.save();
    await conns.open('shop');
    await table.treeItem('public', 'orders').waitFor();
    expect(await table.treeItem('public', 'paid_orders').getAttribute('title')).toMatch(/Not usable as a source: views cannot be sources/);
    expect(await table.treeItem('public', 'product_sales').getAttribute('title')).toMatch(/materialized views cannot be sources/);
    await page.getByTestId('tree-sequences').getByRole('treeitem').first().click();
    await page.getByTestId('tree-functions').getByRole('treeitem').first().click();
    const seq = page.locator('[data-object="public.invoice_no"]');
    await seq.waitFor();
    expect(await seq.getAttribute('title')).toMatch(/Not usable as a source: sequences cannot be sources/);
    const fn = page.locator('[data-object="public.order_total(o orders)"]');
    await fn.waitFor();
    expect(await fn.getAttribute('title')).toMatch(/returns numeric[\s\S]*functions cannot be sources/);
    await page.getByTestId('tree-databases').getByRole('treeitem').first().click();
    await page.locator('[data-database="warehouse"]').waitFor();
    expect(await page.locator('[data-database="shop"]').getAttribute('aria-selected')).toBe('true');
    await ins.screenshot('inspect-01-tree');
  });

  it('shows the Structure tab: columns, constraints, FKs both ways, indexes with sizes, DDL', async () => {
    await table.openTable('public', 'orders');
    await ins.openStructure();
    const cols = page.getByTestId('structure-columns');
    expect(await cols.locator('[data-column="state"]').innerText()).toMatch(/public\.order_state[\s\S]*new \| paid \| shipped[\s\S]*NOT NULL[\s\S]*'new'::public\.order_state/);
    expect(await cols.locator('[data-column="id"]').innerText()).toMatch(/identity always/);
    expect(await cols.locator('[data-column="total"]').innerText()).toMatch(/generated/);
    expect(await page.getByTestId('structure-constraints').innerText()).toMatch(/orders_qty_check\s+check\s+CHECK \(\(qty > 0\)\)/);
    expect(await page.getByTestId('fk-out').innerText()).toMatch(/\(product_id\) → public\.products \(id\)/);
    expect(await page.getByTestId('structure-indexes').innerText()).toMatch(/orders_product_idx[\s\S]*btree[\s\S]*\d+ kB[\s\S]*CREATE INDEX orders_product_idx ON public\.orders USING btree \(product_id\)/);
    const ddl = await page.getByTestId('structure-ddl').innerText();
    expect(ddl).toMatch(/^CREATE TABLE public\.orders \(\n {4}id bigint NOT NULL,\n {4}product_id bigint NOT NULL,/);
    expect(ddl).toContain('ALTER TABLE ONLY public.orders\n    ADD CONSTRAINT orders_product_id_fkey FOREIGN KEY (product_id) REFERENCES public.products(id);');
    expect(await page.getByTestId('structure-summary').innerText()).toMatch(/~500 rows \(estimate\)[\s\S]*total \d+ kB/);
    await ins.screenshot('inspect-02-structure');
  });

  it('copies the DDL and follows a foreign key to the other table and back', async () => {
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.getByTestId('copy-ddl').click();
    expect(await page.evaluate('navigator.clipboard.readText()')).toMatch(/^CREATE TABLE public\.orders/);
    await page.getByTestId('fk-out').locator('[data-fk-table="public.products"]').click();
    await ins.structureOf('public', 'products');
    expect(await page.getByTestId('fk-in').innerText()).toMatch(/public\.orders \(product_id\) → \(id\)/);
    await ins.screenshot('inspect-03-structure-referenced-by');
    await page.getByTestId('fk-in').locator('[data-fk-table="public.orders"]').click();
    await ins.structureOf('public', 'orders');
    await ins.tab('rows').click();
    await page.getByTestId('table-title').filter({ hasText: 'orders' }).waitFor();
    await table.grid.locator('[data-row="0"]').waitFor();
  });

  it('runs a query in the SQL tab: results stream into the grid page by page', async () => {
    await sql.open();
    await sql.type('select id, name, price from products order by id');
    await sql.run();
    await sql.waitText(sql.status(), /\+ rows \(more are read as you scroll\)/);
    expect(await sql.row(0)).toEqual(['1', 'product 1', '1.10']);
    await ins.screenshot('inspect-05-console-result');
    // scrolling reads further pages from the cursor
    for (let i = 0; i < 30; i++) {
      await sql.grid.evaluate((el) => (el.scrollTop = el.scrollHeight));
      const foot = await page.getByTestId('console').locator('.grid-foot').innerText();
      if (/of 2,000/.test(foot)) break;
      await page.waitForTimeout(100);
    }
    expect(await page.getByTestId('console').locator('.grid-foot').innerText()).toMatch(/rows [\d,]+–2,000 of 2,000/);
    expect(await sql.status().innerText()).toMatch(/2,000 rows/);
  });

  it('is read-only until writes are allowed, and shows the statement before a write runs', async () => {
    await sql.type(`insert into orders (product_id, qty, amount) values (1, 2, 3)`);
    await sql.run();
    await sql.waitText(page.getByTestId('console-error'), /read-only transaction[\s\S]*Allow writes/);
    expect(await page.getByTestId('console-writes').innerText()).toMatch(/read-only/);
    await ins.screenshot('inspect-06-console-read-only');
    await page.getByTestId('console-writes').locator('input').check({ force: true });
    expect(await page.getByTestId('console-writes').innerText()).toMatch(/writes allowed on shop/);
    await sql.run();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await page.getByTestId('console-confirm-sql').innerText()).toBe('insert into orders (product_id, qty, amount) values (1, 2, 3)');
    await ins.screenshot('inspect-07-console-confirm-write');
    await page.getByTestId('console-confirm').click();
    await sql.waitText(page.getByTestId('console-summary'), /INSERT 1[\s\S]*committed/);
    expect((await source.sql('select count(*) AS n from orders')).rows[0].n).toBe('501');
    await page.getByTestId('console-writes').locator('input').uncheck({ force: true });
  });

  it('shows EXPLAIN ANALYZE as a readable tree, cancels a long query, and keeps a history', async () => {
    await sql.type('select p.name, count(*) from orders o join products p on p.id = o.product_id where o.qty > 1 group by p.name');
    await page.getByTestId('console-analyze').click();
    await page.getByTestId('plan-tree').waitFor();
    const tree = await page.getByTestId('plan-tree').innerText();
    expect(tree).toMatch(/Hash Join|Nested Loop|Merge Join/);
    expect(tree).toMatch(/on public\.orders o|on orders o/);
    expect(tree).toMatch(/rows/);
    expect(await sql.status().innerText()).toMatch(/EXPLAIN ANALYZE \(rolled back\)/);
    await ins.screenshot('inspect-08-console-explain-analyze');

    await sql.type('select pg_sleep(60)');
    await sql.run();
    await page.getByTestId('console-cancel').click();
    await sql.waitText(page.getByTestId('console-error'), /Cancelled/);

    await page.getByTestId('console-history-button').click();
    const history = await page.getByTestId('console-history').innerText();
    expect(history).toMatch(/select pg_sleep\(60\)[\s\S]*cancelled/);
    expect(history).toMatch(/insert into orders[\s\S]*INSERT 1/);
    await ins.screenshot('inspect-09-console-history');
    await page.getByTestId('console-history').locator('.history-item', { hasText: 'select id, name, price' }).click();
    expect(await page.getByTestId('console-editor').innerText()).toMatch(/select id, name, price from products/);
  });

  it('selects a range of cells, copies it from the right-click menu as CSV, JSON and INSERT', async () => {
    await ins.tab('rows').click();
    await page.locator('[data-table="public.products"]').click();
    await page.getByTestId('table-title').filter({ hasText: 'products' }).waitFor();
    await table.grid.locator('[data-row="0"]').waitFor();
    const cell = (r: number, c: number) => table.grid.locator(`[data-row="${r}"] [role=gridcell]`).nth(c);
    await cell(0, 0).click();
    await cell(2, 2).click({ modifiers: ['Shift'] });
    expect(await table.grid.locator('.td.in-range').count()).toBe(8);
    await cell(1, 1).click({ button: 'right' });
    await page.getByTestId('grid-menu').waitFor();
    expect(await page.getByTestId('grid-menu').innerText()).toMatch(/9 cells · 3 rows/);
    await ins.screenshot('inspect-10-grid-menu');
    await page.getByTestId('copy-csv').click();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe('id,name,price\n1,product 1,1.10\n2,product 2,1.20\n3,product 3,1.30');
    await cell(1, 1).click({ button: 'right' });
    await page.getByTestId('copy-sql').click();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(`INSERT INTO "public"."products" ("id", "name", "price") VALUES ('1', 'product 1', '1.10');\nINSERT INTO "public"."products" ("id", "name", "price") VALUES ('2', 'product 2', '1.20');\nINSERT INTO "public"."products" ("id", "name", "price") VALUES ('3', 'product 3', '1.30');`);
    await cell(1, 1).click({ button: 'right' });
    await page.getByTestId('copy-json').click();
    expect(JSON.parse(String(await page.evaluate('navigator.clipboard.readText()')))).toEqual([
      { id: '1', name: 'product 1', price: '1.10' }, { id: '2', name: 'product 2', price: '1.20' }, { id: '3', name: 'product 3', price: '1.30' },
    ]);
    // keyboard: Ctrl+C copies the range as TSV
    await table.grid.press('Control+c');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe('1\tproduct 1\t1.10\n2\tproduct 2\t1.20\n3\tproduct 3\t1.30');
  });

  it('exports the filtered rows in view as a streamed download with progress', async () => {
    await table.typeFilter('id <= 1500');
    await table.applyFilterWithKeyboard();
    await table.waitText(table.filterStatus(), /applied/);
    await page.getByTestId('export-button').click();
    await page.getByTestId('export-popover').waitFor();
    // the menu quotes the toolbar's count of the filtered rows, not the table's
    expect(await page.getByTestId('export-what').innerText()).toBe(`public.products, filtered · ${await page.getByTestId('row-count').innerText()}`);
    expect(await page.getByTestId('export-what').innerText()).toMatch(/1,500 matching rows$/);
    await ins.screenshot('inspect-11-export-menu');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-go').click()]);
    expect(download.suggestedFilename()).toBe('products.csv');
    const path = await download.path();
    const text = (await import('node:fs')).readFileSync(path, 'utf8');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('id,name,price,qty,tags,attrs,embedding,updated_at');
    expect(lines).toHaveLength(1501);
    await sql.waitText(page.getByTestId('export-job'), /✓ 1,500 rows/);
    await ins.screenshot('inspect-12-export-done');
  });

  it('finds rows with the quick search (server-side, beyond the loaded pages) and keeps the key column in view sideways', async () => {
    await page.getByTestId('quick-search').fill('product 1499');
    await table.waitText(table.grid.locator('[data-row="0"]'), /1499/);
    expect(await table.grid.locator('[role=row][data-row]').count()).toBe(1);
    expect((await table.row(0))[1]).toBe('product 1499');
    // the count is of the searched rows, and the Export menu quotes the toolbar's own words
    await page.getByTestId('count-exact').click();
    await table.waitText(page.getByTestId('row-count'), /^1 matching rows$/);
    await page.getByTestId('export-button').click();
    await table.waitText(page.getByTestId('export-what'), /searched · 1 matching rows$/);
    await ins.screenshot('inspect-12b-export-menu-searched');
    await page.getByTestId('export-button').click();
    await page.getByTestId('quick-search').fill('');
    await table.waitText(table.grid.locator('[data-row="1"]'), /product 2/);
    // the search cleared: the toolbar is back on the filter editor's exact count (one count on screen)
    await table.waitText(page.getByTestId('row-count'), /^1,500 matching rows$/);
    await page.getByTestId('go-to-key').fill('1234');
    await page.getByTestId('go-to-key').press('Enter');
    await table.waitText(table.grid.locator('[data-row="0"]'), /product 1234/);
    expect((await table.row(1))[0]).toBe('1235');
    // numbered from the rows before the key (the filter id <= 1500 is still applied)
    expect(await table.grid.locator('[data-row="0"] .rownum').innerText()).toBe('1234');
    await table.waitText(page.getByTestId('view-range'), /^rows 1,234–/);
    await ins.screenshot('inspect-12c-go-to-key-numbered');
    await page.getByTestId('first-page').click();
    await table.waitText(table.grid.locator('[data-row="0"]'), /product 1\b/);
    await table.grid.evaluate((el) => (el.scrollLeft = 600));
    await page.waitForTimeout(100);
    // the id cell sits right after the row numbers whatever the horizontal scroll
    const idBox = await table.grid.locator('[data-row="0"] [role=gridcell]').first().boundingBox();
    const gridBox = await table.grid.boundingBox();
    expect(Math.round(idBox!.x - gridBox!.x)).toBeLessThanOrEqual(60);
    await ins.screenshot('inspect-13-frozen-key-column');
    await table.grid.evaluate((el) => (el.scrollLeft = 0));
  });

  it('after going to a key whose position takes too long to count, leaves the rows unnumbered and says why', async () => {
    // pg_sleep makes each row before the key cost at least 1 ms: 1,233 rows take longer than the 1 s the count may take
    await table.typeFilter('id <= 1500 and pg_sleep(0.001) is not null');
    await table.applyFilterWithKeyboard();
    // the editor's own bounded count gives up too (it applies once checked): wait until it has
    await table.waitText(table.filterStatus(), /too many to count quickly[\s\S]*applied/);
    await table.waitText(page.getByTestId('view-range'), /^rows 1–/);
    await page.getByTestId('go-to-key').fill('1234');
    await page.getByTestId('go-to-key').press('Enter');
    await table.waitText(page.getByTestId('unnumbered-why'), /not numbered: counting the rows before this key took over 1 s/);
    expect((await table.row(0))[0]).toBe('1234');
    expect(await table.grid.locator('[data-row="0"] .rownum').innerText()).toBe('');
    await ins.screenshot('inspect-12d-go-to-key-unnumbered');
    await table.typeFilter('id <= 1500');
    await table.applyFilterWithKeyboard();
    await table.waitText(table.filterStatus(), /1,500 matching rows[\s\S]*applied/);
    await table.waitText(page.getByTestId('view-range'), /^rows 1–/); // the grid reloaded from the start: numbered again
    expect(await page.getByTestId('unnumbered-why').count()).toBe(0);
  });

  it('opens another database of the server from the tree', async () => {
    await page.locator('[data-database="warehouse"]').click();
    await table.treeItem('public', 'bins').waitFor({ timeout: 30_000 });
    expect(await page.getByRole('combobox', { name: 'Active connection' }).inputValue()).not.toBe('');
    await ins.screenshot('inspect-04-other-database');
  });
});
