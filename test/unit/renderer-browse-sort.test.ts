import { describe, expect, it } from 'vitest';
import { createBrowseStore, nextSort } from '../../renderer/src/stores/browse';
import { MAX_SORT_COLUMNS } from '../../core/api/contract';
import { fakeApi } from './renderer-fake-api';

const target = { connectionId: 'c1', schema: 'public', table: 'items' };

describe('browse store: multi-column sort', () => {
  it('plain click sorts by one column (asc → desc → key order); shift-click appends or flips in place', () => {
    expect(nextSort([], 'a', false)).toEqual([{ column: 'a', dir: 'asc' }]);
    expect(nextSort([{ column: 'a', dir: 'asc' }], 'a', false)).toEqual([{ column: 'a', dir: 'desc' }]);
    expect(nextSort([{ column: 'a', dir: 'desc' }], 'a', false)).toEqual([]);
    const two = nextSort(nextSort([{ column: 'a', dir: 'asc' }], 'b', true), 'c', true);
    expect(two).toEqual([{ column: 'a', dir: 'asc' }, { column: 'b', dir: 'asc' }, { column: 'c', dir: 'asc' }]);
    expect(nextSort(two, 'b', true)).toEqual([{ column: 'a', dir: 'asc' }, { column: 'b', dir: 'desc' }, { column: 'c', dir: 'asc' }]);
    expect(nextSort(nextSort(two, 'b', true), 'b', true)).toEqual(two);
    // a plain click on any column of a multi-sort resets to that one column
    expect(nextSort(two, 'b', false)).toEqual([{ column: 'b', dir: 'asc' }]);
    expect(nextSort(two, 'z', false)).toEqual([{ column: 'z', dir: 'asc' }]);
    // shift-click on nothing sorted starts the list
    expect(nextSort([], 'a', true)).toEqual([{ column: 'a', dir: 'asc' }]);
    const full = Array.from({ length: MAX_SORT_COLUMNS }, (_, i) => ({ column: `c${i}`, dir: 'asc' as const }));
    expect(nextSort(full, 'extra', true)).toBe(full);
  });

  it('sends the whole list to browse.rows and reloads from the first page on each change', async () => {
    const api = fakeApi(300);
    const s = createBrowseStore(api, { pageSize: 50, maxPages: 3 });
    await s.getState().open(target);
    await s.getState().loadNext();
    await s.getState().cycleSort('price');
    await s.getState().cycleSort('name', { add: true });
    await s.getState().cycleSort('name', { add: true });
    expect(s.getState().sort).toEqual([{ column: 'price', dir: 'asc' }, { column: 'name', dir: 'desc' }]);
    const rowCalls = api.calls.filter((c) => c.method === 'browse.rows').map((c) => c.input as { sort?: unknown; after?: unknown; direction?: string });
    const last = rowCalls[rowCalls.length - 1]!;
    expect(last.sort).toEqual([{ column: 'price', dir: 'asc' }, { column: 'name', dir: 'desc' }]);
    expect(last.after).toBeUndefined();
    expect(s.getState().firstIndex).toBe(0);
    expect(s.getState().pages).toHaveLength(1);
    // paging on keeps sending the list with the cursor
    await s.getState().loadNext();
    const next = api.calls.filter((c) => c.method === 'browse.rows').pop()!.input as { sort?: unknown; after?: unknown };
    expect(next.sort).toEqual([{ column: 'price', dir: 'asc' }, { column: 'name', dir: 'desc' }]);
    expect(next.after).toBeDefined();
    // go to a key clears it, and an unsorted request carries no sort at all
    await s.getState().goToKey(['10']);
    expect(s.getState().sort).toEqual([]);
    await s.getState().loadFirst();
    expect((api.calls.filter((c) => c.method === 'browse.rows').pop()!.input as { sort?: unknown }).sort).toBeUndefined();
  });
});
