import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, type FlowContext } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitFor, waitForSameRows, watch } from '../support/live';

// The trigger-mode window catch-up with ordinals far above the others. The window used to start a
// fixed distance (10,000; 5 minutes) below the HIGHEST tracked ordinal, so one outlier lifted it
// above the changes made while the watch was stopped; an UPDATE keeps the counts below the window
// equal, and it was lost. The window is now anchored at the 64th highest tracked ordinal (and, for
// timestamptz, no later than the source's clock recorded by the watch), and a watch that sees a row
// inserted below its window makes every later catch-up a full scan, with the reason.
describe('trigger capture: the catch-up window with ordinal outliers', () => {
  let t: Pair;
  beforeAll(async () => { t = await sourceAndTarget('lood'); });
  afterAll(async () => { await t?.close(); });

  const rows = (table: string, ord: string) => `SELECT id, v, ${ord}::text FROM ${table}`;
  const same = (what: string, table: string, ord: string) => waitForSameRows(what, t.src.pool, rows(table, ord), t.tgt.pool, rows(table, ord), 15_000);

  /** Watch until live and the target equals the source, make `live` changes, stop; `stopped` changes; restart: the catch-up it reported. */
  async function restartAfter(ctx: FlowContext, table: string, ord: string, live: string[], stopped: string[]) {
    let w = watch(ctx);
    try {
      await w.live();
      await same('first catch-up', table, ord);
      for (const s of live) await t.src.sql(s);
      await same('live changes', table, ord);
    } finally {
      await w.stop();
    }
    for (const s of stopped) await t.src.sql(s);
    w = watch(ctx);
    try {
      await w.live();
      const c = w.catchUps[0]!.catchUp!;
      await same('after the restart', table, ord);
      return c;
    } finally {
      await w.stop();
    }
  }

  it('integer: a version set to 10^9 by hand (while live) does not hide the updates made while stopped', async () => {
    await t.src.sql(`CREATE SEQUENCE big_v START 400000 INCREMENT 1000`);
    await t.src.sql(`CREATE TABLE big (id int PRIMARY KEY, v text, version bigint NOT NULL DEFAULT nextval('big_v'))`);
    await t.src.sql(`INSERT INTO big (id, v, version) SELECT g, 'v' || g, g * 1000 FROM generate_series(1, 300) g`);
    const ctx = t.ctx({ name: 'lood_big', source: { table: 'big', ordinalColumn: 'version', notification: {} }, target: { table: 'big' } });
    await applyFlow(ctx);
    const c = await restartAfter(ctx, 'big', 'version',
      [`UPDATE big SET v = 'by hand', version = 1000000000 WHERE id = 300`, `UPDATE big SET v = 'live', version = nextval('big_v') WHERE id = 1`],
      [`UPDATE big SET v = 'while stopped', version = nextval('big_v') WHERE id BETWEEN 2 AND 5`]);
    // in proportion: the window, the newest 64 tracked rows and the changes
    expect(c).toMatchObject({ mode: 'window', rows: 4 });
    expect(c.scanned).toBeLessThan(80);
  });

  it('integer: a per-row version counter (JPA @Version) with one hot row 10,000 versions ahead', async () => {
    await t.src.sql(`CREATE TABLE jpa (id int PRIMARY KEY, v text, version int NOT NULL DEFAULT 0)`);
    await t.src.sql(`INSERT INTO jpa (id, v, version) SELECT g, 'v' || g, g % 3 FROM generate_series(1, 300) g`);
    await t.src.sql(`UPDATE jpa SET version = 20000 WHERE id = 7`);
    const ctx = t.ctx({ name: 'lood_jpa', source: { table: 'jpa', ordinalColumn: 'version', notification: {} }, target: { table: 'jpa' } });
    await applyFlow(ctx);
    const bump = (where: string, v: string) => `UPDATE jpa SET v = '${v}', version = version + 1 WHERE ${where}`;
    const c = await restartAfter(ctx, 'jpa', 'version',
      [bump('id = 7', 'hot'), bump('id = 7', 'hotter')],
      [bump('id = 7', 'hot while stopped'), bump('id IN (10, 20, 30)', 'cold while stopped')]);
    // the window reaches down to the cold rows' versions: all 300 rows are read, nothing is lost
    expect(c).toMatchObject({ mode: 'window', rows: 4 });
  });

  it('integer: a per-row counter with many hot rows: a row inserted live below the window makes the catch-ups full scans, and says why', async () => {
    await t.src.sql(`CREATE TABLE hot (id int PRIMARY KEY, v text, version int NOT NULL DEFAULT 0)`);
    await t.src.sql(`INSERT INTO hot (id, v, version) SELECT g, 'v' || g, CASE WHEN g <= 100 THEN 20000 + g ELSE 1 END FROM generate_series(1, 300) g`);
    const ctx = t.ctx({ name: 'lood_hot', source: { table: 'hot', ordinalColumn: 'version', notification: {} }, target: { table: 'hot' } });
    await applyFlow(ctx);
    let w = watch(ctx);
    try {
      await w.live();
      expect(w.catchUps[0]!.catchUp).toMatchObject({ mode: 'window' });
      await t.src.sql(`INSERT INTO hot (id, v) VALUES (1000, 'new')`); // version 0: far below the window
      await same('live insert', 'hot', 'version');
      // the flag is recorded with the watch's state at once
      await waitFor('the flag recorded', async () => (await t.tgt.sql(`SELECT live->'notMonotone'->>'reason' AS r FROM tablesync.flows WHERE flow = 'lood_hot'`)).rows[0]?.r);
    } finally {
      await w.stop();
    }
    await t.src.sql(`UPDATE hot SET v = 'cold while stopped', version = version + 1 WHERE id IN (150, 250)`);
    w = watch(ctx);
    try {
      await w.live();
      const c = w.catchUps[0]!.catchUp!;
      expect(c).toMatchObject({ mode: 'full', rows: 2 });
      expect(c.reason).toMatch(/a row inserted \(key \{"id":"1000"\}\) got ordinal 0, below the window .*version does not order the changes/);
      await same('after the restart', 'hot', 'version');
      // 1,000 rows inserted in order (above the window) and none below: the window is trusted again
      await t.src.sql(`INSERT INTO hot (id, v, version) SELECT g, 'in order', 30000 + g FROM generate_series(2001, 3000) g`);
      await same('inserted in order', 'hot', 'version');
      await waitFor('the flag cleared', async () => (await t.tgt.sql(`SELECT live ? 'notMonotone' AS f FROM tablesync.flows WHERE flow = 'lood_hot'`)).rows[0]?.f === 'f');
    } finally {
      await w.stop();
    }
    await t.src.sql(`UPDATE hot SET v = 'in order while stopped', version = 40000 WHERE id = 2500`);
    w = watch(ctx);
    try {
      await w.live();
      expect(w.catchUps[0]!.catchUp).toMatchObject({ mode: 'window', rows: 1 });
      await same('after the second restart', 'hot', 'version');
    } finally {
      await w.stop();
    }
  });

  it('timestamp without time zone: one row dated far ahead of the others', async () => {
    await t.src.sql(`CREATE TABLE naive (id int PRIMARY KEY, v text, at timestamp NOT NULL)`);
    await t.src.sql(`INSERT INTO naive SELECT g, 'v' || g, timestamp '2026-01-01' + g * interval '1 minute' FROM generate_series(1, 300) g`);
    await t.src.sql(`UPDATE naive SET at = '2026-06-01' WHERE id = 300`);
    const ctx = t.ctx({ name: 'lood_naive', source: { table: 'naive', ordinalColumn: 'at', notification: {} }, target: { table: 'naive' } });
    await applyFlow(ctx);
    const c = await restartAfter(ctx, 'naive', 'at',
      [`UPDATE naive SET v = 'live', at = '2026-01-01 06:00' WHERE id = 1`],
      [`UPDATE naive SET v = 'while stopped', at = '2026-01-01 06:01' WHERE id BETWEEN 2 AND 5`]);
    expect(c).toMatchObject({ mode: 'window', rows: 4 });
    expect(c.scanned).toBeLessThan(80);
  });

  it('timestamp without time zone: a row inserted live with a backdated ordinal makes the catch-ups full scans', async () => {
    await t.src.sql(`CREATE TABLE backdated (id int PRIMARY KEY, v text, at timestamp NOT NULL)`);
    await t.src.sql(`INSERT INTO backdated SELECT g, 'v' || g, timestamp '2026-01-01' + g * interval '1 minute' FROM generate_series(1, 300) g`);
    const ctx = t.ctx({ name: 'lood_backdated', source: { table: 'backdated', ordinalColumn: 'at', notification: {} }, target: { table: 'backdated' } });
    await applyFlow(ctx);
    let w = watch(ctx);
    try {
      await w.live();
      await t.src.sql(`INSERT INTO backdated VALUES (1000, 'new', '2026-01-01 01:00:00.5'), (1001, 'newer', '2026-01-01 06:00')`);
      await same('live inserts', 'backdated', 'at');
      await waitFor('the flag recorded', async () => (await t.tgt.sql(`SELECT live->'notMonotone'->>'reason' AS r FROM tablesync.flows WHERE flow = 'lood_backdated'`)).rows[0]?.r);
    } finally {
      await w.stop();
    }
    await t.src.sql(`UPDATE backdated SET v = 'while stopped', at = '2026-01-01 01:30' WHERE id = 7`);
    w = watch(ctx);
    try {
      await w.live();
      const c = w.catchUps[0]!.catchUp!;
      expect(c).toMatchObject({ mode: 'full', rows: 1 });
      expect(c.reason).toMatch(/a row inserted \(key \{"id":"1000"\}\) got ordinal 2026-01-01 01:00:00.5, below the window .*from 2026-01-01 03:\d\d:00\)/);
      await same('after the restart', 'backdated', 'at');
    } finally {
      await w.stop();
    }
  });

  it('timestamptz: a row dated in the future whose date has passed by the restart', async () => {
    // The writers' clock is simulated four hours back (T0 = now() - 4h): a row at T0 + 3h59min, the
    // changes made while stopped at T0 + a minute, the restart at T0 + 4h (now). The window used
    // to start at T0 + 3h54min, above those changes.
    await t.src.sql(`CREATE TABLE passed (id int PRIMARY KEY, v text, at timestamptz NOT NULL)`);
    await t.src.sql(`INSERT INTO passed SELECT g, 'v' || g, now() - interval '10 hours' + g * interval '1 minute' FROM generate_series(1, 300) g`);
    await t.src.sql(`UPDATE passed SET at = now() - interval '1 minute' WHERE id = 300`);
    const ctx = t.ctx({ name: 'lood_passed', source: { table: 'passed', ordinalColumn: 'at', notification: {} }, target: { table: 'passed' } });
    await applyFlow(ctx);
    const c = await restartAfter(ctx, 'passed', 'at',
      [`UPDATE passed SET v = 'live', at = now() - interval '4 hours' WHERE id = 1`],
      [`UPDATE passed SET v = 'while stopped', at = now() - interval '4 hours' + interval '1 minute' WHERE id BETWEEN 2 AND 5`]);
    expect(c).toMatchObject({ mode: 'window', rows: 4 });
    expect(c.scanned).toBeLessThan(80);
  });

  it('timestamptz: many rows dated in the future (a load with a wrong clock): the window starts at the source clock the watch recorded', async () => {
    await t.src.sql(`CREATE TABLE ahead (id int PRIMARY KEY, v text, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await t.src.sql(`INSERT INTO ahead (id, v, at) SELECT g, 'v' || g, CASE WHEN g <= 100 THEN now() + interval '1 day' ELSE now() - interval '1 day' END FROM generate_series(1, 300) g`);
    const ctx = t.ctx({ name: 'lood_ahead', source: { table: 'ahead', ordinalColumn: 'at', notification: {} }, target: { table: 'ahead' } });
    await applyFlow(ctx);
    const clock = async () => Number((await t.tgt.sql(`SELECT live->>'clockMs' AS ms FROM tablesync.flows WHERE flow = 'lood_ahead'`)).rows[0]?.ms);
    let w = watch(ctx);
    try {
      await w.live();
      // no clock recorded yet: the anchor (among the future rows) is ahead of the source's clock: full scan
      expect(w.catchUps[0]!.catchUp).toMatchObject({ mode: 'full', reason: expect.stringMatching(/ahead of the source's clock/) });
      const first = await clock();
      expect(first).toBeGreaterThan(0);
      await t.src.sql(`UPDATE ahead SET v = 'live', at = clock_timestamp() WHERE id = 150`);
      await same('live', 'ahead', 'at');
      await w.stop();
      // the stop records the trigger time of the last applied batch
      expect(await clock()).toBeGreaterThan(first);
    } finally {
      await w.stop();
    }
    await t.src.sql(`UPDATE ahead SET v = 'while stopped', at = clock_timestamp() WHERE id BETWEEN 200 AND 203`);
    w = watch(ctx);
    try {
      await w.live();
      // anchored at the recorded clock: a window, in proportion (the changes and the rows ahead)
      expect(w.catchUps[0]!.catchUp).toMatchObject({ mode: 'window', rows: 4 });
      expect(w.catchUps[0]!.catchUp!.scanned).toBeLessThan(120);
      await same('after the restart', 'ahead', 'at');
    } finally {
      await w.stop();
    }
  });

  it('an ordinary restart after changes is still a window catch-up', async () => {
    await t.src.sql(`CREATE TABLE plain (id int PRIMARY KEY, v text, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await t.src.sql(`INSERT INTO plain (id, v, at) SELECT g, 'v' || g, now() - interval '1 day' + g * interval '1 minute' FROM generate_series(1, 1000) g`);
    const ctx = t.ctx({ name: 'lood_plain', source: { table: 'plain', ordinalColumn: 'at', notification: {} }, target: { table: 'plain' } });
    await applyFlow(ctx);
    const c = await restartAfter(ctx, 'plain', 'at',
      [`UPDATE plain SET v = 'live', at = clock_timestamp() WHERE id < 10`, `INSERT INTO plain (id, v) VALUES (2000, 'new')`],
      [`UPDATE plain SET v = 'while stopped', at = clock_timestamp() WHERE id BETWEEN 500 AND 519`, `DELETE FROM plain WHERE id = 2000`]);
    expect(c).toMatchObject({ mode: 'window', rows: 21 });
    expect(c.scanned).toBeLessThan(100);
  });
});
