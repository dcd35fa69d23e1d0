// The filter editor validates as you type: debounced, only the newest answer counts, the error
// keeps PostgreSQL's position, and applying hands only a valid filter to the grid.
import { describe, expect, it, vi } from 'vitest';
import { createFilterStore } from '../../renderer/src/stores/filter';
import { fakeApi } from './renderer-fake-api';

const target = { connectionId: 'c1', schema: 'public', table: 'items' };
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

function validatingApi() {
  const api = fakeApi(10);
  api.handlers['filter.validate'] = ((input: { filter: string }) => {
    const bad = input.filter.indexOf('pricee');
    if (bad >= 0) return { valid: false, message: 'column "pricee" does not exist', position: bad + 1, sqlstate: '42703' };
    return { valid: true, count: input.filter.length, countTimedOut: false };
  }) as never;
  return api;
}

describe('filter validation', () => {
  it('waits for a pause in typing, then validates once', async () => {
    const api = validatingApi();
    const f = createFilterStore(api, { debounceMs: 20 });
    f.getState().setTarget(target);
    for (const t of ['p', 'pr', 'pri', 'price > 1']) f.getState().setText(t);
    expect(f.getState().status).toBe('pending');
    await wait(60);
    const validations = api.calls.filter((c) => c.method === 'filter.validate');
    expect(validations).toHaveLength(1);
    expect(validations[0]!.input).toMatchObject({ filter: 'price > 1', count: true, schema: 'public', table: 'items' });
    expect(f.getState()).toMatchObject({ status: 'valid', count: 9 });
  });

  it('shows the server message and the 1-based position of the error', async () => {
    const api = validatingApi();
    const f = createFilterStore(api, { debounceMs: 1 });
    f.getState().setTarget(target);
    f.getState().setText('qty > 5 and pricee < 3');
    await f.getState().validateNow();
    expect(f.getState()).toMatchObject({ status: 'invalid', message: 'column "pricee" does not exist', position: 13 });
  });

  it('ignores an answer about text that has changed since', async () => {
    const api = validatingApi();
    const f = createFilterStore(api, { debounceMs: 1 });
    f.getState().setTarget(target);
    f.getState().setText('pricee > 1');
    const held = api.hold('filter.validate');
    const old = f.getState().validateNow();
    f.getState().setText('price > 1');
    await f.getState().validateNow();
    held.release();
    await old;
    expect(f.getState()).toMatchObject({ status: 'valid', text: 'price > 1' });
    // the superseded validation's count was cancelled on the server
    expect(api.calls.some((c) => c.method === 'query.cancel')).toBe(true);
  });

  it('applies only a valid filter, and an empty one clears', async () => {
    const api = validatingApi();
    const f = createFilterStore(api, { debounceMs: 1 });
    const applied = vi.fn();
    f.getState().onApply(applied);
    f.getState().setTarget(target);
    f.getState().setText('pricee > 1');
    expect(await f.getState().apply()).toBe(false);
    expect(applied).not.toHaveBeenCalled();
    f.getState().setText('price > 1');
    expect(await f.getState().apply()).toBe(true);
    expect(applied).toHaveBeenLastCalledWith('price > 1');
    expect(f.getState().applied).toBe('price > 1');
    await f.getState().clear();
    expect(applied).toHaveBeenLastCalledWith(null);
    expect(f.getState().status).toBe('empty');
  });
});
