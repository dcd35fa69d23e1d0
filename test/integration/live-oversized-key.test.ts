import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pair } from './target-fixture';
import { watchedFlow, type WatchedFlow } from './live-fixture';
import { waitForSameRows, waitFor, type Watching } from '../support/live';

// A key too long for an 8000-byte NOTIFY payload: the user's write succeeds, the trigger asks for a
// rescan, and the incremental scan brings the row across.
describe('watch with a key too long for a notification', () => {
  let t: Pair;
  let w: Watching;

  let f: WatchedFlow;
  beforeAll(async () => {
    f = await watchedFlow('live_bigkey', [
      `CREATE TABLE docs (path text PRIMARY KEY, body text)`,
    ], { name: 'live_bigkey', source: { table: 'docs', notification: {} }, target: { table: 'docs' } });
    ({ t, w } = f);
  });
  afterAll(async () => { await f?.close(); });

  it('rescans, and the row arrives', async () => {
    const path = '/'.concat('segment/'.repeat(1200)); // 9.6 kB
    await t.src.sql(`INSERT INTO docs VALUES ($1, 'long'), ('/short', 'short')`, [path]);
    const rows = await waitForSameRows('target = source', t.src.pool, `SELECT md5(path) AS p, body FROM docs`, t.tgt.pool, `SELECT md5(path) AS p, body FROM docs`);
    expect(rows).toHaveLength(2);
    expect(await waitFor('rescan event', () => w.events.find((e) => e.op === 'rescan'))).toMatchObject({ outcome: 'applied', key: {} });
    await t.src.sql(`UPDATE docs SET body = 'changed' WHERE path = $1`, [path]);
    await waitFor('the update', async () => (await t.tgt.sql(`SELECT body FROM docs WHERE path = $1`, [path])).rows[0]?.body === 'changed');
  });
});
