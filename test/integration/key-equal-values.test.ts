import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, planFlow, prepareKeySync, syncKeys, verifyFlow, type FlowContext } from '../../core/target';
import { jobFromFlow, withTargetClient } from '../../core/target/flow-job';
import { logicalNames } from '../../core/live';
import { qualifiedName } from '../../core/sql/ident';
import { STATE_SCHEMA, trackingTableName } from '../../core/state/store';
import { sourceAndTarget, type Pair } from './target-fixture';
import { rowsAsLines, waitFor, waitForSameRows, watch } from '../support/live';

// A key updated to a value that is equal to the old one but not the same (numeric 1.0 → 1.00,
// interval '1 day' → '24 hours', float8 0 → -0): PostgreSQL's equality (and so the target's
// primary key) says same key, its text (and pgoutput, which compares bytes) says a key change. The
// row must survive, and the target AND the flow's tracking must end with the source's key text, in
// every path: live (both capture modes), the catch-up after a restart, and a plain apply (whose
// diff and "nothing changed?" summary compare typed values, which hash 1.0 and 1.00 alike).
describe('a key changed to an equal value of another text', () => {
  let t: Pair;
  beforeAll(async () => { t = await sourceAndTarget('lkeq'); });
  afterAll(async () => { await t?.close(); });

  const tracking = (ctx: FlowContext) => qualifiedName(STATE_SCHEMA, trackingTableName(ctx.flow.name));
  const dropSlot = async (ctx: FlowContext) => {
    await t.src.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [logicalNames(ctx.flow).slot]).catch(() => {});
  };

  /** The target's rows and the tracked keys, as text, equal the source's (the keys: key columns only). */
  async function same(what: string, ctx: FlowContext, table: string, keys: string, values: string, timeoutMs = 15_000): Promise<void> {
    await waitForSameRows(`${what}: rows`, t.src.pool, `SELECT ${keys}, ${values} FROM ${table}`, t.tgt.pool, `SELECT ${keys}, ${values} FROM ${table}_copy`, timeoutMs);
    await waitForSameRows(`${what}: tracked keys`, t.src.pool, `SELECT ${keys} FROM ${table}`, t.tgt.pool, `SELECT ${keys} FROM ${tracking(ctx)}`, timeoutMs);
  }

  const keyText = 'n::text, iv::text, f::text';

  async function table(name: string, ordinal = false): Promise<void> {
    await t.src.sql(`CREATE TABLE ${name} (n numeric, iv interval, f float8, v text${ordinal ? ', m bigint NOT NULL DEFAULT 1' : ''}, PRIMARY KEY (n, iv, f))`);
    await t.src.sql(`INSERT INTO ${name} (n, iv, f, v) VALUES (1.0, '1 day', 0, 'a'), (2.0, '2 days', 0, 'b'), (3.0, '3 days', 0, 'c'), (4, '4 days', 0, 'd'), (5, '5 days', 0, 'e')`);
  }

  /** Equal-value key updates: one key part each, one with a value change too, one key changed and back. */
  async function equalKeyUpdates(name: string, bump = ''): Promise<void> {
    await t.src.sql(`UPDATE ${name} SET n = 1.00${bump} WHERE n = 1`);
    await t.src.sql(`UPDATE ${name} SET iv = '48 hours'${bump} WHERE n = 2`);
    await t.src.sql(`UPDATE ${name} SET f = '-0'${bump} WHERE n = 3`);
    await t.src.sql(`UPDATE ${name} SET n = 4.000, v = 'd2'${bump} WHERE n = 4`);
    // In one transaction: a value change under the old text, then the key's text, then back and again.
    await t.src.sql(`BEGIN; UPDATE ${name} SET v = 'e2'${bump} WHERE n = 5; UPDATE ${name} SET n = 5.00 WHERE n = 5; UPDATE ${name} SET n = 5.0 WHERE n = 5; UPDATE ${name} SET n = 5.000${bump} WHERE n = 5; COMMIT`);
  }

  for (const mode of ['notification', 'replication'] as const) {
    it(`${mode}: live, the row stays with the source's key text, in the target and in tracking`, async () => {
      const name = `k_${mode.slice(0, 4)}`;
      await table(name);
      const ctx = t.ctx({ name: `lkeq_${mode}`, source: { table: name, [mode]: {} }, target: { table: `${name}_copy` } });
      const w = watch(ctx);
      try {
        await w.live();
        await same('loaded', ctx, name, keyText, 'v');
        await equalKeyUpdates(name);
        await same(`${mode}: after equal key changes`, ctx, name, keyText, 'v');
        // A later insert and delete of an equal key of another text still find the row.
        await t.src.sql(`DELETE FROM ${name} WHERE n = 1`);
        await t.src.sql(`INSERT INTO ${name} (n, iv, f, v) VALUES (1.0000, '1 day', 0, 'a3')`);
        await same(`${mode}: delete and insert under another text`, ctx, name, keyText, 'v');
      } finally {
        await w.stop();
        if (mode === 'replication') await dropSlot(ctx);
      }
      // Nothing left for an apply to write (the live-synced rows are re-checked, none rewritten).
      expect((await verifyFlow(ctx)).equal).toBe(true);
      expect((await applyFlow(ctx)).rows).toMatchObject({ insert: 0, update: 0, delete: 0 });
      expect((await planFlow(ctx)).rows).toMatchObject({ insert: 0, update: 0, delete: 0 });
    });

    it(`${mode}: equal key changes while stopped are caught up on the restart`, async () => {
      const name = `r_${mode.slice(0, 4)}`;
      await table(name);
      const ctx = t.ctx({ name: `lkeqr_${mode}`, source: { table: name, [mode]: {} }, target: { table: `${name}_copy` } });
      let w = watch(ctx);
      try {
        await w.live();
        await same('loaded', ctx, name, keyText, 'v');
        await w.stop();
        await equalKeyUpdates(name);
        w = watch(ctx);
        await w.live();
        await same(`${mode}: after the restart`, ctx, name, keyText, 'v');
      } finally {
        await w.stop();
        if (mode === 'replication') await dropSlot(ctx);
      }
    });
  }

  it('notification with an ordinal: the window catch-up after a restart, and live', async () => {
    const name = 'k_ord';
    await table(name, true);
    const ctx = t.ctx({ name: 'lkeq_ord', source: { table: name, ordinalColumn: 'm', notification: {} }, target: { table: `${name}_copy` } });
    let w = watch(ctx);
    try {
      await w.live();
      await same('loaded', ctx, name, keyText, 'v, m');
      await equalKeyUpdates(name, ', m = m + 1');
      await same('live', ctx, name, keyText, 'v, m');
      await w.stop();
      await t.src.sql(`UPDATE ${name} SET n = 1.0, m = m + 1 WHERE n = 1`);
      await t.src.sql(`UPDATE ${name} SET iv = '2 days', m = m + 1 WHERE n = 2`);
      w = watch(ctx);
      await w.live();
      await same('after the restart', ctx, name, keyText, 'v, m');
      expect(w.catchUps.at(-1)?.catchUp?.mode).toBe('window');
    } finally {
      await w.stop();
    }
  });

  it('apply: a plain apply finds and fixes equal-key drift (fingerprint and ordinal flows, a composite key with an int part)', async () => {
    await t.src.sql(`CREATE TABLE a (id int, n numeric, v text, m bigint NOT NULL DEFAULT 1, PRIMARY KEY (id, n))`);
    await t.src.sql(`INSERT INTO a SELECT g, g::numeric, 'v' || g FROM generate_series(1, 300) g`);
    for (const ordinal of [false, true]) {
      const ctx = t.ctx({ name: `lkeqa_${ordinal ? 'o' : 'f'}`, source: { table: 'a', ...(ordinal ? { ordinalColumn: 'm' } : {}) }, target: { table: `a_copy_${ordinal ? 'o' : 'f'}` } });
      const target = `a_copy_${ordinal ? 'o' : 'f'}`;
      const check = async (what: string) => {
        expect(await rowsAsLines(t.tgt.pool, `SELECT id, n::text, v, m FROM ${target}`), `${what}: rows`).toEqual(await rowsAsLines(t.src.pool, `SELECT id, n::text, v, m FROM a`));
        expect(await rowsAsLines(t.tgt.pool, `SELECT id, n::text FROM ${tracking(ctx)}`), `${what}: tracked keys`).toEqual(await rowsAsLines(t.src.pool, `SELECT id, n::text FROM a`));
      };
      await applyFlow(ctx);
      await check(`${ordinal ? 'ordinal' : 'fingerprint'}: first apply`);

      // 1. The source's key text changed (values and ordinal alone): the next plan and apply see it.
      await t.src.sql(`UPDATE a SET n = n * 1.00 WHERE id <= 3`);
      const plan = await planFlow(ctx);
      expect(plan.rows).toMatchObject({ insert: 0, update: 3, delete: 0 });
      const upd = plan.samples.filter((s) => s.op === 'update');
      expect(upd.map((s) => s.changed)).toEqual([['n'], ['n'], ['n']]);
      const r = await applyFlow(ctx);
      expect(r.rows).toMatchObject({ insert: 0, update: 3, delete: 0 });
      await check(`${ordinal ? 'ordinal' : 'fingerprint'}: apply after the source's key text changed`);
      expect((await planFlow(ctx)).rows).toMatchObject({ insert: 0, update: 0, delete: 0 });
      expect((await applyFlow(ctx)).rows).toMatchObject({ insert: 0, update: 0, delete: 0 });

      // 2. What TableSync before this fix left: the target and its tracking with the old key text.
      await t.tgt.sql(`UPDATE ${target} SET n = n::int WHERE id <= 2; UPDATE ${tracking(ctx)} SET n = n::int WHERE id <= 2`);
      expect((await verifyFlow(ctx)).counts.changed).toBe(2);
      expect((await applyFlow(ctx)).rows).toMatchObject({ insert: 0, update: 2, delete: 0 });
      await check(`${ordinal ? 'ordinal' : 'fingerprint'}: apply after a drift like the old code's`);
      expect((await verifyFlow(ctx)).equal).toBe(true);

      // 3. The target's key text edited by hand (tracking untouched): verify sees it, repair fixes it.
      await t.tgt.sql(`UPDATE ${target} SET n = 7.0000 WHERE id = 7`);
      const v = await verifyFlow(ctx);
      expect(v.equal).toBe(false);
      expect(v.counts).toMatchObject({ changed: 1, missing: 0, extra: 0 });
      await applyFlow(ctx, { repair: true });
      await check(`${ordinal ? 'ordinal' : 'fingerprint'}: repair after a hand edit of the target's key`);
      expect((await verifyFlow(ctx)).equal).toBe(true);
    }
  });

  // A change's old key (a notification of an earlier change, re-read after the key's text moved;
  // pgoutput's old key of 1.0 → 1.00) is equal to the present row's key: the row stays, with the
  // new text, whichever way the batch goes (re-read by key one statement, the fallback in several,
  // a replicated batch).
  it('an old key of another text in the same batch as its row does not remove it', async () => {
    await t.src.sql(`CREATE TABLE b (id int, n numeric, v text, PRIMARY KEY (id, n))`);
    await t.src.sql(`INSERT INTO b SELECT g, g::numeric, 'v' || g FROM generate_series(1, 10) g`);
    const ctx = t.ctx({ name: 'lkeqb', source: { table: 'b' }, target: { table: 'b_copy' } });
    const check = async (what: string) => {
      expect(await rowsAsLines(t.tgt.pool, `SELECT id, n::text, v FROM b_copy`), `${what}: rows`).toEqual(await rowsAsLines(t.src.pool, `SELECT id, n::text, v FROM b`));
      expect(await rowsAsLines(t.tgt.pool, `SELECT id, n::text FROM ${tracking(ctx)}`), `${what}: tracked keys`).toEqual(await rowsAsLines(t.src.pool, `SELECT id, n::text FROM b`));
    };
    await applyFlow(ctx);
    await t.src.sql(`UPDATE b SET n = n * 1.00 WHERE id <= 2`);
    // syncKeysOn (several statements): the old text only, and the old and the new text together.
    await syncKeys(ctx, [['1', '1']]);
    await syncKeys(ctx, [['2', '2'], ['2', '2.00']]);
    await check('syncKeys');
    const job = await jobFromFlow(ctx);
    await withTargetClient(ctx, async (c) => {
      const ks = await prepareKeySync(c, job);
      await t.src.sql(`UPDATE b SET n = n * 1.0 WHERE id IN (3, 4, 5)`);
      expect(ks.oneStatement).toBe(true);
      await ks.run([['4', '4']]);
      await ks.run([['5', '5.0'], ['5', '5']]);
      await ks.run([['3', '3']]);
      await check('one-statement re-read batch');
      // As a stream carries an update 6 → 6.00 (old key, new row), and 7 → 7.0 → 7 (new key back to the old text).
      await t.src.sql(`UPDATE b SET n = 6.00 WHERE id = 6`);
      const r = await ks.applyKnown!([['6', '6.00', 'v6'], ['7', '7', 'v7b']], [['6', '6'], ['7', '7.0']]);
      expect(r.removed).toBe(0);
      await t.src.sql(`UPDATE b SET v = 'v7b' WHERE id = 7`);
      await check('replicated batch');
    });
  });

  // A user-managed target whose text key has a case-insensitive (nondeterministic) collation: the
  // source's 'abc' → 'ABC' is a key change there, and the same key in the target, while the flow's
  // tracking compares exactly. Before, the new key's row was taken for one you wrote and the old
  // one deleted: both rows were lost. Now such a key column is refused, named, before any row is
  // written (plan, apply, watch; the watch has installed its capture trigger by then, as it does
  // before every first catch-up).
  it('a user-managed target whose key column has a nondeterministic collation is refused', async () => {
    await t.tgt.sql(`CREATE COLLATION IF NOT EXISTS ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`);
    await t.src.sql(`CREATE TABLE ci (k text PRIMARY KEY, v text)`);
    await t.src.sql(`INSERT INTO ci VALUES ('abc', 'a'), ('def', 'd')`);
    await t.tgt.sql(`CREATE TABLE ci_copy (k text COLLATE ci PRIMARY KEY, v text)`);
    const ctx = t.ctx({ name: 'lkeqci', source: { table: 'ci', notification: {} }, target: { table: 'ci_copy', managedBy: 'user' } });
    const plan = await planFlow(ctx);
    expect(plan.blockers.map((b) => b.message).join()).toContain('target key column "k" of "public"."ci_copy" has the nondeterministic collation "ci"');
    await expect(applyFlow(ctx)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('nondeterministic collation "ci"') });
    const w = watch(ctx);
    try {
      const failed = await waitFor('the watch failed', () => w.statuses.find((st) => st.state === 'failed'));
      expect(failed.reason).toContain('nondeterministic collation "ci"');
    } finally {
      await w.stop();
    }
    expect((await t.tgt.sql(`SELECT count(*)::int AS n FROM ci_copy`)).rows[0].n).toBe('0');
    expect((await t.tgt.sql(`SELECT to_regclass($1) IS NULL AS none`, [tracking(ctx)])).rows[0].none).toBe('t');
  });

  // A source key with a case-insensitive (nondeterministic) collation, into a system-managed target
  // (created with the default collation, which tells 'abc' from 'ABC'): 'abc' → 'ABC' is the same
  // key in the source and two keys in the target. The trigger compares such key columns' text (in
  // collation "C"), so it reports the old key and the target's old row goes; before, it stayed.
  for (const mode of ['notification', 'replication'] as const) {
    it(`${mode}: a source key with a case-insensitive collation`, async () => {
      const name = `sci_${mode.slice(0, 4)}`;
      await t.src.sql(`CREATE COLLATION IF NOT EXISTS ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`);
      await t.src.sql(`CREATE TABLE ${name} (id int, k text COLLATE ci, v text, PRIMARY KEY (id, k))`);
      await t.src.sql(`INSERT INTO ${name} VALUES (1, 'abc', 'a'), (2, 'def', 'd'), (3, 'ghi', 'g')`);
      const ctx = t.ctx({ name: `lkeqsci_${mode}`, source: { table: name, [mode]: {} }, target: { table: `${name}_copy` } });
      let w = watch(ctx);
      try {
        await w.live();
        await same('loaded', ctx, name, 'id, k', 'v');
        await t.src.sql(`UPDATE ${name} SET k = 'ABC' WHERE k = 'abc'`);
        await t.src.sql(`UPDATE ${name} SET k = 'Def', v = 'd2' WHERE k = 'def'`);
        await same(`${mode}: after case changes of the key`, ctx, name, 'id, k', 'v');
        await w.stop();
        await t.src.sql(`UPDATE ${name} SET k = 'GHI' WHERE k = 'ghi'`);
        w = watch(ctx);
        await w.live();
        await same(`${mode}: after a case change while stopped`, ctx, name, 'id, k', 'v');
      } finally {
        await w.stop();
        if (mode === 'replication') await dropSlot(ctx);
      }
      expect((await verifyFlow(ctx)).equal).toBe(true);
    });
  }
});
