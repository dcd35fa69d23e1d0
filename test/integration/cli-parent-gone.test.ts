import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, type TestDatabase } from '../support/db';
import { waitFor } from '../support/live';
import { isAlive } from '../../core/embedded/pids';

// `npx tablesync watch` runs under `npm exec`, which does not pass SIGTERM on: when the parent goes
// away (killed outright here), the watcher notices, stops cleanly (listener gone, lock released) and
// exits instead of living on as an orphan. The same holds for serve.
describe('a long-running command stops when its parent goes away', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  let dir: string;
  const pids: number[] = [];

  beforeAll(async () => {
    src = await freshDatabase('orphan_s');
    tgt = await freshDatabase('orphan_t');
    await src.sql(`CREATE TABLE notes (id int PRIMARY KEY, body text)`);
    await src.sql(`INSERT INTO notes VALUES (1, 'first')`);
    dir = mkdtempSync(join(tmpdir(), 'tablesync-orphan-'));
    writeFileSync(join(dir, 'flow.json'), JSON.stringify({
      version: 1,
      name: 'orphan_notes',
      source: { connection: { url: src.url }, table: 'notes', notification: {} },
      target: { connection: { url: tgt.url }, table: 'notes' },
    }));
  });
  afterAll(async () => {
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await src?.drop();
    await tgt?.drop();
  });

  /** Start `tablesync ARGS` under a shell (the stand-in for npm exec); resolves with both pids. */
  async function underParent(args: string, errFile: string): Promise<{ parent: number; child: number }> {
    const sh = spawn('sh', ['-c', `"${process.execPath}" bin/tablesync.mjs ${args} >/dev/null 2>"${errFile}" & echo $!; wait`], {
      env: { ...process.env, TABLESYNC_HOME: join(dir, 'home') },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    sh.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const child = await waitFor('the child pid', () => (/^\d+\n/.test(out) ? Number(out.trim()) : undefined));
    pids.push(child);
    return { parent: sh.pid!, child };
  }

  it('watch: stops cleanly, releasing the listener and the lock', async () => {
    const errFile = join(dir, 'watch.err');
    const p = await underParent(`watch "${join(dir, 'flow.json')}" --json`, errFile);
    await waitFor('the watcher live', () => readFileSync(errFile, 'utf8').includes('"state":"live"'), 30_000);
    process.kill(p.parent, 'SIGKILL'); // no signal reaches the watcher: only its parent is gone
    await waitFor('the watcher to exit', () => !isAlive(p.child), 30_000);
    expect(readFileSync(errFile, 'utf8')).toContain('"state":"stopped"');
    const { rows } = await src.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tablesync live'`);
    expect(rows[0].n).toBe('0');
  });

  it('serve: stops too', async () => {
    const errFile = join(dir, 'serve.err');
    const p = await underParent('serve --port 0', errFile);
    await waitFor('the server up', () => readFileSync(errFile, 'utf8').includes('Press Ctrl+C'), 60_000);
    process.kill(p.parent, 'SIGKILL');
    await waitFor('the server to exit', () => !isAlive(p.child), 30_000);
    expect(readFileSync(errFile, 'utf8')).toContain('Stopping (parent exited)');
  });
});
