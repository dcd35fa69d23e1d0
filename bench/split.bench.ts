/**
 * bench:split — issue 12's write-rate goal (8 writers, logical capture on ÷ off ≥ 0.8) on a source
 * that has a core of its own, as it has when the target is another machine: the source server and
 * its pgbench writers pinned to CPU 0, the watch (this process) and the target server to CPU 1
 * (taskset). bench:scale measures the same ratio with everything on both cores of one machine,
 * where the target's own writes take the writers' CPU.
 *
 * In one run, interleaved rounds (medians of ROUNDS, default 3), each 8 pgbench writers for
 * SECONDS (default 10), a CHECKPOINT before each:
 *   - capture off (the slot idle: it only keeps WAL);
 *   - the floor: the server's decoding alone, a stock client (pg_recvlogical, pgoutput) on CPU 1;
 *   - logical capture with the watch applying to the target (and its slot lag at the end);
 *   - trigger capture with its watch, for comparison (its cost is on the source: trigger + NOTIFY).
 *
 *   npm run bench:split [-- --record]     (ROWS=1000000; SERVERS=pg15 or SERVERS=pg18; ROUNDS=3; SECONDS=10)
 */
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { startPostgres, type PgBinaries, type RunningPg } from '../core/embedded/pg-server';
import { createPool } from '../core/connections/pool';
import { parseFlow } from '../core/flow/load';
import { watchFlow } from '../core/live';
import type { FlowContext } from '../core/target';
import { runOnServers } from './lib/servers';
import { createBenchTable } from './lib/dataset';
import { timeShell } from './lib/psql';
import { median } from './lib/timing';

const ROWS = Number(process.env.ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 10);
const PG15_BIN = '/usr/lib/postgresql/15/bin';

/** Pin a process and all its threads to `mask` (1: CPU 0, 2: CPU 1). */
function pin(pid: number, mask: number): void {
  execFileSync('taskset', ['-a', '-p', String(mask), String(pid)], { stdio: 'ignore' });
}

/** A server's postmaster and the processes it has started: pinned; the ones it forks later inherit it. */
function pinServer(server: RunningPg, mask: number): void {
  const postmaster = Number(readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  pin(postmaster, mask);
  const children = execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  for (const c of children) pin(c, mask);
}

function watchUntilLive(ctx: FlowContext): Promise<{ stop: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const h = watchFlow(ctx, {
      onStatus: (s) => {
        if (s.state === 'live' && s.catchUp) resolve({ stop: () => h.stop() });
        if (s.state === 'failed') reject(new Error(s.reason));
      },
    });
  });
}

async function runServer(label: string, binaries: PgBinaries, durable: boolean, out: string[]): Promise<void> {
  if (cpus().length < 2) {
    out.push(`${label}: skipped (needs 2 cores to give the source one of its own)`);
    return;
  }
  // This process (the watch) on CPU 1 before the servers start: the target server inherits it.
  pin(process.pid, 2);
  const source = await startPostgres({ binaries, fast: !durable, settings: { wal_level: 'logical', max_wal_size: '4GB', max_replication_slots: 10, max_wal_senders: 10 } });
  pinServer(source, 1);
  const target = await startPostgres({ binaries, fast: !durable, settings: { max_wal_size: '4GB' } });
  const dir = mkdtempSync(join(tmpdir(), 'bench-split-'));
  const src = createPool(source.url(), { max: 2 });
  const pools: pg.Pool[] = [src];
  out.push(`${label}: source server and 8 pgbench writers on CPU 0; the watch and the target server on CPU 1; ${ROWS.toLocaleString('en-US')} rows, ${durable ? 'durable defaults (fsync, synchronous_commit on)' : 'fsync off (embedded test settings)'}`);
  try {
    await createBenchTable(src, { rows: ROWS });
    const ctx = (name: string, capture: Record<string, unknown>): FlowContext => {
      const flow = parseFlow({ version: 1, name, source: { connection: { url: source.url() }, table: 'bench_rows', ordinalColumn: 'updated_at', ...capture }, target: { connection: { url: target.url() }, table: `rows_${name}` } });
      const sp = createPool(source.url(), { max: 4 });
      const tp = createPool(target.url(), { max: 4 });
      pools.push(sp, tp);
      return { flow, sourcePool: sp, targetPool: tp, sourceUrl: source.url(), targetUrl: target.url() };
    };
    const logical = ctx('split_logical', { replication: {} });
    const trigger = ctx('split_trigger', { notification: {} });
    // the initial loads (and the capture objects), then both watches stopped
    for (const c of [logical, trigger]) await (await watchUntilLive(c)).stop();
    await src.query(`ALTER TABLE bench_rows DISABLE TRIGGER USER`);
    await src.query(`CREATE PUBLICATION bench_floor FOR TABLE bench_rows`);
    await src.query(`SELECT pg_create_logical_replication_slot('bench_floor', 'pgoutput')`);

    const script = join(dir, 'w.sql');
    writeFileSync(script, `\\set id random(1, ${ROWS})\nUPDATE bench_rows SET qty = qty + 1, updated_at = clock_timestamp() WHERE id = :id;\n`);
    const writers = async () => {
      const r = await timeShell(`taskset 1 ${PG15_BIN}/pgbench -n -c 8 -j 2 -T ${SECONDS} -f "${script}" "$SRC"`, { SRC: source.url(), PGOPTIONS: '-c synchronous_commit=on' });
      return Number(/tps = ([\d.]+)/.exec(r.out)?.[1] ?? NaN);
    };
    const lagMiB = async () => Number((await src.query<{ b: string }>(`SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)), 0)::int8 AS b FROM pg_replication_slots WHERE slot_name LIKE 'tablesync_split_logical_%'`)).rows[0]!.b) / 1024 / 1024;
    const res: Record<'off' | 'floor' | 'logical' | 'trigger', number[]> = { off: [], floor: [], logical: [], trigger: [] };
    const lags: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const v of ['off', 'floor', 'logical', 'trigger'] as const) {
        let stop = async () => {};
        if (v === 'floor') {
          const child = spawn('taskset', ['2', `${PG15_BIN}/pg_recvlogical`, '-d', source.url(), '--slot', 'bench_floor', '--start', '-o', 'proto_version=1', '-o', 'publication_names=bench_floor', '-f', '/dev/null', '-s', '1', '-F', '1'], { stdio: 'ignore' });
          for (let i = 0; i < 100 && Number((await src.query<{ n: string }>(`SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = 'bench_floor' AND active`)).rows[0]!.n) === 0; i++) await new Promise((x) => setTimeout(x, 50));
          stop = async () => { child.kill('SIGINT'); await new Promise((x) => child.once('exit', x)); };
        } else if (v === 'logical') {
          const w = await watchUntilLive(logical);
          stop = () => w.stop();
        } else if (v === 'trigger') {
          await src.query(`ALTER TABLE bench_rows ENABLE TRIGGER USER`);
          const w = await watchUntilLive(trigger);
          stop = async () => { await w.stop(); await src.query(`ALTER TABLE bench_rows DISABLE TRIGGER USER`); };
        }
        await src.query('CHECKPOINT');
        res[v].push(await writers());
        if (v === 'logical') lags.push(await lagMiB());
        await stop();
        // the floor's slot skips what it did not read meanwhile, so each floor round starts at the end
        // (once its walsender has gone: a slot in use cannot be advanced)
        for (let i = 0; i < 100 && Number((await src.query<{ n: string }>(`SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = 'bench_floor' AND active`)).rows[0]!.n) > 0; i++) await new Promise((x) => setTimeout(x, 50));
        await src.query(`SELECT pg_replication_slot_advance('bench_floor', pg_current_wal_lsn())`);
        await src.query('VACUUM bench_rows');
      }
    }
    const off = median(res.off);
    const line = (v: number[]) => `${median(v).toFixed(0)} tx/s = ${(median(v) / off).toFixed(2)} (${v.map((x) => x.toFixed(0)).join(', ')})`;
    out.push(`  8 writers, ${SECONDS} s each, medians of ${ROUNDS} interleaved rounds: capture off ${off.toFixed(0)} tx/s (${res.off.map((x) => x.toFixed(0)).join(', ')})`);
    out.push(`    logical + watch: ${line(res.logical)}  (goal ≥ 0.8; slot lag when the writers stopped ${lags.map((x) => x.toFixed(1)).join(', ')} MiB)`);
    out.push(`    floor, the server's decoding alone (pg_recvlogical on CPU 1): ${line(res.floor)}; logical + watch = ${(median(res.logical) / median(res.floor)).toFixed(2)} of it`);
    out.push(`    trigger + watch: ${line(res.trigger)}`);
  } finally {
    for (const p of pools) await p.end().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    await target.stop();
    await source.stop();
  }
}

runOnServers('bench:split (issue 12, a source with a core of its own)', 'pg15,pg18', runServer).then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
