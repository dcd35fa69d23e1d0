import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, withDatabase, type TestDatabase } from '../support/db';
import { waitFor } from '../support/live';
import { Engine } from '../../core/app/engine';
import { MemorySecretStore } from '../../core/settings/secret-store';
import { createDispatcher } from '../../core/api/dispatcher';
import type { SavedConnection } from '../../core/api/contract';
import { call } from '../support/api';
import { CLI_BIN, runCli } from '../support/cli';

// Issue 9 E1/E3: a connection failure says which side, which connection and what to try; a held
// flow lock names the holder's OS process and host (not the server backend's pid).
const BIN = CLI_BIN;

const run = runCli;

describe('messages people can act on', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  let dir: string;
  let child: ChildProcess | undefined;
  const file = (name: string, content: unknown) => {
    const p = join(dir, name);
    writeFileSync(p, JSON.stringify(content));
    return p;
  };
  const flow = (source: object, target: object) => ({ version: 1, name: 'msg_flow', source: { table: 'notes', ...source }, target: { table: 'notes', ...target } });

  beforeAll(async () => {
    src = await freshDatabase('msg_s');
    tgt = await freshDatabase('msg_t');
    await src.sql(`CREATE TABLE notes (id int PRIMARY KEY, body text)`);
    await src.sql(`INSERT INTO notes VALUES (1, 'first')`);
    dir = mkdtempSync(join(tmpdir(), 'tablesync-msg-'));
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await src?.drop();
    await tgt?.drop();
  });

  it('a connection failure names the side, the connection and what to try', async () => {
    const down = 'postgres://nobody:pw123456@127.0.0.1:1/x?connect_timeout=2';
    const t = await run(['apply', file('t.json', flow({ connection: { url: src.url } }, { connection: { url: down } }))]);
    expect(t.code).toBe(1);
    expect(t.stderr).toContain('cannot connect to the target (postgres://nobody:***@127.0.0.1:1/x?connect_timeout=2)');
    expect(t.stderr).toContain('Try: nothing accepts connections at 127.0.0.1:1');
    expect(t.stderr).not.toContain('pw123456');

    const s = await run(['plan', file('s.json', flow({ connection: { env: 'MSG_SRC' } }, { connection: { url: tgt.url } }))], { MSG_SRC: down });
    expect(s.code).toBe(1);
    expect(s.stderr).toContain('cannot connect to the source ($MSG_SRC, nobody@127.0.0.1:1/x)');

    const nodb = await run(['plan', file('d.json', flow({ connection: { url: withDatabase(src.url, 'no_such_db') } }, { connection: { url: tgt.url } }))]);
    expect(nodb.code).toBe(1);
    expect(nodb.stderr).toContain('cannot connect to the source');
    expect(nodb.stderr).toContain('Try: database "no_such_db" does not exist');

    // the app: the saved connection by its name
    const dataDir = mkdtempSync(join(tmpdir(), 'tablesync-msg-app-'));
    const engine = new Engine({ dataDir, mode: 'browser', secrets: new MemorySecretStore() });
    try {
      const api = createDispatcher(engine);
      const broken = await call<SavedConnection>(api, 'connections.save', { name: 'Broken source', connection: { url: down } });
      const env = await api.dispatch('flows.plan', { flow: flow({ connection: { saved: broken.id } }, { connection: { url: tgt.url } }) });
      expect(env.ok).toBe(false);
      const message = (env as { ok: false; error: { message: string } }).error.message;
      expect(message).toContain('cannot connect to the source (saved connection "Broken source", nobody@127.0.0.1:1/x)');
      expect(message).toContain('Try: ');
    } finally {
      await engine.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("the lock message names the holder's OS process and host", async () => {
    const f = file('live.json', { ...flow({ connection: { url: src.url }, notification: {} }, { connection: { url: tgt.url } }), name: 'msg_live' });
    let err = '';
    child = spawn(process.execPath, [BIN, 'watch', f, '--json'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    await waitFor('the watch to be live', () => err.includes('"state":"live"'), 30_000);

    const r = await run(['apply', f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`flow "msg_live" is being written by tablesync cli msg_live (process ${child.pid} on host ${hostname()}`);
    const tagged = await tgt.sql(`SELECT application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'tablesync[%'`);
    expect(tagged.rows.map((x) => x.application_name)).toContain(`tablesync[${child.pid}@${hostname().slice(0, 32)}] cli msg_live`);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect((await run(['apply', f])).code).toBe(0);
  });
});
