import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourceAndTarget, type Pair } from './target-fixture';
import { runCli } from '../support/cli';

// `tablesync verify FLOW.json [--json]`: exit 0 when the target holds what the flow says, 3 when
// it found drift (listed), 2 invalid input, 1 a flow it cannot verify; `apply --repair` fixes it.

const run = runCli;

describe('tablesync verify', () => {
  let t: Pair;
  let dir: string;
  let file: string;
  beforeAll(async () => {
    t = await sourceAndTarget('cv');
    dir = mkdtempSync(join(tmpdir(), 'tablesync-verify-'));
    await t.src.sql(`CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(8,2))`);
    await t.src.sql(`INSERT INTO items SELECT g, 'n' || g, g FROM generate_series(1, 50) g`);
    file = join(dir, 'flow.json');
    writeFileSync(file, JSON.stringify({ version: 1, name: 'cli_verify', source: { connection: { url: t.src.url }, table: 'items' }, target: { connection: { url: t.tgt.url }, table: 'items' } }));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('exit 1 before the first apply, 0 when equal, 3 on drift, 0 after apply --repair', async () => {
    const before = await run(['verify', file]);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain('run apply first');
    expect((await run(['apply', file])).code).toBe(0);

    const equal = await run(['verify', file]);
    expect(equal).toMatchObject({ code: 0, stdout: expect.stringContaining('holds exactly what the flow says (50 source row(s)') });

    await t.tgt.sql(`UPDATE items SET price = 0 WHERE id = 3; DELETE FROM items WHERE id = 4`);
    const drift = await run(['verify', file]);
    expect(drift.code).toBe(3);
    expect(drift.stdout).toContain('DRIFT: 1 changed, 1 missing, 0 extra');
    expect(drift.stdout).toContain('changed  id="3"  price: "0.00" → "3.00"');
    expect(drift.stdout).toContain('missing  id="4"');
    const json = await run(['verify', file, '--json']);
    expect(json.code).toBe(3);
    const r = JSON.parse(json.stdout);
    expect(r).toMatchObject({ equal: false, counts: { changed: 1, missing: 1, extra: 0 }, changed: [{ key: { id: '3' } }], missing: [{ key: { id: '4' } }] });

    const plain = await run(['apply', file, '--json']);
    expect(JSON.parse(plain.stdout).rows).toMatchObject({ insert: 0, update: 0, delete: 0 });
    expect((await run(['verify', file])).code).toBe(3);
    const repair = await run(['apply', file, '--repair']);
    expect(repair).toMatchObject({ code: 0, stdout: expect.stringContaining('Repair: 1 changed, 1 missing, 0 extra') });
    expect((await run(['verify', file])).code).toBe(0);
    expect((await run(['verify', file, '--nope'])).code).toBe(2);
  });
});
