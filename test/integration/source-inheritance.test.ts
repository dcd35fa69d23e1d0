import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { freshDatabase, type TestDatabase } from '../support/db';
import { runCli } from '../support/cli';
import { connectionResolver } from '../../core/flow/resolver';
import { applySet, openSet, parseSet, planSet, type SetContext } from '../../core/set';
import { waitForSameRows } from '../support/live';

// Table inheritance (INHERITS, the pre-partitioning way, still used by tools that partition by
// hand): SELECT … FROM parent reads the children's rows too, but a change in a child fires no
// trigger of the parent's, and a publication's stream carries it as the child's. A flow on the
// parent loaded the children's rows and then missed every change to them, while the watch said
// live. Refused (exit 2, naming the children); a set lists it as refused and syncs each child.
describe('a source table with inheritance children', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  const dir = mkdtempSync(join(tmpdir(), 'ts-inh-'));
  const opened: SetContext[] = [];
  beforeAll(async () => {
    src = await freshDatabase('inh_src');
    tgt = await freshDatabase('inh_tgt');
    await src.sql(`CREATE TABLE measurements (id int PRIMARY KEY, v text)`);
    await src.sql(`CREATE TABLE measurements_2025 () INHERITS (measurements)`);
    await src.sql(`ALTER TABLE measurements_2025 ADD PRIMARY KEY (id)`);
    await src.sql(`CREATE TABLE measurements_2026 () INHERITS (measurements)`);
    await src.sql(`ALTER TABLE measurements_2026 ADD PRIMARY KEY (id)`);
    await src.sql(`INSERT INTO measurements SELECT g, 'parent' FROM generate_series(1, 5) g`);
    await src.sql(`INSERT INTO measurements_2025 SELECT g, '2025' FROM generate_series(6, 10) g`);
    await src.sql(`INSERT INTO measurements_2026 SELECT g, '2026' FROM generate_series(11, 15) g`);
  });
  afterAll(async () => {
    for (const c of opened) await c.close().catch(() => {});
    await src?.drop();
    await tgt?.drop();
  });

  it('a flow on the parent: plan and apply exit 2, naming the children; nothing is written', async () => {
    const file = join(dir, 'parent.json');
    writeFileSync(file, JSON.stringify({ version: 1, name: 'inh_parent', source: { connection: { url: src.url }, table: 'measurements', notification: {} }, target: { connection: { url: tgt.url }, table: 'measurements' } }));
    for (const cmd of ['plan', 'apply']) {
      const r = await runCli([cmd, file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/inheritance children \(INHERITS: measurements_2025, measurements_2026\)/);
    }
    expect((await tgt.sql(`SELECT to_regclass('measurements') IS NOT NULL AS t`)).rows[0].t).toBe('f');
  });

  it('a set of the schema: the parent is refused with the reason, each child is a member and syncs', async () => {
    const ctx = await openSet(parseSet({ version: 1, set: 'inh', source: { connection: { url: src.url }, schema: 'public' }, target: { connection: { url: tgt.url }, schema: 'mirror', managedBy: 'system' }, tables: '*' }), connectionResolver());
    opened.push(ctx);
    const plan = await planSet(ctx);
    expect(plan.refused).toEqual([expect.objectContaining({ table: 'measurements', reason: expect.stringMatching(/inheritance children \(INHERITS: measurements_2025, measurements_2026\)/) })]);
    await applySet(ctx);
    for (const t of ['measurements_2025', 'measurements_2026']) await waitForSameRows(t, src.pool, `SELECT id, v FROM ONLY ${t}`, tgt.pool, `SELECT id, v FROM mirror.${t}`, 5_000);
  });
});
