/**
 * bench:load — issue 12 "initial load at the speed of the wire": the whole `tablesync apply` of a
 * new flow (ROWS rows, then 3 × ROWS to show the cost grows linearly) ÷ a `psql \copy (binary) |
 * psql \copy` pipe of the same rows into an equal table, measured in the same run, source and target
 * databases on one server. On Debian's PostgreSQL 15 with durable defaults (fsync and
 * synchronous_commit on) and on the embedded PostgreSQL 18 (fsync off). Goal: ratio ≤ 1.0.
 *
 * It also prints where an apply's time goes (the apply's progress phases, in process, same data),
 * and the CLI's start-up alone (`--help`).
 *
 * The ratio compares medians of ROUNDS (default 3) interleaved rounds, a CHECKPOINT before each command.
 *
 *   npm run bench:load [-- --record]     (ROWS=200000 for a quick look; SERVERS=pg15 or SERVERS=pg18; SIZES=1,3; ROUNDS=3)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type PgBinaries } from '../core/embedded/pg-server';
import { runOnServers } from './lib/servers';
import { createPool } from '../core/connections/pool';
import { parseFlow } from '../core/flow/load';
import { applyFlow } from '../core/target';
import type { ApplyProgress } from '../core/api/model';
import { BENCH_TABLE_DDL, createBenchTable } from './lib/dataset';
import { pipeAndApplyRounds, timeShell } from './lib/psql';
import { median, ms } from './lib/timing';

const ROWS = Number(process.env.ROWS ?? 1_000_000);
const SIZES = (process.env.SIZES ?? '1,3').split(',').map(Number);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

/** Time per apply phase (from the progress events), in process. */
async function profile(srcUrl: string, tgtUrl: string, name: string, table: string): Promise<string> {
  const flow = parseFlow({ version: 1, name, source: { connection: { url: srcUrl }, table: 'bench_rows', ordinalColumn: 'updated_at' }, target: { connection: { url: tgtUrl }, table } });
  const sourcePool = createPool(srcUrl, { max: 12 });
  const targetPool = createPool(tgtUrl, { max: 12 });
  const phases: [string, number][] = [];
  let last = performance.now();
  let phase = 'start';
  const start = last;
  try {
    await applyFlow({ flow, sourcePool, targetPool, sourceUrl: srcUrl, targetUrl: tgtUrl }, {
      onProgress: (p: ApplyProgress) => {
        const label = p.message ? `${p.phase} (${p.message})` : p.phase;
        if (label === phase) return;
        const now = performance.now();
        phases.push([phase, now - last]);
        phase = label;
        last = now;
      },
    });
    phases.push([phase, performance.now() - last]);
  } finally {
    await sourcePool.end();
    await targetPool.end();
  }
  const total = performance.now() - start;
  return `in process ${ms(total)}: ${phases.filter(([, t]) => t >= 1).map(([p, t]) => `${p} ${ms(t)}`).join(', ')}`;
}

async function runServer(label: string, binaries: PgBinaries, durable: boolean, out: string[]): Promise<void> {
  const server = await startPostgres({ binaries, fast: !durable, settings: { max_wal_size: '8GB', checkpoint_timeout: '30min' } });
  const admin = createPool(server.url(), { max: 1 });
  await admin.query('CREATE DATABASE src');
  await admin.query('CREATE DATABASE tgt');
  await admin.end();
  const srcUrl = server.url('src');
  const tgtUrl = server.url('tgt');
  const src = createPool(srcUrl, { max: 2 });
  const tgt = createPool(tgtUrl, { max: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'bench-load-'));
  out.push(`${label}: ${durable ? 'durable defaults (fsync, synchronous_commit on)' : 'fsync off (embedded test settings)'}`);
  const perRow: number[] = [];
  try {
    const startup = await timeShell(`node bin/tablesync.mjs --help || true`, {});
    out.push(`  CLI start-up alone (--help): ${ms(startup.ms)}`);
    for (const k of SIZES) {
      const rows = ROWS * k;
      await createBenchTable(src, { rows });
      const flowFile = join(dir, `load${k}.json`);
      writeFileSync(flowFile, JSON.stringify({ version: 1, name: `load_${k}`, source: { connection: { url: srcUrl }, table: 'bench_rows', ordinalColumn: 'updated_at', notification: {} }, target: { connection: { url: tgtUrl }, table: `rows_${k}` } }));
      const { pipe: pipes, apply: applies } = await pipeAndApplyRounds({
        sourceUrl: srcUrl, sourceTable: 'bench_rows', targetUrl: tgtUrl, ddl: BENCH_TABLE_DDL, flowFile, rounds: ROUNDS, keepLast: false,
        checkpoint: () => tgt.query('CHECKPOINT'), targetSql: (sql) => tgt.query(sql),
        check: async () => {
          const { rows: n } = await tgt.query<{ n: string }>(`SELECT count(*)::text AS n FROM rows_${k}`);
          if (Number(n[0]!.n) !== rows) throw new Error(`rows_${k} has ${n[0]!.n} rows, expected ${rows}`);
        },
      });
      const pipe = { ms: median(pipes) };
      const apply = { ms: median(applies) };
      // The same with one stream (the apply's own transaction, COPY FREEZE): what parallelism adds.
      const oneFile = join(dir, `one${k}.json`);
      writeFileSync(oneFile, JSON.stringify({ version: 1, name: `one_${k}`, source: { connection: { url: srcUrl }, table: 'bench_rows', ordinalColumn: 'updated_at', notification: {} }, target: { connection: { url: tgtUrl }, table: `one_${k}` } }));
      const one = await timeShell(`node bin/tablesync.mjs apply "${oneFile}" --streams 1`, {});
      await tgt.query(`DROP TABLE one_${k}`);
      await tgt.query('CHECKPOINT');
      const prof = await profile(srcUrl, tgtUrl, `prof_${k}`, `prof_${k}`);
      await tgt.query(`DROP TABLE prof_${k}`);
      perRow.push(apply.ms / rows);
      out.push(`  ${rows.toLocaleString('en-US')} rows: whole \`tablesync apply\` ${ms(apply.ms)} ÷ psql binary COPY pipe ${ms(pipe.ms)} = ${(apply.ms / pipe.ms).toFixed(2)}  (goal ≤ 1.0; medians of ${ROUNDS} interleaved rounds: apply ${applies.map(ms).join(', ')}; pipe ${pipes.map(ms).join(', ')}); ${(apply.ms * 1000 / rows).toFixed(2)} µs/row (pipe ${(pipe.ms * 1000 / rows).toFixed(2)})`);
      out.push(`    with --streams 1: ${ms(one.ms)} = ${(one.ms / pipe.ms).toFixed(2)} of the pipe`);
      out.push(`    phases (default streams), ${prof}`);
    }
    if (perRow.length > 1) out.push(`  cost per row at ${SIZES.at(-1)}× ÷ at ${SIZES[0]}×: ${(perRow.at(-1)! / perRow[0]!).toFixed(2)}  (1.0 = linear)`);
  } finally {
    await src.end().catch(() => {});
    await tgt.end().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
}

runOnServers('bench:load (issue 12, initial load)', 'pg15,pg18', runServer).then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
