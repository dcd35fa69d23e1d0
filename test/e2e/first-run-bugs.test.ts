// What a new user hit on a first run, each checked where the user saw it: in Debian's Chromium
// against `tablesync serve`, on a real PostgreSQL 18 source (a small one: this file is about the
// screens, not scale) and a PGlite target. Screenshots go to test-results/screenshots/first-run-*.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newAppPage, startServe, startSource, startTarget, type Served, type SourceDb } from './support/env';
import type { RunningPglite } from '../../core/embedded/pglite-server';
import { AppPage, ConnectionsPage, TablePage } from './pages/app';

let source: SourceDb;
let target: RunningPglite;
let served: Served;
let browser: Browser;
let page: Page;
let app: AppPage;
let conns: ConnectionsPage;
let table: TablePage;

beforeAll(async () => {
  [source, target] = await Promise.all([startSource(2000), startTarget()]);
  // 40 bytes: three lines of the hex viewer, 16 bytes each
  await source.sql(`INSERT INTO blobs VALUES (3, decode(repeat('000102030405060708090a0b0c0d0e0f', 2) || '4142434445464748', 'hex'), 'forty bytes')`);
  // table inheritance (INHERITS): the parent cannot be a source, the child can
  await source.sql(`CREATE TABLE readings (id int PRIMARY KEY, v text); CREATE TABLE readings_2026 () INHERITS (readings); ALTER TABLE readings_2026 ADD PRIMARY KEY (id); INSERT INTO readings VALUES (1, 'parent'); INSERT INTO readings_2026 VALUES (2, 'child')`);
  served = await startServe();
  browser = await launchBrowser();
  page = await newAppPage(browser, served.url);
  app = new AppPage(page);
  conns = new ConnectionsPage(page);
  table = new TablePage(page);
}, 180_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page) await app.screenshot(`fail-first-run-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await target?.stop();
  await source?.close();
});

describe('first run', () => {
  it('an address without its token says to open the printed URL, instead of reconnecting forever', async () => {
    const bare = await page.context().newPage(); // same cookie jar: the page itself loads, the API does not
    await bare.goto(served.url.replace(/\?token=.*/, ''));
    const banner = bare.getByTestId('link-banner');
    await banner.waitFor({ timeout: 15_000 });
    expect(await banner.innerText()).toMatch(/open the URL that `tablesync serve` printed/);
    expect(await bare.getByTestId('link-state').innerText()).not.toMatch(/reconnecting/i);
    await bare.screenshot({ path: 'test-results/screenshots/first-run-01-no-token.png' });
    await bare.close();
  });

  it('the add-connection dialog forgets its last test result after Cancel', async () => {
    const u = new URL(source.url);
    const wrong = await conns.addByUrl('shop', `postgres://${u.username}@127.0.0.1:1/shop?connect_timeout=2`);
    expect(wrong).toMatch(/✕/);
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('add-connection').click();
    await page.getByRole('dialog').waitFor();
    expect(await page.getByRole('dialog').getByTestId('test-result').count()).toBe(0);
    await app.screenshot('first-run-02-dialog-reopened-clean');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  });

  it('after fixing a connection, the explorer reloads it; the status bar tells the app link from the database', async () => {
    const u = new URL(source.url);
    // saved with the wrong port: the explorer and the status bar say the database is not reachable
    await page.getByTestId('add-connection').click();
    await page.getByLabel('Connection name').fill('shop');
    await page.getByLabel('Connection URL').fill(`postgres://${u.username}@127.0.0.1:1/shop?connect_timeout=2`);
    await page.getByTestId('save-connection').click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await conns.card('shop').getByRole('button', { name: 'Open' }).click();
    await page.getByTestId('tree-error').waitFor({ timeout: 30_000 });
    expect(await app.text('link-state')).toMatch(/app linked/);
    await expect.poll(() => page.getByTestId('db-state').getAttribute('data-state'), { timeout: 30_000 }).toBe('failed');
    await app.screenshot('first-run-03-db-unreachable');

    // fixed in the dialog: no Retry needed
    await app.go('Connections');
    await conns.card('shop').getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('dialog').getByRole('group', { name: 'Enter as' }).getByRole('button', { name: 'Fields' }).click();
    await page.getByRole('dialog').getByLabel('Port', { exact: true }).fill(u.port);
    await page.getByTestId('save-connection').click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await conns.card('shop').getByRole('button', { name: 'Open' }).click();
    await table.treeItem('public', 'products').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('tree-error').count()).toBe(0);
    await expect.poll(() => page.getByTestId('db-state').getAttribute('data-state')).toBe('ok');
    await app.screenshot('first-run-04-db-fixed');
  });

  it('Ctrl+K finds a table and Enter opens it; the hint says Ctrl+K, not Mod+K', async () => {
    const search = page.getByLabel('Find a table');
    expect(await search.getAttribute('placeholder')).toMatch(/Ctrl\+K/);
    expect(await search.getAttribute('placeholder')).not.toMatch(/Mod/);
    await page.locator('body').click({ position: { x: 900, y: 500 } });
    await page.keyboard.press('Control+K');
    await page.keyboard.type('blob');
    await page.keyboard.press('Enter');
    await page.getByTestId('table-title').filter({ hasText: 'blobs' }).waitFor({ timeout: 30_000 });
    await app.screenshot('first-run-05-ctrl-k-enter');
  });

  it('the hex viewer shows 16 bytes a line', async () => {
    await table.grid.locator('[data-row="2"]').waitFor({ timeout: 30_000 });
    await table.openCell(2, 'data');
    const view = page.getByTestId('bytea-view');
    await view.waitFor();
    const lines = view.locator(':scope > div');
    expect(await lines.count()).toBe(3);
    const heights = await lines.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height));
    expect(Math.max(...heights)).toBeLessThan(Math.min(...heights) * 1.5); // none wraps onto two lines
    // and the whole line is in view: the panel does not cut off the last bytes or the ASCII column
    const fits = await view.evaluate((el) => el.scrollWidth <= el.clientWidth + 1);
    expect(fits).toBe(true);
    expect(await lines.first().innerText()).toMatch(/^000000\s*00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f/);
    await app.screenshot('first-run-06-hex');
    await page.keyboard.press('Escape');
  });

  it('Escape closes the Columns menu, whose names and types do not overlap', async () => {
    await page.getByLabel('Find a table').fill('');
    await table.openTable('public', 'products');
    await page.getByTestId('columns-button').click();
    const menu = page.getByTestId('columns-popover');
    await menu.waitFor();
    const overlaps = await menu.locator('label.col-choice').evaluateAll((els) => els.filter((l) => {
      const n = l.querySelector('.col-name')!.getBoundingClientRect();
      const t = l.querySelector('.col-type')!.getBoundingClientRect();
      return n.right > t.left + 0.5;
    }).length);
    expect(overlaps).toBe(0);
    await app.screenshot('first-run-07-columns-menu');
    await menu.locator('input[type=checkbox]').first().focus();
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached', timeout: 5000 });
  });

  it('the footer names the rows really in view; no negative numbers after Last; keyboard moves keep the cell visible beside the viewer', async () => {
    // scrolled into the window: the range is what is visible, read off the row numbers on screen
    await table.grid.evaluate((el) => (el.scrollTop = 27 * 150));
    const visibleNumbers = async () => table.grid.evaluate((el) => {
      const box = el.getBoundingClientRect();
      const head = el.querySelector('.thead')!.getBoundingClientRect().bottom;
      return [...el.querySelectorAll('.td.rownum')]
        .filter((c) => { const r = c.getBoundingClientRect(); return r.bottom > head + 1 && r.top < box.bottom - 1; })
        .map((c) => Number((c.textContent ?? '').replace(/,/g, '')))
        .sort((a, b) => a - b);
    });
    await expect.poll(async () => {
      const nums = await visibleNumbers();
      return (await app.text('view-range')) === `rows ${nums[0]!.toLocaleString('en-US')}–${nums.at(-1)!.toLocaleString('en-US')} in view`;
    }, { timeout: 15_000 }).toBe(true);
    await app.screenshot('first-run-13-range-in-view');

    // Last without an exact count: no numbers at all rather than negative ones
    await table.jumpToEnd();
    await expect.poll(() => app.text('view-range'), { timeout: 30_000 }).toMatch(/^the last \d+ rows in view$/);
    const labels = await table.grid.locator('.td.rownum').allInnerTexts();
    expect(labels.every((l) => l.trim() === '')).toBe(true);
    await page.getByTestId('count-exact').click();
    await expect.poll(() => app.text('view-range'), { timeout: 30_000 }).toMatch(/^rows [\d,]+–2,000 in view$/);
    // every number fits its column
    const cut = await table.grid.locator('.td.rownum').evaluateAll((els) => els.filter((e) => e.scrollWidth > e.clientWidth).length);
    expect(cut).toBe(0);
    await app.screenshot('first-run-14-after-last-counted');

    // the viewer open, arrows to the last column and up: the active cell stays visible, left of the viewer
    const cols = await table.columnNames();
    await table.grid.locator('[role=row][data-row] [role=gridcell]').last().click();
    await page.keyboard.press('Enter');
    await page.getByTestId('cell-viewer').waitFor({ timeout: 15_000 });
    await table.grid.focus();
    for (let i = 0; i < cols.length; i++) await page.keyboard.press('ArrowLeft');
    for (let i = 0; i < cols.length; i++) await page.keyboard.press('ArrowRight');
    for (let i = 0; i < 40; i++) await page.keyboard.press('ArrowUp');
    const inView = await table.grid.evaluate((el) => {
      const cell = el.querySelector('.td.active')!.getBoundingClientRect();
      const grid = el.getBoundingClientRect();
      const head = el.querySelector('.thead')!.getBoundingClientRect().bottom;
      const viewer = el.ownerDocument.querySelector('[data-testid=cell-viewer]')!.getBoundingClientRect();
      return cell.right <= viewer.left + 1 && cell.right <= grid.right + 1 && cell.top >= head - 1 && cell.bottom <= grid.bottom + 1;
    });
    expect(inView).toBe(true);
    await app.screenshot('first-run-15-keyboard-beside-viewer');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
  });

  it('filter completion lists a column once, with a word for its kind instead of an empty box', async () => {
    await table.typeFilter('na');
    const list = page.locator('.cm-tooltip-autocomplete li');
    await list.first().waitFor({ timeout: 15_000 });
    const labels = await list.locator('.cm-completionLabel').allInnerTexts();
    expect(labels.filter((l) => l === 'name')).toHaveLength(1); // `name` is also a PostgreSQL keyword
    const icons = await list.locator('.cm-completionIcon').evaluateAll((els) => els.map((e) => e.ownerDocument.defaultView!.getComputedStyle(e, '::after').content));
    expect(icons.length).toBeGreaterThan(0);
    for (const c of icons) expect(c).toMatch(/^"(col|kw|tbl|type|fn|var|as)"$/);
    await app.screenshot('first-run-11-completion');
    await page.keyboard.press('Escape');
  });

  it("one count on the screen: the filter's exact matching count, not an unrelated estimate beside it", async () => {
    await table.typeFilter('price > 50');
    await app.waitText(table.filterStatus(), /matching rows/, 30_000);
    const n = /([\d,]+) matching rows/.exec(await app.text('filter-count'))![1]!;
    await table.applyFilterWithKeyboard();
    await expect.poll(() => app.text('row-count'), { timeout: 30_000 }).toBe(`${n} matching rows`);
    await app.screenshot('first-run-12-one-count');
  });

  it('"New flow from this table" keeps the filter the user applied', async () => {
    await table.typeFilter('price > 50');
    await table.applyFilterWithKeyboard();
    await app.waitText(table.filterStatus(), /match/i, 30_000);
    await page.getByTestId('new-flow').click();
    const filter = page.getByTestId('flow-filter');
    await filter.waitFor({ timeout: 30_000 });
    expect(await filter.locator('.cm-content').innerText()).toContain('price > 50');
    await app.screenshot('first-run-08-new-flow-keeps-filter');
  });

  it('"+ Add" an attachment: no developer text, and what is missing only once touched', async () => {
    await page.getByTestId('add-attachment').click();
    const row = page.getByTestId('attachment-0');
    await row.waitFor();
    expect(await row.innerText()).not.toMatch(/Too small|expected string/);
    expect(await row.locator('.error-text, .error').count()).toBe(0);
    await row.getByLabel('Attachment name').focus();
    await row.getByLabel('Setup SQL').focus(); // leaving the name empty marks it touched
    await app.waitText(row, /needs a name/, 10_000);
    expect(await row.innerText()).not.toMatch(/Too small/);
    await app.screenshot('first-run-09-attachment-added');
    await row.getByRole('button', { name: 'Remove attachment' }).click();
  });

  it('at 1000 px the flows table keeps its actions in their own column', async () => {
    await page.getByTestId('flow-name').fill('products_sync');
    await page.getByTestId('save-flow').click();
    await app.go('Flows');
    await page.getByTestId('flows-table').waitFor({ timeout: 30_000 });
    await page.setViewportSize({ width: 1000, height: 700 });
    const actions = page.getByTestId('actions-products_sync');
    const target = page.locator('[data-flow="products_sync"] td').nth(2);
    const a = (await actions.boundingBox())!;
    const t = (await target.boundingBox())!;
    expect(a.x).toBeGreaterThanOrEqual(t.x + t.width - 1); // to the right of Target, never over it
    await app.screenshot('first-run-10-flows-1000px');
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('a table with inheritance children says INHERITS, not NO KEY, and its page says why it is no source; its child is one', async () => {
    await page.getByLabel('Find a table').fill(''); // an earlier test left "blob" there
    const parent = table.treeItem('public', 'readings');
    await parent.waitFor({ timeout: 30_000 });
    expect(await parent.innerText()).toMatch(/INHERITS/);
    expect(await parent.getAttribute('title')).toMatch(/inheritance children \(INHERITS: readings_2026\)/);
    expect(await table.treeItem('public', 'readings_2026').innerText()).toMatch(/PK/);
    await table.openTable('public', 'readings');
    expect(await app.text('unusable')).toMatch(/not usable as a source: it has inheritance children/);
    await app.screenshot('first-run-05b-inherits');
  });
});
