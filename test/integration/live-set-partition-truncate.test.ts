import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { connectionResolver } from '../../core/flow/resolver';
import { openSet, parseSet, type SetContext } from '../../core/set';
import { watchSet } from '../../core/live';
import type { ListenerStatus } from '../../core/api/model';
import type { WatchHandle } from '../../core/live';
import { createRentalSchema, ORDER, rentalSet, tableDigest } from './set-fixture';
import { waitFor } from '../support/live';

// The set watcher captures partition TRUNCATEs too (issue 9 A), also of a partition attached while
// it watches: the same partition check as a single flow's watch.
describe('set watch: partition TRUNCATE and ATTACH of a partitioned member', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  let ctx: SetContext;
  let handle: WatchHandle;
  const same = () => waitFor('payment in the target = the source', async () =>
    JSON.stringify(await tableDigest(tgt, 'mirror.payment', ORDER.payment!)) === JSON.stringify(await tableDigest(src, 'public.payment', ORDER.payment!)));

  beforeAll(async () => {
    src = await freshDatabase('setps');
    tgt = await freshDatabase('setpt');
    await createRentalSchema(src);
    ctx = await openSet(parseSet(rentalSet(src.url, tgt.url)), connectionResolver());
    const statuses: ListenerStatus[] = [];
    handle = watchSet(ctx, { onStatus: (s) => statuses.push(s), partitionCheckMs: 100 });
    await waitFor('live', () => statuses.some((s) => s.state === 'live'));
  });
  afterAll(async () => {
    await handle?.stop();
    await ctx?.close();
    await src?.drop();
    await tgt?.drop();
  });

  it('a TRUNCATE of one partition, and one of a partition attached while watching, reach the target', async () => {
    await same();
    await src.sql(`TRUNCATE payment_2024`);
    await same();
    expect(Number((await tgt.sql(`SELECT count(*) AS n FROM mirror.payment WHERE payment_date < '2025-01-01'`)).rows[0].n)).toBe(0);
    await src.sql(`CREATE TABLE payment_2026 (LIKE payment INCLUDING ALL)`);
    await src.sql(`INSERT INTO payment_2026 SELECT 50000 + g, DATE '2026-02-01', 1, 1.5 FROM generate_series(1, 10) g`);
    await src.sql(`ALTER TABLE payment ATTACH PARTITION payment_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')`);
    await same();
    expect(Number((await tgt.sql(`SELECT count(*) AS n FROM mirror.payment WHERE payment_date >= '2026-01-01'`)).rows[0].n)).toBe(10);
    await waitFor('the TRUNCATE trigger on the attached partition', async () => (await src.sql(`SELECT 1 FROM pg_trigger WHERE tgrelid = 'payment_2026'::regclass AND tgname LIKE '%\\_r'`)).rowCount === 1);
    await src.sql(`TRUNCATE payment_2026`);
    await same();
  });
});
