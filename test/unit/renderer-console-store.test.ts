import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../renderer/src/api/client';
import { ApiCallError } from '../../core/api/errors';
import { createConsoleStore, CONSOLE_MAX_PAGES } from '../../renderer/src/stores/console';
import { createStructureStore } from '../../renderer/src/stores/structure';
import { CONSOLE_PAGE_ROWS } from '../../core/api/contract.console';

// A result of `total` rows (`n` = 1..total) served by offset, like the engine's cursor.
function consoleApi(total: number) {
  const calls: Array<{ method: string; input: Record<string, unknown> }> = [];
  const page = (offset: number, limit: number) => {
    const rows = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => [String(offset + i + 1)]);
    const done = offset + rows.length >= total && rows.length < limit;
    return { rows, offset, done, rowCount: done ? total : null };
  };
  const api: ApiClient = {
    async call(method, input) {
      const i = input as Record<string, unknown>;
      calls.push({ method, input: i });
      if (method === 'console.completions') return {} as never;
      if (method === 'console.run') {
        if (String(i['sql']).startsWith('insert') && !i['allowWrites']) throw new ApiCallError('PERMISSION_DENIED', 'cannot execute INSERT in a read-only transaction', { readOnly: true });
        return { ...page(0, Number(i['limit'])), resultId: `r${calls.length}`, columns: [{ name: 'n', type: 'integer' }], command: 'SELECT', affected: null, durationMs: 1, readOnly: !i['allowWrites'], notices: [] } as never;
      }
      if (method === 'console.fetch') return page(Number(i['offset']), Number(i['limit'])) as never;
      if (method === 'query.cancel') return { cancelled: true } as never;
      throw new Error(`unexpected ${method}`);
    },
    onEvent: () => () => {},
  };
  return { api, calls };
}

function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
}

describe('console store', () => {
  it('runs read-only by default and asks before a write when writes are allowed', async () => {
    const { api, calls } = consoleApi(10);
    const s = createConsoleStore(api, memoryStorage());
    s.getState().open('c1');
    s.getState().setText('insert into t values (1)');
    await s.getState().request('run');
    expect(s.getState().error).toMatchObject({ readOnly: true });
    expect(calls.filter((c) => c.method === 'console.run')[0]!.input['allowWrites']).toBe(false);
    s.getState().setWrites(true);
    await s.getState().request('run');
    expect(s.getState().confirm).toEqual({ sql: 'insert into t values (1)' });
    expect(calls.filter((c) => c.method === 'console.run')).toHaveLength(1); // nothing ran yet
    await s.getState().confirmRun();
    expect(calls.filter((c) => c.method === 'console.run')[1]!.input['allowWrites']).toBe(true);
    expect(s.getState().confirm).toBeNull();
    // writes are per connection
    s.getState().open('c2');
    expect(s.getState().writes['c2']).toBeUndefined();
  });

  it('runs the selection when there is one, and EXPLAIN never asks', async () => {
    const { api, calls } = consoleApi(3);
    const s = createConsoleStore(api);
    s.getState().open('c1');
    s.getState().setWrites(true);
    s.getState().setText('select 1;\nselect 2');
    s.getState().setSelection('select 2');
    await s.getState().request('plan');
    expect(s.getState().confirm).toBeNull();
    expect(calls.find((c) => c.method === 'console.run')!.input).toMatchObject({ sql: 'select 2', explain: 'plan' });
  });

  it('keeps a bounded window of pages and shifts it both ways', async () => {
    const { api } = consoleApi(5000);
    const s = createConsoleStore(api);
    s.getState().open('c1');
    s.getState().setText('select n');
    await s.getState().request('run');
    expect(s.getState().rows).toHaveLength(CONSOLE_PAGE_ROWS);
    for (let i = 0; i < CONSOLE_MAX_PAGES + 1; i++) await s.getState().loadNext();
    const st = s.getState();
    expect(st.rows).toHaveLength(CONSOLE_MAX_PAGES * CONSOLE_PAGE_ROWS);
    expect(st.firstIndex).toBe(2 * CONSOLE_PAGE_ROWS);
    expect(st.rows[0]).toEqual([String(2 * CONSOLE_PAGE_ROWS + 1)]);
    expect(st.shift.rows).toBe(CONSOLE_PAGE_ROWS);
    await s.getState().loadPrev();
    expect(s.getState().firstIndex).toBe(CONSOLE_PAGE_ROWS);
    expect(s.getState().rows[0]).toEqual([String(CONSOLE_PAGE_ROWS + 1)]);
    expect(s.getState().rows).toHaveLength(CONSOLE_MAX_PAGES * CONSOLE_PAGE_ROWS);
    // contiguous: every row follows the one before it
    const ns = s.getState().rows.map((r) => Number(r[0]));
    expect(ns.every((n, i) => i === 0 || n === ns[i - 1]! + 1)).toBe(true);
  });

  it('knows the total once the last row was read', async () => {
    const { api } = consoleApi(450);
    const s = createConsoleStore(api);
    s.getState().open('c1');
    s.getState().setText('select n');
    await s.getState().request('run');
    expect(s.getState().exact).toBeNull();
    await s.getState().loadNext();
    await s.getState().loadNext();
    expect(s.getState().exact).toBe(450);
    expect(s.getState().nextCursor).toBeNull();
  });

  it('keeps a history per connection, newest first, without duplicates, in storage', async () => {
    const { api } = consoleApi(1);
    const storage = memoryStorage();
    const s = createConsoleStore(api, storage);
    s.getState().open('c1');
    for (const q of ['select 1', 'select 2', 'select 1']) {
      s.getState().setText(q);
      await s.getState().request('run');
    }
    expect(s.getState().history.map((h) => h.sql)).toEqual(['select 1', 'select 2']);
    s.getState().open('c2');
    expect(s.getState().history).toEqual([]);
    const again = createConsoleStore(api, storage);
    again.getState().open('c1');
    expect(again.getState().history.map((h) => h.sql)).toEqual(['select 1', 'select 2']);
  });
});

describe('structure store', () => {
  it('loads a table once, serves it from the cache, reloads on demand, and ignores a late answer', async () => {
    let n = 0;
    const api: ApiClient = {
      async call(method, input) {
        n++;
        return { name: (input as { table: string }).table, loaded: n } as never;
      },
      onEvent: () => () => {},
    };
    const s = createStructureStore(api);
    const a = { connectionId: 'c', schema: 'public', table: 'a' };
    await s.getState().load(a);
    await s.getState().load(a);
    expect(n).toBe(1);
    await s.getState().load(a, true);
    expect(n).toBe(2);
    const slow = s.getState().load({ ...a, table: 'b' });
    await s.getState().load(a);
    await slow;
    expect(s.getState().data).toMatchObject({ name: 'a' });
  });
});
