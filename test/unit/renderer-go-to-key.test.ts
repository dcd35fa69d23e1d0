// Issue 11 leftovers on the table screen: after "go to key" the rows are numbered from the count of
// rows before the key (the engine counts it in the page's snapshot), or the footer says why not;
// a quick search is counted like the rows it shows, so the toolbar and the Export menu quote one
// number (countText) for the rows an export covers.
import { describe, expect, it } from 'vitest';
import { createBrowseStore } from '../../renderer/src/stores/browse';
import { createFilterStore } from '../../renderer/src/stores/filter';
import { countText, rowNumberOf, viewRangeText } from '../../renderer/src/lib/grid-text';
import type { MethodInput } from '../../renderer/src/api/types';
import { fakeApi } from './renderer-fake-api';

const target = { connectionId: 'c1', schema: 'public', table: 'items' };

/** The fake engine's go-to-key: rows from the key on, with the count before it (or null: not counted in time). */
function withGoToKey(api: ReturnType<typeof fakeApi>, counted: boolean) {
  api.handlers['browse.rows'] = ((input: MethodInput<'browse.rows'>) => {
    if (!input.atKey) return undefined;
    const at = api.rows.findIndex((r) => Number(r[0]) >= Number(input.atKey![0]));
    const page = api.rows.slice(at, at + (input.limit ?? 200));
    return {
      columns: [{ name: 'id', type: 'bigint', keyPosition: 1 }, { name: 'name', type: 'text', keyPosition: null }, { name: 'price', type: 'numeric(12,2)', keyPosition: null }],
      rows: page.map((r) => [...r]), keyColumns: ['id'], keys: page.map((r) => [r[0]]),
      nextCursor: at + page.length < api.rows.length ? [page[page.length - 1]![0]] : null,
      prevCursor: at > 0 ? [page[0]![0]] : null,
      orderBy: '"id"', truncated: [], rowsBefore: counted ? at : null,
    };
  }) as never;
}

describe('go to key', () => {
  it('numbers the rows from the count of rows before the key, and keeps numbering while paging back', async () => {
    const api = fakeApi(1000);
    withGoToKey(api, true);
    const s = createBrowseStore(api, { pageSize: 50 });
    await s.getState().open(target);
    await s.getState().goToKey(['600']);
    const b = s.getState();
    expect(b.rows[0]![0]).toBe('600');
    expect(rowNumberOf(0, b)).toBe(600);
    expect(viewRangeText(0, 9, b)).toBe('rows 600–609 in view');
    expect(b.unnumbered).toBeNull();
    await s.getState().loadPrev();
    expect(s.getState().rows[0]![0]).toBe('550');
    expect(rowNumberOf(0, s.getState())).toBe(550);
  });

  it('says why the rows are unnumbered when the count took too long, until paged to an edge', async () => {
    const api = fakeApi(1000);
    withGoToKey(api, false);
    const s = createBrowseStore(api, { pageSize: 50 });
    await s.getState().open(target);
    await s.getState().goToKey(['600']);
    expect(rowNumberOf(0, s.getState())).toBeNull();
    expect(s.getState().unnumbered).toBe('not numbered: counting the rows before this key took over 1 s');
    await s.getState().loadFirst();
    expect(s.getState().unnumbered).toBeNull();
    expect(rowNumberOf(0, s.getState())).toBe(1);
  });
});

describe('the count of a quick search', () => {
  it('is asked with the search, and labelled as matching rows (the toolbar and the Export menu say the same)', async () => {
    const api = fakeApi(1000);
    api.handlers['browse.count'] = ((input: MethodInput<'browse.count'>) => (input.search ? { count: 12, exact: input.exact, source: input.exact ? 'count' : 'explain' } : undefined)) as never;
    const s = createBrowseStore(api, { pageSize: 50 });
    await s.getState().open(target);
    expect(countText(s.getState())).toBe('~1.0k rows (planner estimate)');
    await s.getState().setSearch('item 1');
    const asked = api.calls.filter((c) => c.method === 'browse.count').at(-1)!.input as MethodInput<'browse.count'>;
    expect(asked).toMatchObject({ search: 'item 1', searchColumns: ['id', 'name', 'price'] });
    expect(countText(s.getState())).toBe('~12 matching rows (planner estimate)');
    await s.getState().countExact();
    expect(countText(s.getState())).toBe('12 matching rows');
  });

  it("cleared, goes back to the filter editor's exact count of the filter still applied (not an estimate beside it)", async () => {
    const api = fakeApi(1000);
    const s = createBrowseStore(api, { pageSize: 50 });
    const f = createFilterStore(api, { debounceMs: 0 });
    api.handlers['filter.validate'] = (() => ({ valid: true, count: 451, countTimedOut: false })) as never;
    await s.getState().open(target);
    f.getState().setTarget(target, 'price > 50');
    await f.getState().validateNow();
    await s.getState().setFilter('price > 50', f.getState().countOf('price > 50'));
    expect(countText(s.getState())).toBe('451 matching rows');
    await s.getState().setSearch('item', f.getState().countOf(s.getState().filter));
    expect(s.getState().exact).toBeNull();
    await s.getState().setSearch('', f.getState().countOf(s.getState().filter));
    expect(countText(s.getState())).toBe('451 matching rows');
    // the editor's count is of its text: edited since, it is not the applied filter's count
    f.getState().setText('price > 60');
    expect(f.getState().countOf('price > 50')).toBeNull();
  });
});

