// The flow editor's "Initial load" control (issue 12), in Debian's Chromium against `tablesync
// serve`: Automatic says what the engine would choose for this table; Fixed takes a number held to
// the flow schema's limit (a number past it is refused on the field and nothing is saved); the
// number is saved as `load.streams` in the flow file and reopens in the editor; the plan screen says
// how the load will run (from the engine's plan), and the apply result how it ran; the target then
// holds exactly the source's rows. Screens: test-results/screenshots/initial-load-*.png.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newAppPage, startServe, startSource, startTarget, type Served, type SourceDb } from './support/env';
import type { RunningPglite } from '../../core/embedded/pglite-server';
import { ConnectionsPage, FlowEditorPage, PlanPage, TablePage } from './pages/app';
import { MAX_LOAD_STREAMS } from '../../core/flow/schema';
import { parseFlow } from '../../core/flow/load';
import { SettingsStore } from '../../core/settings/settings-store';

const FLOW = 'products_loaded';
const ROWS = 400;

let source: SourceDb;
let target: pg.Pool;
let pglite: RunningPglite;
let served: Served;
let browser: Browser;
let page: Page;
let conns: ConnectionsPage;
let table: TablePage;
let editor: FlowEditorPage;
let plan: PlanPage;

beforeAll(async () => {
  [source, pglite] = await Promise.all([startSource(ROWS), startTarget()]);
  await source.sql('CREATE DATABASE warehouse');
  target = new pg.Pool({ connectionString: source.pg.url('warehouse'), max: 1 });
  target.on('error', () => {});
  served = await startServe();
  browser = await launchBrowser();
  page = await newAppPage(browser, served.url);
  conns = new ConnectionsPage(page);
  table = new TablePage(page);
  editor = new FlowEditorPage(page);
  plan = new PlanPage(page);
}, 180_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page) await conns.screenshot(`initial-load-fail-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await target?.end().catch(() => {});
  await source?.close();
  await pglite?.stop();
});

const savedFlow = (name = FLOW) => (JSON.parse(readFileSync(join(served.home, 'settings.json'), 'utf8')) as { flows: { flow: { name: string; load?: unknown; source: Record<string, unknown> } }[] }).flows.find((f) => f.flow.name === name)?.flow;

describe('initial load streams in the app', () => {
  it('Automatic says what the engine would choose; Fixed is held to the schema’s limit', async () => {
    await conns.go('Connections');
    expect(await conns.addByUrl('shop', source.url)).toMatch(/connected/);
    await conns.save();
    expect(await conns.addByUrl('warehouse', source.pg.url('warehouse'))).toMatch(/connected/);
    await conns.save();
    await conns.open('shop');
    await table.openTable('public', 'products');
    await editor.startFromOpenTable();
    await page.getByTestId('flow-name').fill(FLOW);
    await page.getByTestId('target-connection').selectOption('warehouse');
    await page.getByTestId('target-table').fill('products_copy');
    // The engine's choice for 400 rows (catalog estimate): one stream, binary COPY.
    await editor.waitText(page.getByTestId('load-automatic'), /^automatic: one stream, binary COPY for ~400 rows$/);
    await page.getByTestId('initial-load').scrollIntoViewIfNeeded();
    await editor.screenshot('initial-load-automatic');

    await page.getByTestId('load-fixed').click();
    await expect.poll(() => page.getByTestId('load-streams').inputValue()).toBe('1'); // starts from automatic's choice
    await page.getByTestId('load-streams').fill(String(MAX_LOAD_STREAMS + 1));
    await editor.waitText(page.getByTestId('load-streams-error'), new RegExp(`^Streams: a whole number from 1 to ${MAX_LOAD_STREAMS}\\.$`));
    await page.getByTestId('save-flow').click();
    await page.getByTestId('initial-load').scrollIntoViewIfNeeded();
    await editor.screenshot('initial-load-refused');
    expect(savedFlow()).toBeUndefined(); // nothing saved

    await page.getByTestId('load-streams').fill('3');
    await expect.poll(() => page.getByTestId('load-streams-error').count()).toBe(0);
    await page.getByTestId('initial-load').scrollIntoViewIfNeeded();
    await editor.screenshot('initial-load-fixed');
    await page.getByTestId('save-flow').click();
    await expect.poll(() => savedFlow()?.load).toEqual({ streams: 3 });
  });

  it('the plan says how the load will run; apply runs it and says how it ran; the target holds the source’s rows', async () => {
    await page.getByTestId('preview-plan').click();
    await page.getByTestId('plan-screen').waitFor();
    await plan.waitForPlan();
    expect(await plan.counts()).toMatchObject({ insert: ROWS, update: 0, delete: 0 });
    expect(await plan.text('plan-initial-load')).toBe(`Initial load: 3 parallel streams, binary COPY, ~${ROWS} rows (set in the flow: 3) · change in the flow`);
    await plan.screenshot('initial-load-plan');

    await page.getByTestId('apply-plan').click();
    await page.getByTestId('apply-result').waitFor({ timeout: 60_000 });
    expect(await plan.text('apply-result')).toContain(`${ROWS} inserted`);
    expect((await plan.text('apply-initial-load')).trim()).toBe('Initial load: 3 streams, binary COPY.');
    await plan.screenshot('initial-load-applied');

    const digest = async (q: (s: string) => Promise<pg.QueryResult>, rel: string) =>
      (await q(`SELECT count(*) AS n, md5(string_agg(ROW(id, name, price, qty, tags, attrs, embedding, updated_at)::text, E'\\n' ORDER BY id)) AS h FROM ${rel}`)).rows[0];
    expect(await digest((s) => target.query(s), 'products_copy')).toEqual(await digest((s) => source.sql(s), 'products'));
    // Loaded: the next plan is not an initial load, and says nothing of one.
    await page.getByTestId('in-sync').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('plan-initial-load').count()).toBe(0);
  });

  it('the saved number reopens in the editor (round trip); Automatic removes it from the flow file', async () => {
    await page.getByRole('button', { name: 'Edit flow' }).click();
    await page.getByTestId('flow-editor').waitFor();
    await expect.poll(() => page.getByTestId('load-streams').inputValue()).toBe('3');
    expect(await page.getByTestId('load-fixed').getAttribute('aria-pressed')).toBe('true');
    // The table is loaded now: automatic's line says the setting waits for a fresh load.
    await editor.waitText(page.getByTestId('initial-load'), /not an initial load into a new table/);
    await page.getByTestId('load-auto').click();
    await page.getByTestId('save-flow').click();
    await expect.poll(() => savedFlow() !== undefined && !('load' in savedFlow()!)).toBe(true);
    await page.getByTestId('initial-load').scrollIntoViewIfNeeded();
    await editor.screenshot('initial-load-reopened');
  });

  it('a flow with logical-replication capture opens with it shown, and saving keeps it (never turned into a trigger)', async () => {
    new SettingsStore(served.home).putFlow(parseFlow({
      version: 1, name: 'products_logical',
      source: { connection: { saved: 'shop' }, table: 'products', replication: { slotName: 'products_slot' } },
      target: { connection: { saved: 'warehouse' }, table: 'products_logical' },
    }));
    await page.reload(); // written behind the app's back: the list is read again on load
    await conns.go('Flows');
    await page.getByTestId('actions-products_logical').getByRole('button', { name: 'Edit' }).click();
    await page.getByTestId('flow-editor').waitFor();
    await editor.waitText(page.getByTestId('replication-capture'), /logical replication: publication \(default name\), slot products_slot/);
    expect(await page.getByTestId('notify').count()).toBe(0);
    await page.getByTestId('replication-capture').scrollIntoViewIfNeeded();
    await editor.screenshot('initial-load-logical-flow');
    await page.getByTestId('load-fixed').click();
    await page.getByTestId('save-flow').click();
    await expect.poll(() => savedFlow('products_logical')?.load).toEqual({ streams: 1 });
    expect(savedFlow('products_logical')!.source.replication).toEqual({ slotName: 'products_slot' });
    expect(savedFlow('products_logical')!.source.notification).toBeUndefined();
  });

  it('a one-session target (PGlite) is not asked for the hint: the line says so', async () => {
    await conns.go('Connections');
    expect(await conns.addByUrl('vectors', pglite.url())).toMatch(/connected/);
    await conns.save();
    await conns.open('shop');
    await table.openTable('public', 'products');
    await editor.startFromOpenTable();
    await page.getByTestId('target-connection').selectOption('vectors');
    await editor.waitText(page.getByTestId('load-automatic'), /^automatic — not asked: the target serves one session at a time/);
    await page.getByTestId('initial-load').scrollIntoViewIfNeeded();
    await editor.screenshot('initial-load-one-session-target');
  });
});
