// The plan screen on a user-managed target that holds rows the user wrote, with a nullable ordinal
// holding NULLs: the conflicts are counted, shown ("Yours": your cells → the source's) and left
// alone by an apply without the tick; with "take them over" ticked, apply takes them over. The rows
// without an ordinal are counted and said to be compared by content.
// Screenshots: test-results/screenshots/plan-conflicts-*.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import pg from 'pg';
import WebSocket from 'ws';
import { launchBrowser, newAppPage, shot, startServe, startSource, type Served, type SourceDb } from './support/env';
import { PlanPage } from './pages/app';

let source: SourceDb;
let served: Served;
let browser: Browser;
let page: Page;
let target: pg.Client;

async function api(url: string, calls: { method: string; input: unknown }[]): Promise<unknown[]> {
  const u = new URL(url);
  const ws = new WebSocket(`ws://${u.host}/api?token=${u.searchParams.get('token')}`, { headers: { Origin: `http://${u.host}` } });
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  const out: unknown[] = [];
  try {
    for (const [i, c] of calls.entries()) {
      const answer = await new Promise<{ envelope: { ok: boolean; result?: unknown; error?: unknown } }>((resolve) => {
        const onMessage = (d: WebSocket.RawData) => {
          const m = JSON.parse(d.toString()) as { id?: string; envelope: { ok: boolean; result?: unknown; error?: unknown } };
          if (m.id === `c${i}`) { ws.off('message', onMessage); resolve(m); }
        };
        ws.on('message', onMessage);
        ws.send(JSON.stringify({ id: `c${i}`, method: c.method, input: c.input }));
      });
      if (!answer.envelope.ok) throw new Error(`${c.method}: ${JSON.stringify(answer.envelope.error)}`);
      out.push(answer.envelope.result);
    }
  } finally {
    ws.close();
  }
  return out;
}

beforeAll(async () => {
  source = await startSource(100);
  await source.sql(`CREATE TABLE notes (id int PRIMARY KEY, body text, edited_at timestamptz)`);
  await source.sql(`INSERT INTO notes SELECT g, 'note ' || g, CASE WHEN g % 4 = 0 THEN NULL ELSE timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute' END FROM generate_series(1, 40) g`);
  const admin = new pg.Client({ connectionString: source.pg.url() });
  await admin.connect();
  await admin.query('CREATE DATABASE notes_target');
  await admin.end();
  target = new pg.Client({ connectionString: source.pg.url('notes_target') });
  await target.connect();
  await target.query(`CREATE TABLE notes (id int PRIMARY KEY, body text, edited_at timestamptz)`);
  await target.query(`INSERT INTO notes VALUES (1, 'my own first note', NULL), (2, 'note 2', '2026-01-01 00:02:00+00'), (900, 'only mine', NULL)`);
  served = await startServe();
  await api(served.url, [
    { method: 'connections.save', input: { name: 'notes source', connection: { url: source.url } } },
    { method: 'connections.save', input: { name: 'notes target', connection: { url: source.pg.url('notes_target') } } },
    { method: 'flows.save', input: { flow: { version: 1, name: 'notes_mirror', source: { connection: { saved: 'notes source' }, table: 'notes', ordinalColumn: 'edited_at' }, target: { connection: { saved: 'notes target' }, table: 'notes', managedBy: 'user' } } } },
  ]);
  browser = await launchBrowser();
  page = await newAppPage(browser, served.url);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await target?.end().catch(() => {});
  await source?.close();
});

describe('plan screen: rows you wrote, rows without an ordinal', () => {
  it('shows the conflicts, leaves them without the tick, takes them over with it', async () => {
    const plan = new PlanPage(page);
    await plan.go('Flows');
    await page.getByTestId('actions-notes_mirror').getByRole('button', { name: 'Plan' }).click();
    await plan.waitForPlan();
    expect(await plan.counts()).toMatchObject({ insert: 38, update: 0, delete: 0, foreign: 1, conflict: 2 });
    await expect(page.getByTestId('without-ordinal').innerText()).resolves.toBe('10 rows without an ordinal, compared by content');
    await expect(page.getByTestId('conflicts').innerText()).resolves.toContain('would take over 2 rows you wrote');
    await page.getByTestId('diff-tab-conflict').click();
    const rows = page.getByTestId('diff-grid').locator('tbody tr');
    await expect(rows.count()).resolves.toBe(2);
    await expect(rows.first().innerText()).resolves.toContain('my own first note');
    await shot(page, 'plan-conflicts-plan');

    // Apply without the tick: your rows stay yours.
    await page.getByTestId('apply-plan').click();
    await page.getByTestId('apply-result').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('apply-result').innerText()).resolves.toContain('Left alone 2 rows you wrote');
    expect((await target.query(`SELECT body FROM notes WHERE id = 1`)).rows[0].body).toBe('my own first note');
    // The plan as of now (recomputed after the apply): the conflicts are still there.
    await page.getByTestId('recompute-plan').getByText('Recompute').waitFor({ timeout: 60_000 });
    await page.getByTestId('conflicts').waitFor({ timeout: 60_000 });

    // Tick "take them over" and apply: now they are the flow's.
    await page.getByTestId('take-over').check();
    await shot(page, 'plan-conflicts-ticked');
    await page.getByTestId('apply-plan').click();
    await page.getByText('Took over 2 rows you wrote').waitFor({ timeout: 60_000 });
    expect((await target.query(`SELECT body FROM notes WHERE id = 1`)).rows[0].body).toBe('note 1');
    expect((await target.query(`SELECT body FROM notes WHERE id = 900`)).rows[0].body).toBe('only mine');
    await page.getByTestId('in-sync').waitFor({ timeout: 60_000 });
    await shot(page, 'plan-conflicts-taken');
  });
});
