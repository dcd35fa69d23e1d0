import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { logicalNames } from '../../core/live';
import { applyFlow, planFlow } from '../../core/target';
import { createPool } from '../../core/connections/pool';
import { parseFlow } from '../../core/flow/load';
import type { FlowContext } from '../../core/target';
import { RAW_TYPES } from '../../core/connections/pool';
import { freshDatabase, serverUrl, withDatabase, type TestDatabase } from '../support/db';
import { rowsAsLines, waitForSameRows, watch } from '../support/live';

// A source database in LATIN1 (the server converts to the client's UTF8): accented keys and
// values, one character a byte on the source and two in UTF8, through the initial load (1 and 3
// streams) and both live capture modes. The target (UTF8) holds the same characters.
describe('a LATIN1 source database', () => {
  const name = `lat1_${randomBytes(4).toString('hex')}`;
  let url: string;
  let src: pg.Pool;
  let tgt: TestDatabase;
  const contexts: Array<{ close: () => Promise<void> }> = [];
  const ctxOf = (flowName: string, table: string, extra: Record<string, unknown> = {}, load?: { streams: number }): FlowContext => {
    const flow = parseFlow({ version: 1, name: flowName, source: { connection: { url }, table, filter: `v NOT LIKE 'skip%'`, ...extra }, target: { connection: { url: tgt.url }, table: `${table}_${flowName}` }, ...(load ? { load } : {}) } as never);
    const sourcePool = createPool(url, { max: 4 });
    const targetPool = createPool(tgt.url, { max: 1 });
    contexts.push({ close: async () => { await sourcePool.end(); await targetPool.end(); } });
    return { flow, sourcePool, targetPool, sourceUrl: url, targetUrl: tgt.url };
  };
  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: serverUrl() });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name}" ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`);
    } finally {
      await admin.end();
    }
    url = withDatabase(serverUrl(), name);
    src = new pg.Pool({ connectionString: url, types: RAW_TYPES });
    tgt = await freshDatabase('lat1t');
    expect((await src.query(`SHOW server_encoding`)).rows[0].server_encoding).toBe('LATIN1');
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await src?.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database() AND NOT active`).catch(() => {});
    await src?.end();
    await tgt?.drop();
    const admin = new pg.Client({ connectionString: serverUrl() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).finally(() => admin.end());
  });

  it('initial load, 1 and 3 streams, and live by trigger and by logical capture: the same characters', async () => {
    await src.query(`CREATE TABLE words (k text PRIMARY KEY, v text, n int)`);
    await src.query(`INSERT INTO words SELECT 'clé ' || g || ' ÿ', 'café à ' || g || repeat('é', g % 50) || E'\\tñ\\n', g FROM generate_series(1, 300) g`);
    await src.query(`INSERT INTO words VALUES ('skip é', 'skip é', 0)`);
    const cmp = `SELECT k, v, n FROM words WHERE v NOT LIKE 'skip%'`;
    for (const streams of [1, 3]) {
      const ctx = ctxOf(`load${streams}`, 'words', {}, { streams });
      await applyFlow(ctx);
      expect(await rowsAsLines(tgt.pool, `SELECT k, v, n FROM words_load${streams}`)).toEqual(await rowsAsLines(src, cmp));
      expect((await planFlow(ctx)).rows).toMatchObject({ insert: 0, update: 0, delete: 0 });
    }
    for (const mode of ['notification', 'replication'] as const) {
      const ctx = ctxOf(mode.slice(0, 4), 'words', { [mode]: {} });
      const w = watch(ctx);
      try {
        await w.live();
        await src.query(`INSERT INTO words VALUES ('nouvé ${mode}', 'ÿé¿?', 1)`);
        await src.query(`UPDATE words SET v = v || 'ô' WHERE n % 5 = 0`);
        await src.query(`UPDATE words SET k = k || 'ü' WHERE n % 7 = 0`);
        await src.query(`DELETE FROM words WHERE n % 11 = 0`);
        await waitForSameRows(`${mode}: live`, src, cmp, tgt.pool, `SELECT k, v, n FROM words_${mode.slice(0, 4)}`);
      } finally {
        await w.stop();
        if (mode === 'replication') await src.query(`SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [logicalNames(ctx.flow).slot]).catch(() => {});
      }
    }
  });
});
