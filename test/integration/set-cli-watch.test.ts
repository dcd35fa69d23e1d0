import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, type TestDatabase } from '../support/db';
import { createRentalSchema, rentalSet } from './set-fixture';

// `tablesync watch SET.json --json`: one process for the whole set; change events carry the member
// flow (the table column of the feed), statuses go to stderr; SIGTERM stops it cleanly (exit 0).
const BIN = join(__dirname, '..', '..', 'bin', 'tablesync.mjs');

describe('tablesync watch SET.json', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    src = await freshDatabase('setcws');
    tgt = await freshDatabase('setcwt');
    await createRentalSchema(src);
    dir = mkdtempSync(join(tmpdir(), 'tablesync-setw-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await src?.drop();
    await tgt?.drop();
  });

  it('streams every member\'s changes with its table, and stops on SIGTERM', async () => {
    const file = join(dir, 'rental.set.json');
    writeFileSync(file, JSON.stringify(rentalSet(src.url, tgt.url)));
    const child = spawn(process.execPath, [BIN, 'watch', file, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const until = async (what: string, ok: () => boolean) => {
      const deadline = Date.now() + 60_000;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${err}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    try {
      await until('live', () => err.includes('"state":"live"'));
      await src.sql(`BEGIN; INSERT INTO actor VALUES (9001, 'cli actor', now()); UPDATE store SET last_update = now() WHERE store_id = 1; COMMIT;`);
      await until('both events', () => out.includes('"flow":"rental.actor"') && out.includes('"flow":"rental.store"'));
      const events = out.trim().split('\n').map((l) => JSON.parse(l) as { flow: string; op: string; outcome: string; key: Record<string, string> });
      expect(events.find((e) => e.flow === 'rental.actor')).toMatchObject({ op: 'insert', outcome: 'applied', key: { actor_id: '9001' } });
      expect((await tgt.sql(`SELECT name FROM mirror.actor WHERE actor_id = 9001`)).rows[0].name).toBe('cli actor');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(err).toMatch(/"state":"stopped"/);
  });
});
