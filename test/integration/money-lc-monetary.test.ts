import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPool, RAW_TYPES } from '../../core/connections/pool';
import { embeddedBinaries, startPostgres, type RunningPg } from '../../core/embedded/pg-server';
import { parseFlow } from '../../core/flow/load';
import { applyFlow, planFlow, verifyFlow, type FlowContext } from '../../core/target';
import { logicalNames } from '../../core/live';
import { waitFor, watch, type Watching } from '../support/live';

// money is a count of minor units that each session prints and reads through its lc_monetary:
// a source server in de_DE prints `1.234,56 €`, a target in en_US reads `$1,234.56`. Source and
// target sessions fix lc_monetary (core/sql/text-settings.ts), so amounts move exactly between two
// servers whose lc_monetary differ, verify and plan see no drift, and the logical stream (printed
// by the walsender) agrees too. The two locales are compiled for this test into a folder of its
// own (LOCPATH), so it needs only glibc's localedef and its locale sources.
const localeDir = mkdtempSync(join(tmpdir(), 'tablesync-locales-'));
const haveLocales = (() => {
  chmodSync(localeDir, 0o755); // the servers run as the postgres user when the tests run as root
  for (const l of ['de_DE', 'en_US']) {
    const r = spawnSync('localedef', ['-i', l, '-f', 'UTF-8', join(localeDir, `${l}.UTF-8`)], { stdio: 'ignore' });
    if (r.status !== 0 && r.status !== 1) return false; // 1: compiled with warnings
  }
  symlinkSync('/usr/lib/locale/C.utf8', join(localeDir, 'C.utf8')); // initdb and the servers run in C.UTF-8
  return true;
})();

describe.skipIf(!haveLocales)('money between servers with different lc_monetary', () => {
  let source: RunningPg;
  let target: RunningPg;
  const pools: pg.Pool[] = [];
  let w: Watching | undefined;
  const flowCtx = (): FlowContext => {
    const flow = parseFlow({
      version: 1, name: 'money_flow',
      source: { connection: { url: source.url() }, table: 'prices', replication: {} },
      target: { connection: { url: target.url() }, table: 'prices' },
    });
    const sourcePool = createPool(source.url(), { max: 2 });
    const targetPool = createPool(target.url(), { max: 2 });
    pools.push(sourcePool, targetPool);
    return { flow, sourcePool, targetPool, sourceUrl: source.url(), targetUrl: target.url() };
  };
  /** Query in a plain session of that server (its own lc_monetary). */
  const sql = async (server: RunningPg, text: string) => {
    const c = new pg.Client({ connectionString: server.url(), types: RAW_TYPES });
    await c.connect();
    try {
      return (await c.query(text)).rows;
    } finally {
      await c.end();
    }
  };
  const amounts = (server: RunningPg) => sql(server, `SELECT id, amount::numeric::text AS amount FROM prices ORDER BY id`);

  beforeAll(async () => {
    const binaries = await embeddedBinaries();
    const before = process.env.LOCPATH;
    process.env.LOCPATH = localeDir; // inherited by the servers started now
    try {
      source = await startPostgres({ binaries, fast: true, settings: { lc_monetary: 'de_DE.UTF-8', wal_level: 'logical', max_replication_slots: 4, max_wal_senders: 4 } });
      target = await startPostgres({ binaries, fast: true, settings: { lc_monetary: 'en_US.UTF-8' } });
    } finally {
      if (before === undefined) delete process.env.LOCPATH;
      else process.env.LOCPATH = before;
    }
    await sql(source, `CREATE TABLE prices (id int PRIMARY KEY, amount money, note text)`);
    await sql(source, `INSERT INTO prices VALUES
      (1, 1234.56::numeric::money, 'thousands'), (2, (-0.01)::numeric::money, 'negative cent'), (3, 0::numeric::money, 'zero'),
      (4, NULL, 'null'), (5, 92233720368547758.07::numeric::money, 'largest'), (6, (-92233720368547758.08)::numeric::money, 'smallest')`);
  }, 120_000);
  afterAll(async () => {
    await w?.stop();
    for (const p of pools) await p.end().catch(() => {});
    if (source) await sql(source, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active`).catch(() => {});
    await source?.stop();
    await target?.stop();
    rmSync(localeDir, { recursive: true, force: true });
  });

  it('the servers really print money differently (sanity of the fixture)', async () => {
    expect(await sql(source, `SELECT amount::text AS a FROM prices WHERE id = 1`)).toEqual([{ a: '1.234,56 €' }]);
    expect(await sql(target, `SELECT 1234.56::numeric::money::text AS a`)).toEqual([{ a: '$1,234.56' }]);
  });

  it('apply moves every amount exactly; plan and verify then find nothing to do', async () => {
    await applyFlow(flowCtx());
    expect(await amounts(target)).toEqual(await amounts(source));
    expect(await sql(target, `SELECT amount::text AS a FROM prices WHERE id = 1`)).toEqual([{ a: '$1,234.56' }]);
    expect((await planFlow(flowCtx())).rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 6 });
    expect(await verifyFlow(flowCtx())).toMatchObject({ equal: true });
  });

  it('verify sees a changed amount as one changed row, not every row', async () => {
    await sql(target, `UPDATE prices SET amount = 1234.57::numeric::money WHERE id = 1`);
    const r = await verifyFlow(flowCtx());
    expect(r.equal).toBe(false);
    expect(r.counts).toMatchObject({ changed: 1, missing: 0, extra: 0 });
    await applyFlow(flowCtx(), { repair: true });
    expect(await amounts(target)).toEqual(await amounts(source));
  });

  it('the logical stream carries amounts exactly too (the walsender prints them with the fixed settings)', async () => {
    const ctx = flowCtx();
    w = watch(ctx);
    await w.live();
    await sql(source, `UPDATE prices SET amount = 9876543.21::numeric::money WHERE id = 2`);
    await sql(source, `INSERT INTO prices VALUES (7, 0.5::numeric::money, 'streamed')`);
    await waitFor('the streamed amounts', async () => JSON.stringify(await amounts(target)) === JSON.stringify(await amounts(source)));
    expect((await amounts(target)).find((r) => r.id === '2')).toEqual({ id: '2', amount: '9876543.21' });
    expect(w.events.filter((e) => e.outcome === 'failed')).toEqual([]);
    await w.stop();
    w = undefined;
    await sql(source, `SELECT pg_drop_replication_slot($1)`.replace('$1', `'${logicalNames(ctx.flow).slot}'`)).catch(() => {});
  });
});
