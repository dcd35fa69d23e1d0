import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

// `tablesync serve` as a user runs it: prints one tokenized loopback URL, answers the contract on
// its WebSocket, refuses a non-loopback host with exit 2, and exits 0 on SIGTERM.
describe('tablesync serve (CLI)', () => {
  const home = mkdtempSync(join(tmpdir(), 'tablesync-serve-cli-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  const env = { ...process.env, TABLESYNC_HOME: home };

  it('refuses a non-loopback host (exit 2, says why)', () => {
    const r = spawnSync(process.execPath, ['bin/tablesync.mjs', 'serve', '--host', '0.0.0.0'], { env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/loopback/);
    expect(spawnSync(process.execPath, ['bin/tablesync.mjs', 'serve', '--port', 'x'], { env, encoding: 'utf8' }).status).toBe(2);
  });

  it('serves the contract at the printed URL and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['bin/tablesync.mjs', 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 60_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(m[0]);
        }
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
    });
    const u = new URL(url);
    const ws = new WebSocket(`ws://${u.host}/api?token=${u.searchParams.get('token')}`, { headers: { Origin: `http://${u.host}` } });
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    const answer = await new Promise<unknown>((resolve) => {
      ws.once('message', (d) => resolve(JSON.parse(d.toString())));
      ws.send(JSON.stringify({ id: 'a', method: 'app.info', input: {} }));
    });
    expect(answer).toMatchObject({ id: 'a', envelope: { ok: true, result: { mode: 'browser', dataDir: home, firstRun: true } } });
    const closed = new Promise((r) => ws.once('close', r));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await closed;
  });
});
