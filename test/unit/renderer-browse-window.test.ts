// The browse store keeps a bounded window of keyset pages: memory stays flat however far one
// scrolls, rows stay contiguous across page drops, and the view is told how far to shift.
import { describe, expect, it } from 'vitest';
import { createBrowseStore } from '../../renderer/src/stores/browse';
import { fakeApi } from './renderer-fake-api';

const target = { connectionId: 'c1', schema: 'public', table: 'items' };
const ids = (rows: Array<Array<string | null>>) => rows.map((r) => Number(r[0]));
const contiguous = (xs: number[]) => xs.every((x, i) => i === 0 || x === xs[i - 1]! + 1);

describe('browse window', () => {
  it('opens on the first page with an estimate', async () => {
    const api = fakeApi(1000);
    const s = createBrowseStore(api, { pageSize: 50, maxPages: 3 });
    await s.getState().open(target);
    const st = s.getState();
    expect(ids(st.rows)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(st.firstIndex).toBe(0);
    expect(st.prevCursor).toBeNull();
    expect(st.estimate).toBe(1000);
    expect(st.columns.map((c) => c.name)).toEqual(['id', 'name', 'price']);
  });

  it('never holds more than maxPages pages while scrolling forward, and reports each drop', async () => {
    const api = fakeApi(1000);
    const s = createBrowseStore(api, { pageSize: 50, maxPages: 3 });
    await s.getState().open(target);
    const shifts: number[] = [];
    for (let i = 0; i < 10; i++) {
      const before = s.getState().shift.seq;
      await s.getState().loadNext();
      if (s.getState().shift.seq !== before) shifts.push(s.getState().shift.rows);
      expect(s.getState().rows.length).toBeLessThanOrEqual(150);
      expect(contiguous(ids(s.getState().rows))).toBe(true);
    }
    const st = s.getState();
    expect(ids(st.rows)[0]).toBe(401);
    expect(ids(st.rows).at(-1)).toBe(550);
    expect(st.firstIndex).toBe(400);
    expect(shifts).toEqual(Array(8).fill(50));
    // keyset only: every forward call after the first carried the previous edge as `after`
    const rowCalls = api.calls.filter((c) => c.method === 'browse.rows').map((c) => c.input as { after?: unknown; direction?: string });
    expect(rowCalls.slice(1).every((c) => c.direction === 'forward' && Array.isArray(c.after))).toBe(true);
  });

  it('scrolls back over dropped pages with the cursors the server gave', async () => {
    const api = fakeApi(1000);
    const s = createBrowseStore(api, { pageSize: 50, maxPages: 3 });
    await s.getState().open(target);
    for (let i = 0; i < 5; i++) await s.getState().loadNext();
    expect(ids(s.getState().rows)[0]).toBe(151);
    await s.getState().loadPrev();
    const st = s.getState();
    expect(ids(st.rows)[0]).toBe(101);
    expect(ids(st.rows).at(-1)).toBe(250);
    expect(contiguous(ids(st.rows))).toBe(true);
    expect(st.shift.rows).toBe(-50);
    expect(st.firstIndex).toBe(100);
    // and forward again from the trimmed end continues exactly after it
    await s.getState().loadNext();
    expect(contiguous(ids(s.getState().rows))).toBe(true);
    expect(ids(s.getState().rows).at(-1)).toBe(300);
  });

  it('jumps to the end without walking the pages between', async () => {
    const api = fakeApi(1000);
    const s = createBrowseStore(api, { pageSize: 50, maxPages: 3 });
    await s.getState().open(target);
    const before = api.calls.length;
    await s.getState().loadLast();
    const st = s.getState();
    expect(api.calls.length - before).toBe(1);
    expect(ids(st.rows).at(-1)).toBe(1000);
    expect(st.nextCursor).toBeNull();
    expect(st.fromEnd).toBe(0);
    expect(st.firstIndex).toBeNull();
    expect(st.scrollTo.where).toBe('bottom');
    await s.getState().loadPrev();
    expect(ids(s.getState().rows)[0]).toBe(901);
    expect(contiguous(ids(s.getState().rows))).toBe(true);
  });

  it('cycles sort asc → desc → key order, reloading from the first page each time', async () => {
    const api = fakeApi(300);
    const s = createBrowseStore(api, { pageSize: 50, maxPages: 3 });
    await s.getState().open(target);
    await s.getState().cycleSort('price');
    expect(s.getState().sort).toEqual([{ column: 'price', dir: 'asc' }]);
    const prices = s.getState().rows.map((r) => Number(r[2]));
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
    await s.getState().cycleSort('price');
    expect(s.getState().sort).toEqual([{ column: 'price', dir: 'desc' }]);
    expect(Number(s.getState().rows[0]![2])).toBe(99);
    await s.getState().cycleSort('price');
    expect(s.getState().sort).toEqual([]);
    expect(ids(s.getState().rows)[0]).toBe(1);
  });

  it('drops the answer to a request that a newer one superseded', async () => {
    const api = fakeApi(300);
    const s = createBrowseStore(api, { pageSize: 50 });
    await s.getState().open(target);
    const held = api.hold('browse.rows');
    const slow = s.getState().loadLast();
    const fast = s.getState().setSort([{ column: 'price', dir: 'desc' }]);
    held.release();
    await Promise.all([slow, fast]);
    expect(s.getState().sort).toEqual([{ column: 'price', dir: 'desc' }]);
    expect(Number(s.getState().rows[0]![2])).toBe(99);
    expect(s.getState().firstIndex).toBe(0);
  });

  it('cancels a long count through query.cancel with its request id', async () => {
    const api = fakeApi(300);
    const s = createBrowseStore(api);
    await s.getState().open(target);
    const held = api.hold('browse.count');
    const counting = s.getState().countExact();
    expect(s.getState().counting).toBe(true);
    const id = s.getState().countRequestId;
    await s.getState().cancel();
    held.release();
    await counting;
    expect(api.calls.find((c) => c.method === 'query.cancel')?.input).toEqual({ requestId: id });
  });

  it('flashes rows named by live changes after re-reading the window', async () => {
    const api = fakeApi(300);
    const s = createBrowseStore(api, { pageSize: 50, liveDelayMs: 5 });
    await s.getState().open(target);
    api.rows[2]![1] = 'changed live';
    s.getState().liveChange([{ id: '3' }, { id: '999999' }]);
    await new Promise((r) => setTimeout(r, 40));
    const st = s.getState();
    expect(st.rows[2]![1]).toBe('changed live');
    expect(Object.keys(st.flash)).toEqual(['3']);
  });

  it('asks for cut cells and reads a cut one whole by its key', async () => {
    const api = fakeApi(10);
    const long = 'x'.repeat(5000);
    api.rows[1]![1] = long;
    const plain = api.handlers;
    plain['browse.rows'] = ((input: { maxCellChars?: number }) => {
      expect(input.maxCellChars).toBeGreaterThan(0);
      return undefined; // default rows, then cut below
    }) as never;
    plain['browse.cell'] = ((input: { column: string; key: Array<string | null> }) => ({ value: input.column === 'name' && input.key[0] === '2' ? long : null })) as never;
    const s = createBrowseStore(api);
    await s.getState().open(target);
    // the server cut row 1's name: say so the way the contract does
    s.setState({ cut: { [s.getState().rowKeys[1]!]: [1] }, rows: s.getState().rows.map((r, i) => (i === 1 ? [r[0]!, long.slice(0, 2000), r[2]!] : r)) });
    expect(await s.getState().fullCell(1, 1)).toBe(long);
    expect(await s.getState().fullCell(0, 1)).toBe('item 1');
    expect(api.calls.filter((c) => c.method === 'browse.cell')).toHaveLength(1);
  });
});
