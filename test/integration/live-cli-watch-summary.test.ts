import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, type TestDatabase } from '../support/db';
import { waitFor } from '../support/live';

// `tablesync watch` in human mode: a line per change while changes come slowly; under a burst of
// thousands, a bounded number of lines whose counts (the lines shown plus the summaries) add up to
// every change. `--json` keeps one object per change, however fast they come.
describe('tablesync watch (CLI): human output summarizes a burst', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  let dir: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    src = await freshDatabase('live_cli_sum_s');
    tgt = await freshDatabase('live_cli_sum_t');
    await src.sql(`CREATE TABLE notes (id int PRIMARY KEY, body text)`);
    await src.sql(`INSERT INTO notes VALUES (1, 'first')`);
    dir = mkdtempSync(join(tmpdir(), 'tablesync-watch-sum-'));
    writeFileSync(join(dir, 'flow.json'), JSON.stringify({
      version: 1,
      name: 'cli_sum',
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

  const start = (args: string[]) => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    const out = { text: '', err: '' };
    child = spawn(process.execPath, ['bin/tablesync.mjs', 'watch', join(dir, 'flow.json'), ...args], { env: { ...process.env, LIVE_SRC_URL: src.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (out.text += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out.err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    return { out, exited };
  };
  const changeLine = /^\d\d:\d\d:\d\d\.\d{3}\s+(insert|update|delete)\s+id=/;
  const summaryLine = /^\d\d:\d\d:\d\d\.\d{3}\s+\+.* in the last \d+\.\d s/;
  /** Changes the output accounts for: one per change line, plus every summary's counts by outcome. */
  const accounted = (text: string) => {
    const lines = text.split('\n');
    const changes = lines.filter((l) => changeLine.test(l));
    const summaries = lines.filter((l) => summaryLine.test(l));
    const byOutcome: Record<string, number> = {};
    for (const l of changes) { const o = /→ (\S+)/.exec(l)![1]!; byOutcome[o] = (byOutcome[o] ?? 0) + 1; }
    for (const l of summaries) {
      for (const m of l.matchAll(/([\d,]+) (applied|deleted|filtered out|skipped)/g)) byOutcome[m[2]!] = (byOutcome[m[2]!] ?? 0) + Number(m[1]!.replace(/,/g, ''));
    }
    return { changes: changes.length, summaries: summaries.length, byOutcome, total: Object.values(byOutcome).reduce((a, b) => a + b, 0) };
  };

  it('slow changes print a line each; a burst of 3,500 prints a bounded number of lines whose counts add up', async () => {
    const { out, exited } = start([]);
    await waitFor('live', () => out.text.includes('] live'), 30_000);
    // slowly: each change waits for its own line before the next is made
    for (const id of [2, 3, 4]) {
      await src.sql(`INSERT INTO notes VALUES ($1, 'slow')`, [id]);
      await waitFor(`the line of insert id=${id}`, () => out.text.split('\n').some((l) => changeLine.test(l) && l.includes(`insert   id=${id} `)));
    }
    expect(accounted(out.text)).toMatchObject({ changes: 3, summaries: 0 });
    // a burst: 3,000 inserts in one transaction, then (once they are all in) 500 deletes
    const before = out.text.length;
    await src.sql(`INSERT INTO notes SELECT g, 'burst' FROM generate_series(1000, 3999) g`);
    await waitFor('every insert of the burst accounted for', () => accounted(out.text.slice(before)).total >= 3000, 60_000);
    await src.sql(`DELETE FROM notes WHERE id BETWEEN 1000 AND 1499`);
    const burst = await waitFor('every change of the burst accounted for', () => {
      const a = accounted(out.text.slice(before));
      return a.total >= 3500 ? a : undefined;
    }, 60_000);
    expect(burst.total).toBe(3500);
    expect(burst.byOutcome).toEqual({ applied: 3000, deleted: 500 });
    // bounded: a few lines a second, not one per change
    expect(burst.summaries).toBeGreaterThan(0);
    expect(burst.changes + burst.summaries).toBeLessThan(200);
    child!.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out.text).toMatch(/\[cli_sum\] stopped/);
  });

  it('--json still prints one object per change under a burst', async () => {
    const { out, exited } = start(['--json']);
    await waitFor('the live status on stderr', () => out.err.includes('"state":"live"'), 30_000);
    await src.sql(`UPDATE notes SET body = 'again' WHERE id BETWEEN 1500 AND 3999`);
    const events = await waitFor('2,500 update events', () => {
      const evs = out.text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { op: string; key: { id: string } }).filter((e) => e.op === 'update');
      return evs.length >= 2500 ? evs : undefined;
    }, 60_000);
    expect(new Set(events.map((e) => e.key.id)).size).toBe(2500);
    child!.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
