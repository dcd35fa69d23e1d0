import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../core/app/engine';
import { MemorySecretStore } from '../../core/settings/secret-store';
import { createDispatcher } from '../../core/api/dispatcher';
import type { ApplyResult, Plan } from '../../core/api/model';
import { call } from '../support/api';
import { sourceAndTarget, type Pair } from './target-fixture';
import { runCli } from '../support/cli';

// Taking over rows you wrote, through the two doors a user has: `tablesync apply --take-over` and
// the API's flows.apply { takeOver }. Without it both leave the rows alone and say so.
const run = runCli;

describe('take over rows you wrote: CLI and API', () => {
  let t: Pair;
  let dir: string;
  beforeAll(async () => {
    t = await sourceAndTarget('tko');
    dir = mkdtempSync(join(tmpdir(), 'tablesync-tko-'));
    await t.src.sql(`CREATE TABLE s (id int PRIMARY KEY, v text)`);
    await t.src.sql(`INSERT INTO s SELECT g, 'src' || g FROM generate_series(1, 20) g`);
    await t.tgt.sql(`CREATE TABLE c (id int PRIMARY KEY, v text); INSERT INTO c VALUES (1, 'mine'), (2, 'mine too')`);
    await t.tgt.sql(`CREATE TABLE a (id int PRIMARY KEY, v text); INSERT INTO a VALUES (3, 'mine')`);
  });
  afterAll(async () => { await t.close(); rmSync(dir, { recursive: true, force: true }); });

  it('CLI: plan shows the conflicts, apply leaves them, apply --take-over takes them', async () => {
    const file = join(dir, 'flow.json');
    writeFileSync(file, JSON.stringify({ version: 1, name: 'tko_cli', source: { connection: { url: t.src.url }, table: 's' }, target: { connection: { url: t.tgt.url }, table: 'c', managedBy: 'user' } }));
    const plan = await run(['plan', file]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('Conflicts: would take over 2 rows you wrote');
    expect(plan.stdout).toContain('apply --take-over');
    const json = JSON.parse((await run(['plan', file, '--json'])).stdout) as Plan;
    expect(json.rows).toMatchObject({ insert: 18, conflict: 2 });
    const a = await run(['apply', file]);
    expect(a.code).toBe(0);
    expect(a.stdout).toContain('left alone 2 rows you wrote whose keys the source also has (--take-over to take them over)');
    expect((await t.tgt.sql(`SELECT v FROM c WHERE id = 1`)).rows[0].v).toBe('mine');
    const b = await run(['apply', file, '--take-over', '--json']);
    expect(b.code).toBe(0);
    const r = JSON.parse(b.stdout) as ApplyResult;
    expect(r).toMatchObject({ tookOver: 2, rows: { insert: 0, update: 0, conflict: 2 } });
    expect((await t.tgt.sql(`SELECT v FROM c WHERE id = 1`)).rows[0].v).toBe('src1');
  });

  it('API: flows.apply takeOver (default false)', async () => {
    const engine = new Engine({ dataDir: mkdtempSync(join(dir, 'eng-')), mode: 'browser', secrets: new MemorySecretStore() });
    try {
      const api = createDispatcher(engine);
      await call(api, 'flows.save', { flow: { version: 1, name: 'tko_api', source: { connection: { url: t.src.url }, table: 's' }, target: { connection: { url: t.tgt.url }, table: 'a', managedBy: 'user' } } });
      const plan = await call<Plan>(api, 'flows.plan', { name: 'tko_api' });
      expect(plan.rows).toMatchObject({ insert: 19, conflict: 1 });
      expect(plan.samples.filter((s) => s.op === 'conflict').map((s) => s.key.id)).toEqual(['3']);
      const first = await call<ApplyResult>(api, 'flows.apply', { name: 'tko_api', expectedFingerprint: plan.fingerprint });
      expect(first.rows).toMatchObject({ insert: 19, conflict: 1 });
      expect(first.tookOver).toBeUndefined();
      expect((await t.tgt.sql(`SELECT v FROM a WHERE id = 3`)).rows[0].v).toBe('mine');
      const second = await call<ApplyResult>(api, 'flows.apply', { name: 'tko_api', takeOver: true });
      expect(second).toMatchObject({ tookOver: 1, rows: { conflict: 1 } });
      expect((await t.tgt.sql(`SELECT v FROM a WHERE id = 3`)).rows[0].v).toBe('src3');
    } finally {
      await engine.close();
    }
  });
});
