import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, type TestDatabase } from '../support/db';
import { waitFor } from '../support/live';

// `tablesync watch FLOW.json --json`: a new flow is created and loaded by the first catch-up, each
// change prints one JSON event per line on stdout, statuses go to stderr, and SIGINT stops it
// cleanly with exit 0 (listener gone, lock released).
describe('tablesync watch (CLI)', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  let dir: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    src = await freshDatabase('live_cli_s');
    tgt = await freshDatabase('live_cli_t');
    await src.sql(`CREATE TABLE notes (id int PRIMARY KEY, body text)`);
    await src.sql(`INSERT INTO notes VALUES (1, 'first')`);
    dir = mkdtempSync(join(tmpdir(), 'tablesync-watch-'));
    writeFileSync(join(dir, 'flow.json'), JSON.stringify({
      version: 1,
      name: 'cli_notes',
      source: { connection: { env: 'LIVE_SRC_URL' }, table: 'notes', notification: {} },
      target: { connection: { url: tgt.url }, table: 'notes' },
    }));
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await src?.drop();
    await tgt?.drop();
  });

  it('streams change events as JSON lines and exits 0 on SIGINT', async () => {
    let out = '';
    let err = '';
    child = spawn(process.execPath, ['bin/tablesync.mjs', 'watch', join(dir, 'flow.json'), '--json'], { env: { ...process.env, LIVE_SRC_URL: src.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));

    await waitFor('the live status on stderr', () => err.split('\n').some((l) => l.includes('"state":"live"')), 30_000);
    expect((await tgt.sql(`SELECT * FROM notes`)).rows).toEqual([{ id: '1', body: 'first' }]);

    await src.sql(`INSERT INTO notes VALUES (2, 'second')`);
    await src.sql(`DELETE FROM notes WHERE id = 1`);
    const events = await waitFor('two events on stdout', () => {
      const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.op !== 'catch-up');
      return lines.length >= 2 ? lines : undefined;
    });
    expect(events.map((e) => [e.op, e.key, e.outcome])).toEqual([['insert', { id: '2' }, 'applied'], ['delete', { id: '1' }, 'deleted']]);
    expect(events[0]).toMatchObject({ flow: 'cli_notes', latencyMs: expect.any(Number), time: expect.any(String) });

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(err).toContain('"state":"stopped"');
    const { rows } = await src.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tablesync live'`);
    expect(rows[0].n).toBe('0');
  });

  it('prints a line per status and per change in human mode, and stops on SIGTERM', async () => {
    let out = '';
    child = spawn(process.execPath, ['bin/tablesync.mjs', 'watch', join(dir, 'flow.json')], { env: { ...process.env, LIVE_SRC_URL: src.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    await waitFor('live', () => out.includes('] live'), 30_000);
    await src.sql(`UPDATE notes SET body = 'changed' WHERE id = 2`);
    const line = await waitFor('a change line', () => out.split('\n').find((l) => l.includes('id=2')));
    expect(line).toMatch(/update\s+id=2\s+→ applied\s+[\d.]+ ms/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/\[cli_notes\] stopped/);
  });

  it('exits 2 with the reason when the flow has no notification', async () => {
    const file = join(dir, 'no-notify.json');
    writeFileSync(file, JSON.stringify({ version: 1, name: 'cli_nn', source: { connection: { url: src.url }, table: 'notes' }, target: { connection: { url: tgt.url }, table: 'notes_nn' } }));
    let err = '';
    const c = spawn(process.execPath, ['bin/tablesync.mjs', 'watch', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    expect(await new Promise((resolve) => c.on('exit', resolve))).toBe(2);
    expect(err).toContain('source.notification');
  });
});
