import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freshDatabase, type TestDatabase } from '../support/db';
import { createRentalSchema, MEMBER_TABLES, ORDER, rentalSet, tableDigest } from './set-fixture';
import { CLI_BIN, runCli } from '../support/cli';

// `tablesync plan|apply|drop SET.json` and what a kill in the middle of a set apply leaves: the
// set's one transaction is open, several members' rows are in it, the process dies; the target is
// exactly as before (no schema, no state), and a rerun converges.
const BIN = CLI_BIN;
const APP = 'tablesync cli set rental';

const run = runCli;

describe('tablesync plan | apply | drop SET.json', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  let dir: string;
  let setFile: string;
  beforeAll(async () => {
    src = await freshDatabase('setks');
    tgt = await freshDatabase('setkt');
    await createRentalSchema(src);
    dir = mkdtempSync(join(tmpdir(), 'tablesync-set-'));
    setFile = join(dir, 'rental.set.json');
    writeFileSync(setFile, JSON.stringify(rentalSet(src.url, tgt.url)));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await src?.drop();
    await tgt?.drop();
  });

  it('plan prints every table, the totals and the refused tables with reasons; strict exits 2', async () => {
    const r = await run(['plan', setFile]);
    expect(r.code).toBe(0);
    for (const t of MEMBER_TABLES) expect(r.stdout).toMatch(new RegExp(`^  ${t} `, 'm'));
    expect(r.stdout).toMatch(/^ {2}total /m);
    expect(r.stdout).toMatch(/film_list \(view\): views cannot be sources/);
    expect(r.stdout).toMatch(/notes_nokey \(table\): tables without a primary key/);
    const strict = join(dir, 'strict.set.json');
    writeFileSync(strict, JSON.stringify(rentalSet(src.url, tgt.url, { strict: true })));
    const s = await run(['plan', strict]);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/strict.*"film_list"/);
    const bad = join(dir, 'bad.set.json');
    writeFileSync(bad, JSON.stringify({ ...rentalSet(src.url, tgt.url), tables: 'all' }));
    const b = await run(['plan', bad]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/set file .* is not a valid set: tables/);
  });

  it('a kill in the middle of a set apply leaves the target untouched; a rerun converges', async () => {
    // Hold the partitioned payment table: the apply blocks reading it, with the members before it
    // (alphabetical: actor … language) already moved inside its one open transaction.
    const blocker = new pg.Client({ connectionString: src.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE payment IN ACCESS EXCLUSIVE MODE');
    const child = spawn(process.execPath, [BIN, 'apply', setFile], { stdio: 'ignore' });
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    try {
      let inside = false;
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const waiting = (await src.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock' AND datname = current_database()`, [APP])).rows[0].n;
        const open = (await tgt.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND xact_start IS NOT NULL AND datname = current_database()`, [APP])).rows[0].n;
        if (waiting !== '0' && open !== '0') {
          inside = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(inside).toBe(true);
      // the set's transaction has written members already (rows of actor are in it)
      const activity = (await tgt.sql(`SELECT backend_xid IS NOT NULL AS w FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, [APP])).rows[0];
      expect(activity.w).toBe('t');
      child.kill('SIGKILL');
      await exited;
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await tgt.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, [APP])).rows[0].n !== '0') {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await tgt.sql(`SELECT to_regnamespace('mirror') AS m, to_regnamespace('tablesync') AS s`)).rows[0]).toEqual({ m: null, s: null });
    const r = await run(['apply', setFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Applied set "rental" .* one transaction: 8 table\(s\)/);
    for (const t of MEMBER_TABLES) expect(await tableDigest(tgt, `mirror.${t}`, ORDER[t]!), t).toEqual(await tableDigest(src, `public.${t}`, ORDER[t]!));
  });

  it('drop --table removes one member; drop removes the set', async () => {
    const one = await run(['drop', setFile, '--table', 'customer', '--allow-destructive']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/drop foreign key "payment_customer_id_fkey"/);
    expect((await tgt.sql(`SELECT to_regclass('mirror.customer') AS e`)).rows[0].e).toBeNull();
    const all = await run(['drop', setFile, '--allow-destructive']);
    expect(all.code, all.stderr).toBe(0);
    expect((await tgt.sql(`SELECT count(*) AS n FROM pg_class WHERE relnamespace = 'mirror'::regnamespace AND relkind IN ('r', 'p')`)).rows[0].n).toBe('0');
  });
});
