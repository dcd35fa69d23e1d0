// One screen, one count: the grid takes the filter editor's exact count for the filter it applies,
// labels an estimate as the planner's, and says when live changes arrived since a count.
import { describe, expect, it } from 'vitest';
import { createBrowseStore } from '../../renderer/src/stores/browse';
import { createFilterStore } from '../../renderer/src/stores/filter';
import { countText } from '../../renderer/src/lib/grid-text';
import { fakeApi } from './renderer-fake-api';

const target = { connectionId: 'c1', schema: 'public', table: 'items' };

describe('counts on the table screen', () => {
  it("a filter's known matching count is the grid's count, not the table's estimate beside it", async () => {
    const api = fakeApi(1000);
    const s = createBrowseStore(api, { pageSize: 50 });
    await s.getState().open(target);
    expect(countText(s.getState())).toBe('~1.0k rows (planner estimate)');
    await s.getState().setFilter('price > 50', 451);
    expect(s.getState().exact).toBe(451);
    expect(countText(s.getState())).toBe('451 matching rows');
    // no known count: the estimate is labelled as the estimate of the matching rows
    await s.getState().setFilter('price > 60', null);
    expect(countText(s.getState())).toBe('~1.0k matching rows (planner estimate)');
    // clearing the filter never keeps a matching count as the table's
    await s.getState().setFilter(null, 451);
    expect(s.getState().exact).toBeNull();
  });

  it('live changes mark an exact count stale until it is counted again', async () => {
    const api = fakeApi(100);
    const s = createBrowseStore(api, { pageSize: 50, liveDelayMs: 1 });
    await s.getState().open(target);
    await s.getState().countExact();
    expect(countText(s.getState())).toBe('100 rows');
    api.rows.push(['101', 'item 101', '1.00']);
    s.getState().liveChange([{ id: '101' }]);
    expect(s.getState().countStale).toBe(true);
    expect(countText(s.getState())).toBe('100 rows (before live changes)');
    await s.getState().countExact();
    expect(s.getState().countStale).toBe(false);
    expect(countText(s.getState())).toBe('101 rows');
  });

  it('a quick search drops a count taken without it', async () => {
    const api = fakeApi(100);
    const s = createBrowseStore(api, { pageSize: 50 });
    await s.getState().open(target);
    await s.getState().countExact();
    expect(s.getState().exact).toBe(100);
    await s.getState().setSearch('item 1');
    expect(s.getState().exact).toBeNull();
    expect(api.calls.filter((c) => c.method === 'browse.count').at(-1)!.input).toMatchObject({ search: 'item 1', exact: false });
  });

  it("the filter editor's matching count is marked stale by live changes and refreshed by validating again", async () => {
    const api = fakeApi(10);
    let n = 451;
    api.handlers['filter.validate'] = (() => ({ valid: true, count: n })) as never;
    const f = createFilterStore(api, { debounceMs: 1 });
    f.getState().setTarget(target, 'price > 50');
    await f.getState().validateNow();
    expect(f.getState().count).toBe(451);
    f.getState().markStale();
    expect(f.getState().countStale).toBe(true);
    n = 452;
    await f.getState().validateNow();
    expect(f.getState()).toMatchObject({ count: 452, countStale: false });
  });
});
