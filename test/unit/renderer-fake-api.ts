/**
 * An in-memory ApiClient for driving the renderer's stores in unit tests: a table of rows with a
 * bigint-like text key and keyset semantics like the engine's (sort value, then key; cursors are
 * the edge row's values). It stands in for the engine only where the store's own logic is under
 * test; the real path (browser mode against PostgreSQL) is the e2e suite's.
 */
import type { ApiClient } from '../../renderer/src/api/client';
import { ApiCallError } from '../../core/api/errors';
import { sortList } from '../../core/api/contract';
import type { ApiEvent, MethodInput, MethodName, MethodOutput } from '../../renderer/src/api/types';

type Row = [string, string, string]; // id, name, price

export interface FakeApi extends ApiClient {
  calls: Array<{ method: string; input: unknown }>;
  rows: Row[];
  /** Per-method override; return undefined to fall through to the default behaviour. */
  handlers: Partial<Record<MethodName, (input: never) => unknown>>;
  emit(e: ApiEvent): void;
  /** Holds the next call of a method until released. */
  hold(method: MethodName): { release(): void };
}

export function fakeApi(n = 1000): FakeApi {
  const rows: Row[] = Array.from({ length: n }, (_, i) => [String(i + 1), `item ${i + 1}`, ((i * 37) % 100).toFixed(2)]);
  const subs = new Set<(e: ApiEvent) => void>();
  const holds = new Map<string, Promise<void>>();
  const api: FakeApi = {
    calls: [],
    rows,
    handlers: {},
    emit: (e) => subs.forEach((cb) => cb(e)),
    hold(method) {
      let release!: () => void;
      holds.set(method, new Promise<void>((r) => (release = r)));
      return { release: () => release() };
    },
    onEvent(cb) {
      subs.add(cb);
      return () => subs.delete(cb);
    },
    async call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
      api.calls.push({ method, input });
      const h = holds.get(method);
      if (h) {
        holds.delete(method);
        await h;
      }
      const custom = api.handlers[method];
      if (custom) {
        const r = await (custom as (i: unknown) => unknown)(input);
        if (r !== undefined) return r as MethodOutput<M>;
      }
      if (method === 'browse.rows') return browse(api.rows, input as MethodInput<'browse.rows'>) as MethodOutput<M>;
      if (method === 'browse.count') return { count: api.rows.length, exact: (input as { exact?: boolean }).exact ?? false, source: 'count' } as MethodOutput<M>;
      if (method === 'query.cancel') return { cancelled: true } as MethodOutput<M>;
      throw new ApiCallError('INTERNAL', `fake api: no handler for ${method}`);
    },
  };
  return api;
}

function browse(all: Row[], input: MethodInput<'browse.rows'>): MethodOutput<'browse.rows'> {
  const limit = input.limit ?? 200;
  // The fake sorts by the first sort column only (the engine's multi-column order is tested against PostgreSQL).
  const s0 = sortList(input.sort)[0];
  const sortIdx = s0 ? (s0.column === 'price' ? 2 : s0.column === 'name' ? 1 : 0) : null;
  const desc = s0?.dir === 'desc';
  const keyOf = (r: Row): Array<string | number> => (sortIdx === null ? [Number(r[0])] : [sortIdx === 1 ? r[1] : Number(r[sortIdx]), Number(r[0])]);
  const cmp = (a: Array<string | number>, b: Array<string | number>) => {
    for (let i = 0; i < a.length; i++) {
      if (a[i]! < b[i]!) return desc ? 1 : -1;
      if (a[i]! > b[i]!) return desc ? -1 : 1;
    }
    return 0;
  };
  const sorted = [...all].sort((a, b) => cmp(keyOf(a), keyOf(b)));
  const cur = (c: Array<string | null>) => c.map((x, i) => (i === c.length - 1 || sortIdx !== 1 ? Number(x) : (x as string)));
  let page: Row[];
  let start: number;
  if (input.direction === 'last') {
    start = Math.max(0, sorted.length - limit);
    page = sorted.slice(start);
  } else if (input.direction === 'backward' && input.before) {
    const b = cur(input.before);
    const end = sorted.findIndex((r) => cmp(keyOf(r), b) >= 0);
    const e = end < 0 ? sorted.length : end;
    start = Math.max(0, e - limit);
    page = sorted.slice(start, e);
  } else {
    const a = input.after ? cur(input.after) : null;
    start = a ? sorted.findIndex((r) => cmp(keyOf(r), a) > 0) : 0;
    if (start < 0) start = sorted.length;
    page = sorted.slice(start, start + limit);
  }
  const cursorOf = (r: Row) => (sortIdx === null ? [r[0]] : [r[sortIdx]!, r[0]]);
  const end = start + page.length;
  return {
    columns: [
      { name: 'id', type: 'bigint', keyPosition: 1 },
      { name: 'name', type: 'text', keyPosition: null },
      { name: 'price', type: 'numeric(12,2)', keyPosition: null },
    ],
    rows: page.map((r) => [...r]),
    keyColumns: ['id'],
    keys: page.map((r) => [r[0]]),
    nextCursor: end < sorted.length && page.length ? cursorOf(page[page.length - 1]!) : null,
    prevCursor: start > 0 && page.length ? cursorOf(page[0]!) : null,
    orderBy: sortIdx === null ? '"id"' : `"${s0!.column}" ${desc ? 'desc' : 'asc'}, "id"`,
    truncated: [],
  };
}
