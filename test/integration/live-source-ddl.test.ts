import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logicalNames } from '../../core/live';
import { sourceAndTarget, type Pair } from './target-fixture';
import { rowsAsLines, waitFor, watch } from '../support/live';

// The source table's columns change while the watch runs. Whatever the watch does, it must never
// leave the target silently different from the source: either the change's rows arrive, or the
// watch fails with an error that names the column. Live, and while the watch is stopped (its next
// start finds the flow no longer fits the table, or needs a destructive apply). (Logical capture used to drop the changes of a
// renamed key column without a word, and to report a failed apply as "the replication stream
// ended", reconnecting forever.)
describe('live capture: the source table changes shape while watched', () => {
  let t: Pair;
  beforeAll(async () => { t = await sourceAndTarget('lddl'); });
  afterAll(async () => { await t?.close(); });

  const ddls = [
    // (trigger capture: its function names the key column; the source's own writes must still work, which the INSERT below checks)
    { name: 'rename_key', ddl: (x: string) => `ALTER TABLE ${x} RENAME COLUMN id TO ident`, src: `ident AS id, grp, body`, fails: 'id', failsStopped: /needs destructive steps.*primary key changes from \(id\) to \(ident\)/ },
    { name: 'rename_val', ddl: (x: string) => `ALTER TABLE ${x} RENAME COLUMN body TO txt`, src: `id, grp, txt AS body`, fails: 'body' },
    { name: 'drop_val', ddl: (x: string) => `ALTER TABLE ${x} DROP COLUMN body`, src: `id, grp, NULL::text AS body`, fails: 'body' },
    { name: 'type_val', ddl: (x: string) => `ALTER TABLE ${x} ALTER COLUMN grp TYPE text`, src: `id, grp, body` },
    { name: 'add_col', ddl: (x: string) => `ALTER TABLE ${x} ADD COLUMN extra int DEFAULT 7`, src: `id, grp, body` },
  ] as Array<{ name: string; ddl: (x: string) => string; src: string; fails?: string; failsStopped?: RegExp; modes?: string[] }>;
  it('notification: the ordinal column renamed: the source\'s writes still work, and the watch fails naming it', async () => {
    await t.src.sql(`CREATE TABLE ord_ren (id int PRIMARY KEY, body text, at timestamptz NOT NULL DEFAULT now())`);
    await t.src.sql(`INSERT INTO ord_ren (id, body) SELECT g, 'b' || g FROM generate_series(1, 20) g`);
    const ctx = t.ctx({ name: 'lddl_ord_ren', source: { table: 'ord_ren', ordinalColumn: 'at', notification: {} }, target: { table: 'ord_ren_copy' } });
    const w = watch(ctx);
    try {
      await w.live();
      await t.src.sql(`ALTER TABLE ord_ren RENAME COLUMN at TO changed_at`);
      await t.src.sql(`INSERT INTO ord_ren (id, body) VALUES (100, 'after')`);
      await t.src.sql(`UPDATE ord_ren SET body = 'after' WHERE id = 5`);
      await t.src.sql(`DELETE FROM ord_ren WHERE id = 6`);
      const failed = await waitFor('the watch fails', () => w.statuses.find((s) => s.state === 'failed'));
      expect(failed.reason).toMatch(/"at"/);
    } finally {
      await w.stop();
    }
  });

  for (const stopped of [false, true]) for (const mode of ['notification', 'replication'] as const) {
    for (const d of ddls.filter((x) => !x.modes || x.modes.includes(mode))) {
      it(`${mode}: ${d.name}${stopped ? ' while the watch is stopped' : ''}`, async () => {
        const table = `${d.name}_${mode.slice(0, 4)}${stopped ? '_s' : ''}`;
        await t.src.sql(`CREATE TABLE ${table} (id int PRIMARY KEY, grp int, body text)`);
        await t.src.sql(`INSERT INTO ${table} SELECT g, g % 5, 'b' || g FROM generate_series(1, 20) g`);
        const ctx = t.ctx({ name: `lddl_${table}`, source: { table, [mode]: {} }, target: { table: `${table}_copy` } });
        let w = watch(ctx);
        try {
          await w.live();
          if (stopped) await w.stop();
          await t.src.sql(`UPDATE ${table} SET body = 'before' WHERE id = 7`);
          await t.src.sql(d.ddl(table));
          const key = d.name === 'rename_key' ? 'ident' : 'id';
          await t.src.sql(`INSERT INTO ${table} (${key}, grp) VALUES (100, 1)`);
          await t.src.sql(`UPDATE ${table} SET grp = 4 WHERE ${key} = 5`);
          await t.src.sql(`DELETE FROM ${table} WHERE ${key} = 6`);
          if (stopped) w = watch(ctx);
          const outcome = await waitFor('the change applied, or the watch failed', async () => {
            const failed = w.statuses.find((s) => s.state === 'failed');
            if (failed) return `failed: ${failed.reason}`;
            const [a, b] = await Promise.all([rowsAsLines(t.src.pool, `SELECT ${d.src} FROM ${table}`), rowsAsLines(t.tgt.pool, `SELECT id, grp::text AS grp, body FROM ${table}_copy`)]);
            return JSON.stringify(a.map((l) => l.replace(/"grp":(\d+)/, '"grp":"$1"'))) === JSON.stringify(b) ? 'equal' : undefined;
          }, 20_000).catch((e: unknown) => { throw new Error(`${(e as Error).message}; statuses: ${w.statuses.map((s) => `${s.state}${s.reason ? `: ${s.reason}` : ''}`).join(' | ')}`); });
          // a failure names the column that is gone
          expect(outcome).toMatch(stopped && d.failsStopped ? d.failsStopped : d.fails ? new RegExp(`^failed: .*"${d.fails}"`) : /^equal$/);
        } finally {
          await w.stop();
          if (mode === 'replication') await t.src.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [logicalNames(ctx.flow).slot]).catch(() => {});
        }
      });
    }
  }
});
