import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { watch } from '../support/live';

// `tablesync drop` from the CLI removes the capture trigger and function too, not only the target
// (the CLI is a separate process: core/live's drop hook must be registered there as well).
const BIN = join(__dirname, '..', '..', 'bin', 'tablesync.mjs');

describe('tablesync drop removes the live capture objects', () => {
  let t: Pair;
  let dir: string;
  beforeAll(async () => {
    t = await sourceAndTarget('cli_drop');
    dir = mkdtempSync(join(tmpdir(), 'tablesync-clidrop-'));
    await t.src.sql(`CREATE TABLE orders (id int PRIMARY KEY, total numeric)`);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t?.close();
  });

  it('drops trigger, truncate trigger and function on the source', async () => {
    const spec = { name: 'cli_drop', source: { table: 'orders', notification: { channelName: 'cli_drop_ch' } }, target: { table: 'orders' } };
    const ctx = t.ctx(spec);
    await applyFlow(ctx);
    const w = watch(ctx);
    await w.live();
    await w.stop();
    const objects = async () => (await t.src.sql(
      `SELECT tgname AS n FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND NOT tgisinternal
       UNION ALL SELECT proname FROM pg_proc WHERE proname = 'cli_drop_ch_n'`,
    )).rows.length;
    expect(await objects()).toBe(3);

    const file = join(dir, 'flow.json');
    writeFileSync(file, JSON.stringify({
      version: 1, ...spec,
      source: { ...spec.source, connection: { url: t.src.url } },
      target: { ...spec.target, connection: { url: t.tgt.url } },
    }));
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [BIN, 'drop', file], { timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('cli_drop_ch_t');
    expect(await objects()).toBe(0);
  });
});
