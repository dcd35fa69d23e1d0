// "New set" in the app (issue 10), in Debian's Chromium against `tablesync serve`: from a schema in
// the explorer, the set form with defaults, the preview of every member (counts, defaults applied,
// a filter per table) and the refused tables with their reasons, save, apply in one transaction.
// Screens go to test-results/screenshots/sets-*.png.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newAppPage, startServe, startSource, type Served, type SourceDb } from './support/env';
import { AppPage, ConnectionsPage } from './pages/app';
import { createRentalSchema } from '../integration/set-fixture';
import type { TestDatabase } from '../support/db';

let source: SourceDb;
let rental: pg.Pool;
let warehouse: pg.Pool;
let served: Served;
let browser: Browser;
let page: Page;
let app: AppPage;

beforeAll(async () => {
  source = await startSource(50);
  await source.sql('CREATE DATABASE rental');
  await source.sql('CREATE DATABASE warehouse');
  rental = new pg.Pool({ connectionString: source.pg.url('rental'), max: 2 });
  warehouse = new pg.Pool({ connectionString: source.pg.url('warehouse'), max: 2 });
  rental.on('error', () => {});
  warehouse.on('error', () => {});
  await createRentalSchema({ sql: (t: string, p?: unknown[]) => rental.query(t, p) } as unknown as TestDatabase);
  served = await startServe();
  browser = await launchBrowser();
  page = await newAppPage(browser, served.url);
  app = new AppPage(page);
}, 180_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page) await app.screenshot(`sets-fail-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await rental?.end().catch(() => {});
  await warehouse?.end().catch(() => {});
  await source?.close();
});

/** Every table of the target's mirror and tablesync schemas (rows, by content) and the mirror's columns. */
async function targetState(): Promise<Record<string, string>> {
  const { rows: rels } = await warehouse.query(`SELECT n.nspname AS s, c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('mirror', 'tablesync') AND c.relkind IN ('r', 'p') ORDER BY 1, 2`);
  const out: Record<string, string> = {};
  for (const r of rels) out[`${r.s}.${r.t}`] = (await warehouse.query(`SELECT count(*)::text || ':' || coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), '') AS h FROM "${r.s}"."${r.t}" x`)).rows[0].h;
  out['mirror columns'] = (await warehouse.query(`SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_name, ordinal_position) AS c FROM information_schema.columns WHERE table_schema = 'mirror'`)).rows[0].c;
  return out;
}

describe('sets in the app', () => {
  it('makes a set from a schema, previews members and refusals, saves and applies it', async () => {
    const conns = new ConnectionsPage(page);
    await conns.addByUrl('rental', source.pg.url('rental'));
    await conns.save();
    await expect.poll(() => conns.card('rental').count()).toBe(1);
    await conns.addByUrl('warehouse', source.pg.url('warehouse'));
    await conns.save();
    await expect.poll(() => conns.card('warehouse').count()).toBe(1);
    await conns.open('rental');
    const schemaNode = page.getByRole('treeitem', { name: /^\W*public\b/ }).first();
    await schemaNode.waitFor();
    await expect.poll(() => schemaNode.getAttribute('aria-expanded'), { timeout: 10_000 }).toMatch(/true|false/);
    if ((await schemaNode.getAttribute('aria-expanded')) !== 'true') await schemaNode.click();
    const newSet = page.getByTestId('new-set-public');
    await newSet.click();
    await page.getByTestId('set-draft').waitFor();
    await page.getByTestId('set-name').fill('rental');
    await page.getByTestId('set-target').selectOption({ label: 'warehouse' });
    await page.getByTestId('set-target-schema').fill('mirror');
    await page.getByTestId('set-exclude').fill('audit_*');
    await page.getByTestId('set-ordinal').fill('last_update');
    await page.getByTestId('set-types').fill('mpaa_rating=text');
    await page.getByTestId('set-preview').click();
    await page.getByTestId('set-members').waitFor({ timeout: 30_000 });
    const members = await page.locator('[data-testid=set-members] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-table')));
    expect(members).toEqual(['actor', 'customer', 'film', 'film_actor', 'language', 'payment', 'staff', 'store']);
    const film = await page.locator('[data-table=film]').innerText();
    expect(film).toMatch(/mpaa_rating → text/);
    const refused = await page.getByTestId('set-refused').innerText();
    expect(refused).toMatch(/film_list \(view\): views cannot be sources/);
    expect(refused).toMatch(/notes_nokey \(table\): tables without a primary key/);
    expect(refused).toMatch(/payment_2024 \(table\): partition of "payment"/);
    // a filter on a table nothing references (one on film would orphan its sequels: the plan warns)
    await page.locator('[data-table=payment] input').fill('amount > 1');
    await app.screenshot('sets-01-new-set-preview');
    // per table, its steps with their SQL (the plan screen's step view); the set-wide foreign keys apart
    await page.getByTestId('steps-film').click();
    const filmSteps = await page.getByTestId('member-steps-film').innerText();
    expect(filmSteps).toMatch(/CREATE TABLE/);
    expect(filmSteps).toMatch(/rating/);
    await page.getByTestId('set-wide-steps').locator('summary').click();
    expect(await page.getByTestId('set-wide-steps').innerText()).toMatch(/FOREIGN KEY/i);
    await app.screenshot('sets-01b-member-steps');
    await page.getByTestId('steps-film').click();
    await expect.poll(() => page.getByTestId('member-steps-film').count()).toBe(0);

    await page.getByTestId('set-save').click();
    await page.locator('[data-set=rental]').waitFor();
    await page.getByTestId('apply-set-rental').click();
    await page.getByTestId('set-apply-result').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('set-apply-result').innerText()).toMatch(/one transaction: 8 tables/);
    await app.screenshot('sets-02-applied');
    const n = (await warehouse.query(`SELECT count(*) AS n FROM mirror.payment`)).rows[0].n;
    expect(n).toBe((await rental.query(`SELECT count(*) AS n FROM payment WHERE amount > 1`)).rows[0].n);
    expect((await warehouse.query(`SELECT count(*) AS n FROM mirror.film`)).rows[0].n).toBe((await rental.query(`SELECT count(*) AS n FROM film`)).rows[0].n);
    expect((await warehouse.query(`SELECT data_type FROM information_schema.columns WHERE table_schema = 'mirror' AND table_name = 'film' AND column_name = 'rating'`)).rows[0].data_type).toBe('text');
  });

  it('watches the set from the Monitor: per table state, rate and lag; one feed with a table column and a table filter', async () => {
    await app.go('Monitor');
    await page.getByTestId('monitor-flow').selectOption('set:rental');
    await page.locator('[data-testid=monitor-screen][data-set=rental]').waitFor();
    await page.getByTestId('watch-start').click();
    await expect.poll(() => page.getByTestId('listener-state').getAttribute('data-state'), { timeout: 60_000 }).toBe('live');
    await rental.query(`BEGIN; INSERT INTO language VALUES (7, 'lang 7', now()); INSERT INTO film VALUES (2000, 'live film', 7, 'PG', NULL, now()); UPDATE customer SET name = 'live rename', last_update = now() WHERE customer_id = 1; COMMIT;`);
    const live = page.locator('[data-testid=feed] tbody tr:not([data-op=catch-up])');
    await expect.poll(async () => (await live.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-table')))).sort(), { timeout: 30_000 }).toEqual(['customer', 'film', 'language']);
    expect(await page.locator('[data-testid=feed] tr[data-table=film]:not([data-op=catch-up]) [data-table-cell]').first().innerText()).toBe('film');
    // per table: the one listener's state, a rate and a lag for the tables that changed
    const filmRow = page.locator('[data-testid=set-members] tr[data-table=film]');
    expect(await filmRow.innerText()).toMatch(/live/);
    expect(await filmRow.locator('[data-lag]').innerText()).not.toBe('—');
    expect(await page.locator('[data-testid=set-members] tbody tr').count()).toBe(8);
    await app.screenshot('sets-03-monitor');
    await page.getByTestId('feed-table-filter').selectOption('film');
    await expect.poll(async () => new Set(await page.locator('[data-testid=feed] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-table'))))).toEqual(new Set(['film']));
    await app.screenshot('sets-04-monitor-film-only');
    expect((await warehouse.query(`SELECT title FROM mirror.film WHERE film_id = 2000`)).rows[0]?.title).toBe('live film');
    await page.getByTestId('watch-stop').click();
    await expect.poll(() => page.getByTestId('listener-state').getAttribute('data-state'), { timeout: 30_000 }).toBe('stopped');
  });

  it('picks tables in the explorer (Ctrl-click, Shift-click) and makes a set of exactly those', async () => {
    await app.go('Explorer');
    await page.locator('[data-table="public.film"]').click({ modifiers: ['Control'] });
    await page.locator('[data-table="public.language"]').click({ modifiers: ['Shift'] });
    await page.locator('[data-table="public.store"]').click({ modifiers: ['Control'] });
    expect(await page.locator('[data-picked]').evaluateAll((els) => els.map((e) => e.getAttribute('data-table')))).toEqual(['public.film', 'public.film_actor', 'public.film_list', 'public.language', 'public.store']);
    await app.screenshot('sets-05-picked-tables');
    await page.getByTestId('new-set-picked-public').click();
    await page.getByTestId('set-draft').waitFor();
    expect(await page.getByTestId('set-tables').inputValue()).toBe('film, film_actor, film_list, language, store');
    await page.getByTestId('set-name').fill('picked');
    await page.getByTestId('set-target').selectOption({ label: 'warehouse' });
    await page.getByTestId('set-target-schema').fill('picked');
    await page.getByTestId('set-types').fill('mpaa_rating=text');
    await page.getByTestId('set-preview').click();
    await expect.poll(async () => page.locator('[data-testid=set-members] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-table'))), { timeout: 30_000 }).toEqual(['film', 'film_actor', 'language', 'store']);
    // a view picked in the range is not a member: the preview says why
    expect(await page.getByTestId('set-refused').innerText()).toMatch(/film_list \(view\): views cannot be sources/);
    // film's own settings, in the flow editor's form: a target name for title, the ordinal column, a column left out
    await page.getByTestId('edit-member-film').click();
    const editor = page.getByTestId('set-member-editor-film');
    await editor.waitFor({ timeout: 30_000 });
    // the set-wide type override (mpaa_rating=text) is what rating becomes unless the member retypes it
    expect(await editor.getByLabel('target type of rating').getAttribute('placeholder')).toBe('text');
    expect(await editor.getByLabel('target type of film_id').getAttribute('placeholder')).not.toBe('text');
    await editor.getByLabel('target name of title').fill('film_title');
    await editor.getByTestId('member-ordinal').selectOption('last_update');
    await editor.getByLabel('include sequel_of').uncheck();
    // vector indexes and SQL attachments: the flow editor's own components, validated like a flow
    await editor.getByLabel('target type of title').fill('vector(3)');
    await editor.getByTestId('add-vector-index').click();
    await editor.getByTestId('vector-index-0').locator('select').first().selectOption('film_title');
    await editor.getByLabel('target type of title').fill(''); // title is text again: the index's column is no vector
    await editor.getByTestId('add-attachment').click();
    await editor.getByTestId('attachment-0').getByLabel('Attachment name').fill('film_title_idx');
    await editor.getByTestId('member-use').click();
    await editor.getByTestId('member-errors').waitFor();
    const problems = await editor.getByTestId('member-errors').innerText();
    expect(problems).toContain('Table “film”: “film_title” is text, not a vector.');
    expect(problems).toMatch(/Table “film”: What SQL sets it up\?/);
    await editor.getByTestId('member-errors').scrollIntoViewIfNeeded();
    await app.screenshot('sets-06b-member-editor-errors');
    await editor.getByTestId('vector-index-0').getByLabel('Remove index').click();
    await editor.getByTestId('attachment-0').getByLabel('Setup SQL').fill('CREATE INDEX film_title_idx ON picked.film (film_title)');
    await editor.getByTestId('attachment-0').getByLabel('Teardown SQL').fill('DROP INDEX picked.film_title_idx');
    // fixed: the summary says so at once (nothing left)
    await expect.poll(() => editor.getByTestId('member-errors').count()).toBe(0);
    await app.screenshot('sets-06a-member-editor');
    await editor.getByTestId('member-use').click();
    await editor.waitFor({ state: 'detached' });
    // reopened: the attachment is the member's
    await page.getByTestId('edit-member-film').click();
    await editor.waitFor({ timeout: 30_000 });
    expect(await editor.getByTestId('attachment-0').getByLabel('Attachment name').inputValue()).toBe('film_title_idx');
    await editor.getByTestId('member-use').click();
    await page.getByTestId('set-preview').click();
    await expect.poll(async () => page.getByTestId('set-preview').innerText(), { timeout: 30_000 }).toBe('Preview the set');
    expect(await page.locator('[data-testid=set-members] tr[data-table=film]').innerText()).toMatch(/Edit ✎/);
    await app.screenshot('sets-06-picked-preview');
  });

  it('verifies, applies with progress, and drops a saved set (asking before it deletes data)', async () => {
    // the picked set of the previous test, saved and applied: a progress line while it runs, then the result
    await page.getByTestId('set-save').click();
    await page.locator('[data-set=picked]').waitFor();
    // the saved set file holds film's own settings, attachment included; reopened, the form has them
    const settings = JSON.parse(readFileSync(join(served.home, 'settings.json'), 'utf8')) as { sets: Record<string, { set: { overrides: Record<string, unknown> } }> };
    expect(JSON.stringify(settings)).toContain('"sqlAttachments":[{"name":"film_title_idx","setupSql":"CREATE INDEX film_title_idx ON picked.film (film_title)","teardownSql":"DROP INDEX picked.film_title_idx"}]');
    await page.getByTestId('set-name').fill('scratch');
    await page.getByTestId('open-set-picked').click();
    await expect.poll(() => page.getByTestId('set-name').inputValue()).toBe('picked');
    await page.getByTestId('set-preview').click();
    await page.getByTestId('edit-member-film').click({ timeout: 30_000 });
    await page.getByTestId('set-member-editor-film').getByTestId('attachment-0').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('set-member-editor-film').getByLabel('target name of title').inputValue()).toBe('film_title');
    expect(await page.getByTestId('set-member-editor-film').getByLabel('Setup SQL').inputValue()).toBe('CREATE INDEX film_title_idx ON picked.film (film_title)');
    await page.getByTestId('set-member-editor-film').getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('apply-set-picked').click();
    await page.getByTestId('set-apply-result').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('set-apply-result').innerText()).toMatch(/“picked” in one transaction: 4 tables/);
    expect(await page.getByTestId('set-apply-progress').count()).toBe(0);
    const filmCols = (await warehouse.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'picked' AND table_name = 'film' ORDER BY ordinal_position`)).rows.map((r) => r.column_name);
    expect(filmCols).toContain('film_title');
    expect(filmCols).not.toContain('title');
    expect(filmCols).not.toContain('sequel_of');
    expect((await warehouse.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'picked' AND indexname = 'film_title_idx'`)).rows[0]?.indexdef).toMatch(/\(film_title\)/);
    await page.getByTestId('verify-set-picked').click();
    await page.getByTestId('set-verify-result').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('set-verify-result').innerText()).toMatch(/every member \(4\) holds exactly what it should/);
    await app.screenshot('sets-07-verified');
    await page.getByTestId('drop-set-picked').click();
    await page.getByTestId('set-drop-confirm').waitFor({ timeout: 30_000 });
    const refusal = await page.getByTestId('set-drop-confirm').innerText();
    expect(refusal).toMatch(/would delete data, which runs only when allowed/);
    // the app says what to click, not the CLI's flag
    expect(refusal).toContain('To allow it, click “Drop, deleting the data”.');
    expect(refusal).not.toContain('--allow-destructive');
    expect((await warehouse.query(`SELECT count(*) AS n FROM picked.film`)).rows[0].n).not.toBe('0');
    await app.screenshot('sets-08-drop-confirm');
    await page.getByTestId('set-drop-destructive').click();
    await page.getByTestId('set-drop-result').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('set-drop-result').innerText()).toMatch(/4 tables removed/);
    expect((await warehouse.query(`SELECT count(*) AS n FROM pg_class WHERE relnamespace = 'picked'::regnamespace AND relkind IN ('r', 'p')`)).rows[0].n).toBe('0');
    expect((await rental.query(`SELECT count(*) AS n FROM pg_trigger WHERE tgname LIKE 'picked.%'`)).rows[0].n).toBe('0');
  });
  it('shows apply progress per table and overall; Cancel leaves the target exactly as it was', async () => {
    await app.go('Sets');
    // changes in several members, so the one transaction has work to do before it reaches language
    await rental.query(`UPDATE actor SET name = name || ' (cancelled?)', last_update = now() WHERE actor_id <= 5; INSERT INTO language VALUES (950, 'Klingon', now()); INSERT INTO store VALUES (90, NULL, now())`);
    const before = await targetState();
    // the test holds a lock on one member's TARGET table that lets readers in but no writer: the
    // set's one transaction writes actor, customer, film… and then waits at language (no hook in the product)
    const locker = new pg.Client({ connectionString: source.pg.url('warehouse') });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE mirror.language IN SHARE MODE');
      await page.getByTestId('apply-set-rental').click();
      await page.getByTestId('set-apply-progress').waitFor({ timeout: 30_000 });
      await expect.poll(async () => (await warehouse.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = 'warehouse' AND wait_event_type = 'Lock' AND application_name LIKE 'tablesync%'`)).rows[0].n, { timeout: 30_000 }).toBe('1');
      await expect.poll(() => page.getByTestId('set-apply-progress').innerText(), { timeout: 30_000 }).toMatch(/table language \(5 of 8\)/);
      expect(Number(await page.getByTestId('set-apply-bar').getAttribute('value'))).toBe(4);
      expect(await page.getByTestId('set-apply-bar').getAttribute('max')).toBe('8');
      const states = await page.locator('[data-testid=set-apply-tables] [data-table]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-table'), e.getAttribute('data-state')]));
      expect(states.map((x) => x[0])).toEqual(['actor', 'customer', 'film', 'film_actor', 'language', 'payment', 'staff', 'store']);
      // language is at work (its own phase), the members after it are checked and wait for their turn
      expect(Object.fromEntries(states)).toEqual({ actor: 'rows moved', customer: 'rows moved', film: 'rows moved', film_actor: 'rows moved', language: expect.stringMatching(/^(scanning|loading|merging|deleting)/), payment: 'ready', staff: 'ready', store: 'ready' });
      await page.getByTestId('set-apply-progress').scrollIntoViewIfNeeded();
      await app.screenshot('sets-09-apply-progress');
      await page.getByTestId('set-apply-cancel').click();
      await page.getByTestId('set-apply-cancelled').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('set-apply-cancelled').innerText()).toMatch(/apply of set "rental" was cancelled while at table "language"; the target is unchanged/);
      expect(await page.getByTestId('set-apply-progress').count()).toBe(0);
      await app.screenshot('sets-10-apply-cancelled');
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
    }
    // server-side: every table of the target (members and TableSync's state) exactly as before, no transaction left open
    expect(await targetState()).toEqual(before);
    expect((await warehouse.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = 'warehouse' AND state LIKE 'idle in transaction%'`)).rows[0].n).toBe('0');
    // and the set still applies afterwards
    await page.getByTestId('apply-set-rental').click();
    await page.getByTestId('set-apply-result').waitFor({ timeout: 60_000 });
    expect((await warehouse.query(`SELECT count(*) AS n FROM mirror.actor WHERE name LIKE '%(cancelled?)'`)).rows[0].n).toBe('5');
    expect((await warehouse.query(`SELECT name FROM mirror.language WHERE language_id = 950`)).rows[0]?.name).toBe('Klingon');
  });

  it('applies the plan it showed; a plan that went stale is refused (or reported) per table, with the reason', async () => {
    await page.getByTestId('open-set-rental').click();
    await expect.poll(() => page.getByTestId('set-name').inputValue()).toBe('rental');
    await page.getByTestId('set-preview').click();
    await page.locator('[data-testid=set-members] tr[data-table=language]').waitFor({ timeout: 30_000 });
    // the source moves on after the preview: nothing destructive, so applied as recomputed, and said so
    await rental.query(`INSERT INTO language VALUES (901, 'Esperanto', now())`);
    await page.getByTestId('set-apply-plan').click();
    await page.getByTestId('set-replanned').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('set-replanned').innerText()).toMatch(/language: the source rows, the target table or the member's settings changed since the plan was computed; now 1 to insert/);
    expect((await warehouse.query(`SELECT name FROM mirror.language WHERE language_id = 901`)).rows[0]?.name).toBe('Esperanto');
    // a change whose new plan deletes data (a source column dropped): refused, naming the table and why
    await page.getByTestId('set-preview').click();
    await expect.poll(async () => page.getByTestId('set-preview').innerText(), { timeout: 30_000 }).toBe('Preview the set');
    await rental.query(`ALTER TABLE staff DROP COLUMN name`);
    await page.getByTestId('set-apply-plan').click();
    await page.getByTestId('set-stale').waitFor({ timeout: 60_000 });
    const stale = await page.getByTestId('set-stale').innerText();
    expect(stale).toMatch(/The plan went stale: nothing was applied/);
    expect(stale).toMatch(/staff: the source rows, the target table or the member's settings changed since the plan was computed; .*destructive: .*"name"/);
    expect((await warehouse.query(`SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = 'mirror' AND table_name = 'staff' AND column_name = 'name'`)).rows[0].n).toBe('1');
    // the preview shown is the plan as of now, with the destructive step
    await expect.poll(async () => page.getByTestId('set-preview-result').innerText(), { timeout: 30_000 }).toMatch(/1 destructive step/);
    await page.getByTestId('set-stale').scrollIntoViewIfNeeded();
    await app.screenshot('sets-11-plan-stale');
    // reviewed: applying this plan asks before it deletes data (the app's words), then runs it
    await page.getByTestId('set-apply-plan').click();
    await page.getByTestId('set-apply-confirm').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('set-apply-confirm').innerText()).toContain('To allow them, click “Apply, allowing the destructive steps”.');
    await page.getByTestId('set-apply-destructive').click();
    await page.getByTestId('set-apply-result').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('set-replanned').count()).toBe(0);
    expect((await warehouse.query(`SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = 'mirror' AND table_name = 'staff' AND column_name = 'name'`)).rows[0].n).toBe('0');
  });
});
