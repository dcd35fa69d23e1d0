import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitFor } from '../support/live';

// SIGKILL the CLI in the middle of a large apply, at several points found by watching what its
// target connection is running: after each kill the target is exactly as before the apply
// (nothing half-written), and a rerun converges to exactly the source's rows, no loss, no duplicates.
const BIN = join(__dirname, '..', '..', 'bin', 'tablesync.mjs');
const ROWS = 200_000;
// While it holds the flow's lock, the CLI's session is tagged with its OS process and host
// (`tablesync[pid@host] cli crash_flow`, core/state/lock.ts), so match with or without the tag.
const APP = '^tablesync(\\[[^]]*\\])? cli crash_flow$';

describe('crash during apply', () => {
  let t: Pair;
  let dir: string;
  let flowFile: string;
  beforeAll(async () => {
    t = await sourceAndTarget('crash');
    dir = mkdtempSync(join(tmpdir(), 'tablesync-crash-'));
    await t.src.sql(`CREATE TABLE big (id bigint PRIMARY KEY, name text, amount numeric(12,2), payload text)`);
    await t.src.sql(`INSERT INTO big SELECT g, 'name ' || g, g * 0.01, repeat(md5(g::text), 4) FROM generate_series(1, ${ROWS}) g`);
    flowFile = join(dir, 'flow.json');
    writeFileSync(flowFile, JSON.stringify({ version: 1, name: 'crash_flow', source: { connection: { url: t.src.url }, table: 'big' }, target: { connection: { url: t.tgt.url }, table: 'big' } }));
  }, 120_000);
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  const targetState = async () => {
    const exists = (await t.tgt.sql(`SELECT to_regclass('public.big') IS NOT NULL AS e, to_regnamespace('tablesync') IS NOT NULL AS s`)).rows[0];
    if (exists.e !== 't') return { table: false, state: exists.s === 't' };
    const r = (await t.tgt.sql(`SELECT count(*) AS n, md5(string_agg(b::text, ',' ORDER BY id)) AS h FROM big b`)).rows[0];
    const tracked = exists.s === 't' ? (await t.tgt.sql(`SELECT count(*) AS n FROM tablesync."rows__crash_flow"`)).rows[0].n : null;
    return { table: true, rows: r.n, hash: r.h, tracked };
  };
  const sourceHash = async () => (await t.src.sql(`SELECT count(*) AS n, md5(string_agg(b::text, ',' ORDER BY id)) AS h FROM big b`)).rows[0];

  /** Run `apply` and SIGKILL it once its target connection (or one matching `app`) runs a statement matching `pattern`. */
  const killDuring = async (pattern: RegExp, opts: { file?: string; args?: string[]; app?: string; cliApp?: string } = {}): Promise<string> => {
    const app = opts.app ?? APP;
    const cliApp = opts.cliApp ?? APP;
    const child = spawn(process.execPath, [BIN, 'apply', opts.file ?? flowFile, ...(opts.args ?? [])], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let seen = '';
    const deadline = Date.now() + 90_000;
    let done = false;
    void exited.then(() => { done = true; });
    while (!done && Date.now() < deadline) {
      const { rows } = await t.tgt.sql(`SELECT query FROM pg_stat_activity WHERE datname = current_database() AND application_name ~ $1 AND state = 'active'`, [app]);
      const hit = (rows as { query: string }[]).find((r) => pattern.test(r.query));
      if (hit) {
        seen = hit.query;
        child.kill('SIGKILL');
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await exited;
    // The server notices the dead client and rolls back; wait until its backends are gone.
    await waitFor('the killed apply\'s sessions gone', async () => (await t.tgt.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND (application_name ~ $1 OR application_name ~ $2)`, [cliApp, '^tablesync load$'])).rows[0].n === '0', 60_000, 50);
    return seen;
  };
  const rerun = (file = flowFile, args: string[] = []) => new Promise<number | null>((resolve) => spawn(process.execPath, [BIN, 'apply', file, ...args], { stdio: 'ignore' }).on('exit', resolve));

  it('initial load: killed during the copy, the tracking copy and the key build; untouched each time; rerun converges', async () => {
    // One stream (in the apply's transaction); the parallel load is the next test.
    for (const p of [/COPY "public"\."big"/, /COPY "tablesync"\."rows__crash_flow"/, /ALTER TABLE "public"\."big" ADD PRIMARY KEY/]) {
      const seen = await killDuring(p, { args: ['--streams', '1'] });
      expect(seen, `apply never reached ${p}`).toMatch(p);
      expect(await targetState()).toEqual({ table: false, state: false });
    }
    expect(await rerun()).toBe(0);
    const s = await sourceHash();
    expect(await targetState()).toEqual({ table: true, rows: s.n, hash: s.h, tracked: String(ROWS) });
  }, 300_000);

  it('parallel initial load (3 streams into a staging table): killed during the streams and the key builds; untouched each time; no staging table left after the rerun', async () => {
    const file = join(dir, 'par.json');
    writeFileSync(file, JSON.stringify({ version: 1, name: 'crash_par', source: { connection: { url: t.src.url }, table: 'big' }, target: { connection: { url: t.tgt.url }, table: 'big_par' } }));
    const cliApp = '^tablesync(\\[[^]]*\\])? cli crash_par$';
    const exists = async () => (await t.tgt.sql(`SELECT to_regclass('public.big_par') IS NOT NULL AS e`)).rows[0].e;
    for (const [p, app] of [[/COPY "tablesync"\."_load__crash_par"/, '^tablesync load$'], [/ALTER TABLE "tablesync"\."_load_(marks_)?_crash_par" ADD PRIMARY KEY/, '^tablesync load$']] as const) {
      const seen = await killDuring(p, { file, args: ['--streams', '3'], app, cliApp });
      expect(seen, `apply never reached ${p}`).toMatch(p);
      expect(await exists()).toBe('f');
    }
    expect(await rerun(file, ['--streams', '3'])).toBe(0);
    const s = await sourceHash();
    const r = (await t.tgt.sql(`SELECT count(*) AS n, md5(string_agg(b::text, ',' ORDER BY id)) AS h FROM big_par b`)).rows[0];
    expect(r).toEqual({ n: s.n, h: s.h });
    expect((await t.tgt.sql(`SELECT count(*) AS n FROM tablesync."rows__crash_par"`)).rows[0].n).toBe(s.n);
    expect((await t.tgt.sql(`SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname LIKE '\\_load%' AND c.relkind = 'r'`)).rows[0].n).toBe('0');
  }, 300_000);

  it('incremental apply: killed while staging, merging and deleting; unchanged each time; rerun converges', async () => {
    const before = await targetState();
    await t.src.sql(`UPDATE big SET name = name || ' v2' WHERE id % 3 = 0`);
    await t.src.sql(`DELETE FROM big WHERE id % 20 = 1`);
    await t.src.sql(`INSERT INTO big SELECT g, 'new ' || g, 1, 'x' FROM generate_series(${ROWS + 1}, ${ROWS + 10_000}) g`);
    for (const p of [/COPY pg_temp\._tablesync_stage/, /WITH m AS \(\s*INSERT INTO "public"\."big"/, /DELETE FROM "public"\."big"/]) {
      const seen = await killDuring(p);
      expect(seen, `apply never reached ${p}`).toMatch(p);
      expect(await targetState()).toEqual(before);
    }
    expect(await rerun()).toBe(0);
    const s = await sourceHash();
    const after = await targetState();
    expect(after).toMatchObject({ table: true, rows: s.n, hash: s.h });
    expect(after.tracked).toBe(s.n);
  }, 300_000);
});
