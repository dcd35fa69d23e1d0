import { afterAll, describe, expect, inject, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Engine } from '../../core/app/engine';
import { MemorySecretStore } from '../../core/settings/secret-store';

// The demo's data folder has one owner: a second TableSync is refused while the first runs, and
// when the first dies without stopping its PostgreSQL (SIGKILL, a crash), the next start takes the
// orphaned server down and carries on with the same data.
describe.runIf(inject('pgLabel').includes('PostgreSQL 18'))('demo: one owner, orphans recovered', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tablesync-demo-orphan-'));
  let engine: Engine | undefined;
  afterAll(async () => {
    await engine?.demo.destroy().catch(() => {});
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a second owner, then recovers after the first is killed', async () => {
    const script = `
      const { Engine } = await import(${JSON.stringify(resolve('core/app/engine.ts'))});
      const { MemorySecretStore } = await import(${JSON.stringify(resolve('core/settings/secret-store.ts'))});
      const engine = new Engine({ dataDir: ${JSON.stringify(dataDir)}, mode: 'browser', secrets: new MemorySecretStore(), demo: { scale: 0.01 } });
      await engine.demo.start();
      const c = (await import('pg')).default;
      const client = new c.Client({ connectionString: engine.demo.urls().source });
      await client.connect();
      await client.query("INSERT INTO products (sku, name, price) VALUES ('ORPHAN-1', 'made before the crash', 1)");
      await client.end();
      console.log('ready');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`child demo did not start: ${out}`)), 90_000);
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('ready')) { clearTimeout(t); res(); } });
      child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
      child.once('exit', (code) => { clearTimeout(t); rej(new Error(`child exited ${code}: ${out}`)); });
    });

    engine = new Engine({ dataDir, mode: 'browser', secrets: new MemorySecretStore(), demo: { scale: 0.01 } });
    await expect(engine.demo.start()).rejects.toMatchObject({ code: 'LOCKED', message: expect.stringContaining(`pid ${child.pid}`) });
    expect(engine.demo.status().state).toBe('failed');

    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL'); // its PostgreSQL keeps running, orphaned
    await exited;

    const status = await engine.demo.start();
    expect(status.state).toBe('running');
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: engine.demo.urls()!.source });
    await client.connect();
    const r = await client.query("SELECT name FROM products WHERE sku = 'ORPHAN-1'");
    await client.end();
    expect(r.rows).toEqual([{ name: 'made before the crash' }]);
  });
});
