/**
 * bench:scale — issue 12, on Debian's PostgreSQL 15 with durable defaults (fsync and
 * synchronous_commit on) and on the embedded PostgreSQL 18 (fsync off), source and target
 * databases on one server, wal_level = logical, every ratio against a baseline of the same run:
 *   - initial sync of ROWS rows, the whole `tablesync apply` command ÷ a psql binary COPY pipe   goal ≤ 1.0
 *   - catch-up after 1,000 changes ÷ that initial sync: trigger + ordinal (window)              goal ≤ 0.10
 *                                                       logical (slot replay)                   goal ≤ 0.02
 *   - live at 500 tx/s, source change → target row, measured by a trigger on the target      goal p50 ≤ 10 ms, p99 ≤ 50 ms
 *   - 8 pgbench writers: tx/s with capture on (and the watch applying) ÷ with capture off     goal ≥ 0.8 (logical)
 *     and the floor of that ratio on this machine: the server's decoding alone (pg_recvlogical)
 * Every writer (the 1,000 changes, the 500 tx/s writers, pgbench) commits with synchronous_commit = on,
 * as users' applications do, on both servers.
 *
 * The initial sync's ratio compares medians of ROUNDS (default 3) interleaved rounds, a CHECKPOINT before each command.
 *
 *   npm run bench:scale [-- --record]     (ROWS=200000 for a quick look; SERVERS=pg15 or SERVERS=pg18; ROUNDS=3)
 *   npm run bench:scale -- --live-only    trigger capture only: live latency at 500 tx/s and the 8 writers on ÷ off
 *                                         (after a plain `tablesync apply`; ROWS defaults to 100,000 there)
 *   npm run bench:scale -- --catch-up-only   the initial sync and the two catch-ups only (no live latency, no writers)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type PgBinaries } from '../core/embedded/pg-server';
import { runOnServers } from './lib/servers';
import { createPool, poolConfig } from '../core/connections/pool';
import { parseConnectionUrl } from '../core/connections/url';
import { parseFlow } from '../core/flow/load';
import { watchFlow } from '../core/live';
import type { ListenerStatus } from '../core/api/model';
import type { FlowContext } from '../core/target';
import { BENCH_TABLE_DDL, createBenchTable } from './lib/dataset';
import { pipeAndApplyRounds, timeShell } from './lib/psql';
import { median, ms } from './lib/timing';

const LIVE_ONLY = process.argv.includes('--live-only');
const CATCH_UP_ONLY = process.argv.includes('--catch-up-only');
const ROWS = Number(process.env.ROWS ?? (LIVE_ONLY ? 100_000 : 1_000_000));
const CHANGES = 1000;
const ROUNDS = Number(process.env.ROUNDS ?? 3);

function watchUntilLive(ctx: FlowContext): Promise<{ ms: number; stop: () => Promise<void>; status: ListenerStatus }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const h = watchFlow(ctx, {
      onStatus: (s) => {
        if (s.state === 'live' && s.catchUp) resolve({ ms: performance.now() - start, stop: () => h.stop(), status: s });
        if (s.state === 'failed') reject(new Error(s.reason));
      },
    });
  });
}

async function runServer(label: string, binaries: PgBinaries, durable: boolean, out: string[]): Promise<void> {
  const server = await startPostgres({ binaries, fast: !durable, settings: { wal_level: 'logical', max_wal_size: '4GB', max_replication_slots: 10, max_wal_senders: 10, track_commit_timestamp: 'on' } });
  const admin = createPool(server.url(), { max: 1 });
  await admin.query('CREATE DATABASE src');
  await admin.query('CREATE DATABASE tgt');
  await admin.end();
  const srcUrl = server.url('src');
  const tgtUrl = server.url('tgt');
  // The writers commit durably, as a user's application does (synchronous_commit = on even on the
  // embedded server, whose default is off): with async commits the walsender waits for the WAL
  // writer (up to wal_writer_delay) before it can send a change, which is not what users see.
  const src = new pg.Pool({ ...poolConfig(parseConnectionUrl(srcUrl), { max: 10 }), options: '-c synchronous_commit=on' });
  src.on('error', () => {});
  const tgt = createPool(tgtUrl, { max: 4 });
  const dir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  const pools: pg.Pool[] = [];
  const ctx = (name: string, spec: Record<string, unknown>, table: string): FlowContext => {
    const flow = parseFlow({ version: 1, name, source: { connection: { url: srcUrl }, table: 'bench_rows', ordinalColumn: 'updated_at', ...spec }, target: { connection: { url: tgtUrl }, table } });
    const sourcePool = createPool(srcUrl, { max: 4 });
    const targetPool = createPool(tgtUrl, { max: 2 });
    pools.push(sourcePool, targetPool);
    return { flow, sourcePool, targetPool, sourceUrl: srcUrl, targetUrl: tgtUrl };
  };
  const change = async (n: number) => {
    await src.query(`UPDATE bench_rows SET qty = qty + 1, updated_at = clock_timestamp() WHERE id IN (SELECT (random() * ${ROWS - 1})::bigint + 1 FROM generate_series(1, $1))`, [n]);
  };
  try {
    await createBenchTable(src, { rows: ROWS });
    await src.query('CREATE INDEX ON bench_rows (updated_at)');
    out.push(`${label}: ${ROWS.toLocaleString('en-US')} rows, ${durable ? 'durable defaults (fsync, synchronous_commit on)' : 'fsync off (embedded test settings)'}`);

    // ---------------------------------------------------------------- initial sync
    const flowFile = join(dir, 'trigger.json');
    writeFileSync(flowFile, JSON.stringify({ version: 1, name: 'scale_trigger', source: { connection: { url: srcUrl }, table: 'bench_rows', ordinalColumn: 'updated_at', notification: {} }, target: { connection: { url: tgtUrl }, table: 'rows_trigger' } }));
    // LIVE_ONLY: one plain apply, no pipe
    const { pipe: pipes, apply: applies } = LIVE_ONLY
      ? { pipe: [] as number[], apply: [(await timeShell(`node bin/tablesync.mjs apply "${flowFile}"`, {})).ms] }
      : await pipeAndApplyRounds({
          sourceUrl: srcUrl, sourceTable: 'bench_rows', targetUrl: tgtUrl, ddl: BENCH_TABLE_DDL, flowFile, rounds: ROUNDS, keepLast: true,
          checkpoint: () => tgt.query('CHECKPOINT'), targetSql: (sql) => tgt.query(sql),
        });
    const pipe = { ms: LIVE_ONLY ? NaN : median(pipes) };
    const apply = { ms: median(applies) };
    const startup = await timeShell(`node bin/tablesync.mjs --help || true`, {});
    if (!LIVE_ONLY) out.push(`  initial sync, whole \`tablesync apply\` command: ${ms(apply.ms)} ÷ psql binary COPY pipe ${ms(pipe.ms)} = ${(apply.ms / pipe.ms).toFixed(2)}  (goal ≤ 1.0; medians of ${ROUNDS} interleaved rounds: apply ${applies.map(ms).join(', ')}, pipe ${pipes.map(ms).join(', ')}; CLI start-up alone ${ms(startup.ms)})`);

    // ---------------------------------------------------------------- catch-up, trigger + ordinal
    const trig = ctx('scale_trigger', { notification: {} }, 'rows_trigger');
    let w = await watchUntilLive(trig);
    // ROUNDS rounds of stop, 1,000 changes, restart until live; the median is compared
    const trigRounds: number[] = [];
    for (let r = 0; r < ROUNDS && !LIVE_ONLY; r++) {
      await w.stop();
      await change(CHANGES);
      w = await watchUntilLive(trig);
      trigRounds.push(w.ms);
    }
    const tcu = w.status.catchUp!;
    if (!LIVE_ONLY) out.push(`  catch-up after ${CHANGES} changes, trigger + ordinal: ${ms(median(trigRounds))} to live (median of ${ROUNDS}: ${trigRounds.map(ms).join(', ')}; the last: catch-up ${tcu.mode}, ${tcu.rows} rows, ${tcu.scanned ?? '?'} read, ${ms(tcu.durationMs)}) ÷ initial sync = ${(median(trigRounds) / apply.ms).toFixed(3)}  (goal ≤ 0.10)`);
    let trigWatch = w;

    // ---------------------------------------------------------------- catch-up, logical
    // Measured alone, as the trigger mode's was (the logical watch did not exist yet): a live
    // trigger watch would apply the same 1,000 changes beside it on the same cores. It restarts
    // (its own catch-up) after this measurement.
    if (!LIVE_ONLY) await trigWatch.stop();
    const logi = ctx('scale_logical', { replication: {} }, 'rows_logical');
    if (LIVE_ONLY) await tgt.query(`CREATE TABLE rows_logical (id bigint, updated_at timestamptz)`);
    let lw = LIVE_ONLY ? { ms: NaN, stop: async () => {}, status: w.status } : await watchUntilLive(logi); // new slot: the full load
    if (!LIVE_ONLY) out.push(`  logical, first watch (new slot: full load, then the stream): ${ms(lw.ms)}`);
    // what the walsender must decode on the next start: from the slot's restart point to the end of WAL
    const slotPos = async () => (await src.query<{ d: string; c: string }>(`SELECT pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) AS d, pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)) AS c FROM pg_replication_slots WHERE slot_name LIKE 'tablesync_scale_logical_%'`)).rows[0];
    let before: { d: string; c: string } | undefined;
    const logRounds: number[] = [];
    for (let r = 0; r < ROUNDS && !LIVE_ONLY; r++) {
      await lw.stop();
      await change(CHANGES);
      before = await slotPos();
      lw = await watchUntilLive(logi);
      logRounds.push(lw.ms);
    }
    if (LIVE_ONLY) await lw.stop();
    const lcu = lw.status.catchUp!;
    if (!LIVE_ONLY) out.push(`  catch-up after ${CHANGES} changes, logical: ${ms(median(logRounds))} to live (median of ${ROUNDS}: ${logRounds.map(ms).join(', ')}; the last: catch-up ${lcu.mode}, ${lcu.rows} rows, ${ms(lcu.durationMs)}; the walsender decoded ${before?.d} from the slot's restart_lsn, ${before?.c} past its confirmed_flush_lsn) ÷ initial sync = ${(median(logRounds) / apply.ms).toFixed(3)}  (goal ≤ 0.02)`);
    if (CATCH_UP_ONLY) {
      await lw.stop();
      return;
    }
    if (!LIVE_ONLY) trigWatch = await watchUntilLive(trig);

    // ---------------------------------------------------------------- live latency at 500 tx/s, measured on the target
    await tgt.query(`CREATE TABLE lat (mode text, id bigint, src_ts timestamptz, seen timestamptz)`);
    for (const [mode, table] of [['trigger', 'rows_trigger'], ['logical', 'rows_logical']] as const) {
      await tgt.query(`CREATE FUNCTION lat_${mode}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO lat VALUES ('${mode}', NEW.id, NEW.updated_at, clock_timestamp()); RETURN NULL; END $$`);
      await tgt.query(`CREATE TRIGGER lat_${mode} AFTER INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION lat_${mode}()`);
    }
    // 500 tx/s on a schedule, by 8 writers (each waits for its own statement), so a slow commit delays only its writer
    const rate = async (seconds: number) => {
      const start = performance.now();
      const total = seconds * 500;
      await Promise.all(Array.from({ length: 8 }, async (_, wi) => {
        for (let i = wi; i < total; i += 8) {
          const wait = start + i * 2 - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          await src.query(`UPDATE bench_rows SET qty = qty + 1, updated_at = clock_timestamp() WHERE id = $1`, [1 + ((i * 7919) % ROWS)]).catch(() => {});
        }
      }));
      return (performance.now() - start) / 1000;
    };
    const took = await rate(10);
    await new Promise((r) => setTimeout(r, 1500));
    const { rows: lat } = await tgt.query<{ mode: string; n: string; p50: string; p99: string }>(
      `SELECT mode, count(*) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM seen - src_ts) * 1000) AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM seen - src_ts) * 1000) AS p99 FROM lat GROUP BY mode ORDER BY mode`);
    for (const l of lat) out.push(`  live at ${Math.round(5000 / took)} tx/s, source change → target row (trigger on the target), ${l.mode}: p50 ${Number(l.p50).toFixed(1)} ms, p99 ${Number(l.p99).toFixed(1)} ms over ${l.n} rows (from the source statement, so it includes the source's own commit)`);
    // Where that time goes: the source row's last version knows its commit time (track_commit_timestamp),
    // so for rows whose last change is the one the target saw: statement → source commit, and source commit → target row.
    {
      const { rows: seen } = await tgt.query<{ mode: string; id: string; src: string; seen: string }>(`SELECT mode, id::text, extract(epoch FROM src_ts)::text AS src, extract(epoch FROM seen)::text AS seen FROM lat`);
      const { rows: committed } = await src.query<{ id: string; src: string; commit: string }>(
        `SELECT id::text, extract(epoch FROM updated_at)::text AS src, extract(epoch FROM pg_xact_commit_timestamp(xmin))::text AS commit FROM bench_rows WHERE id = ANY($1::bigint[])`, [[...new Set(seen.map((r) => r.id))]]);
      const commitOf = new Map(committed.map((r) => [`${r.id}/${r.src}`, Number(r.commit)]));
      const pct = (xs: number[], q: number) => { const v = [...xs].sort((a, b) => a - b); return v.length ? v[Math.min(v.length - 1, Math.floor(q * v.length))]! : NaN; };
      for (const mode of [...new Set(seen.map((r) => r.mode))]) {
        const pairs = seen.filter((r) => r.mode === mode && commitOf.has(`${r.id}/${r.src}`)).map((r) => ({ toCommit: (commitOf.get(`${r.id}/${r.src}`)! - Number(r.src)) * 1000, after: (Number(r.seen) - commitOf.get(`${r.id}/${r.src}`)!) * 1000 }));
        out.push(`    ${mode}, of that (${pairs.length} rows): source statement → source commit p50 ${pct(pairs.map((x) => x.toCommit), 0.5).toFixed(1)} / p99 ${pct(pairs.map((x) => x.toCommit), 0.99).toFixed(1)} ms; source commit → target row p50 ${pct(pairs.map((x) => x.after), 0.5).toFixed(1)} / p99 ${pct(pairs.map((x) => x.after), 0.99).toFixed(1)} ms  (goal, source commit → target visible: ≤ 10 / ≤ 50)`);
      }
    }

    // ---------------------------------------------------------------- write rate, 8 writers
    const pgbench = '/usr/lib/postgresql/15/bin/pgbench';
    const script = join(dir, 'w.sql');
    writeFileSync(script, `\\set id random(1, ${ROWS})\nUPDATE bench_rows SET qty = qty + 1, updated_at = clock_timestamp() WHERE id = :id;\n`);
    const bench = async () => {
      const r = await timeShell(`${pgbench} -n -c 8 -j 2 -T 10 -f "${script}" "$SRC"`, { SRC: srcUrl, PGOPTIONS: '-c synchronous_commit=on' });
      return Number(/tps = ([\d.]+)/.exec(r.out)?.[1] ?? NaN);
    };
    const drain = async (table: string) => {
      const start = performance.now();
      for (;;) {
        const a = (await src.query<{ s: string }>(`SELECT sum(qty)::text AS s FROM bench_rows`)).rows[0]!.s;
        const b = (await tgt.query<{ s: string }>(`SELECT sum(qty)::text AS s FROM ${table}`)).rows[0]!.s;
        if (a === b) return performance.now() - start;
        if (performance.now() - start > 120_000) return NaN;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await tgt.query(`DROP TRIGGER lat_trigger ON rows_trigger; DROP TRIGGER lat_logical ON rows_logical`);
    // trigger mode: the watch is running (trigWatch); logical's is stopped (its slot only holds WAL meanwhile)
    await lw.stop();
    const onTrigger = await bench();
    const drainTrigger = await drain('rows_trigger');
    await trigWatch.stop();
    await src.query(`ALTER TABLE bench_rows DISABLE TRIGGER USER`);
    if (!LIVE_ONLY) lw = await watchUntilLive(logi);
    // the slot's lag (WAL not yet confirmed) every second while the writers run: bounded, or growing?
    const lagSamples: number[] = [];
    let sampling = !LIVE_ONLY;
    const sampler = (async () => {
      while (sampling) {
        const r = await src.query<{ b: string }>(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::int8 AS b FROM pg_replication_slots WHERE slot_name LIKE 'tablesync_scale_logical_%'`).catch(() => undefined);
        if (r?.rows[0]) lagSamples.push(Number(r.rows[0].b));
        await new Promise((res) => setTimeout(res, 1000));
      }
    })();
    const onLogical = LIVE_ONLY ? NaN : await bench();
    sampling = false;
    await sampler;
    const drainLogical = LIVE_ONLY ? NaN : await drain('rows_logical');
    const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)}`;
    if (!LIVE_ONLY) out.push(`  logical slot lag while the 8 writers ran (MiB, every second): ${lagSamples.map(mib).join(' ')}`);
    await lw.stop();
    // capture off: no trigger, and no slot holding WAL back
    // (the stopped watch's walsender exits a moment after its connection closed)
    for (let i = 0; i < 100 && Number((await src.query<{ n: string }>(`SELECT count(*) AS n FROM pg_replication_slots WHERE active`)).rows[0]!.n) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    await src.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots`);
    const off = await bench();
    out.push(`  8 writers (pgbench, 10 s each): capture off ${off.toFixed(0)} tx/s; trigger on + watch ${onTrigger.toFixed(0)} tx/s = ${(onTrigger / off).toFixed(2)} (target matched the source ${ms(drainTrigger)} after the writers stopped); logical + watch ${onLogical.toFixed(0)} tx/s = ${(onLogical / off).toFixed(2)} (matched ${ms(drainLogical)} after)  (goal ≥ 0.8 logical)`);
    if (!LIVE_ONLY) {
      // The floor of any logical capture on this machine: the server's own decoding, with a stock
      // client (pg_recvlogical, pgoutput, the same publication shape) that writes to /dev/null and
      // confirms every second. Whatever a consumer does beyond that costs the writers more.
      const recv = '/usr/lib/postgresql/15/bin/pg_recvlogical';
      await src.query(`CREATE PUBLICATION bench_floor FOR TABLE bench_rows`);
      await src.query(`SELECT pg_create_logical_replication_slot('bench_floor', 'pgoutput')`);
      const child = spawn(recv, ['-d', srcUrl, '--slot', 'bench_floor', '--start', '-o', 'proto_version=1', '-o', 'publication_names=bench_floor', '-f', '/dev/null', '-s', '1', '-F', '1'], { stdio: 'ignore' });
      for (let i = 0; i < 100 && Number((await src.query<{ n: string }>(`SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = 'bench_floor' AND active`)).rows[0]!.n) === 0; i++) await new Promise((r) => setTimeout(r, 50));
      const floor = await bench();
      const floorLag = (await src.query<{ b: string }>(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::int8 AS b FROM pg_replication_slots WHERE slot_name = 'bench_floor'`)).rows[0]?.b;
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
      for (let i = 0; i < 100 && Number((await src.query<{ n: string }>(`SELECT count(*) AS n FROM pg_replication_slots WHERE active`)).rows[0]!.n) > 0; i++) await new Promise((r) => setTimeout(r, 100));
      await src.query(`SELECT pg_drop_replication_slot('bench_floor')`);
      await src.query(`DROP PUBLICATION bench_floor`);
      out.push(`    floor, the server's logical decoding alone (pg_recvlogical, pgoutput, to /dev/null, slot lag at the end ${mib(Number(floorLag))} MiB): ${floor.toFixed(0)} tx/s = ${(floor / off).toFixed(2)} of capture off; logical + watch = ${(onLogical / floor).toFixed(2)} of that floor`);
    }
  } finally {
    for (const p of pools) await p.end().catch(() => {});
    await src.end().catch(() => {});
    await tgt.end().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
}

runOnServers('bench:scale (issue 12)', 'pg15,pg18', runServer).then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
