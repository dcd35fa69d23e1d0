import { describe, expect, it } from 'vitest';
import { Batcher } from '../../core/live/batcher';

describe('batching notified keys', () => {
  it('coalesces per key: last operation wins, latency starts at the oldest change', () => {
    const b = new Batcher(['id']);
    b.add({ op: 'insert', key: { id: '1' }, ts: 100 });
    b.add({ op: 'update', key: { id: '2' }, ts: 101 });
    b.add({ op: 'delete', key: { id: '1' }, ts: 105 });
    expect(b.size).toBe(2);
    const batch = b.take();
    expect(batch.keys).toEqual([
      { values: ['1'], key: { id: '1' }, op: 'delete', since: 100 },
      { values: ['2'], key: { id: '2' }, op: 'update', since: 101 },
    ]);
    expect(batch.rescan).toBeUndefined();
    expect(b.empty).toBe(true);
  });

  it('takes at most the batch size, oldest keys first, leaving the rest pending', () => {
    const b = new Batcher(['id']);
    for (let i = 0; i < 5; i++) b.add({ op: 'insert', key: { id: String(i) } });
    b.add({ op: 'truncate' });
    const first = b.take(3);
    expect(first.keys.map((k) => k.values[0])).toEqual(['0', '1', '2']);
    expect(first.rescan?.op).toBe('truncate');
    expect(b.size).toBe(2);
    expect(b.oldestArrival).toBeDefined();
    expect(b.take(3).keys.map((k) => k.values[0])).toEqual(['3', '4']);
    expect(b.empty).toBe(true);
  });

  it('re-reads both keys of a key change', () => {
    const b = new Batcher(['a', 'b']);
    b.add({ op: 'update', key: { a: '1', b: '2' }, oldKey: { a: '1', b: '1' }, ts: 7 });
    expect(b.take().keys.map((k) => k.values)).toEqual([['1', '1'], ['1', '2']]);
  });

  it('tells a NULL key part from the text "null"', () => {
    const b = new Batcher(['id']);
    b.add({ op: 'insert', key: { id: null } });
    b.add({ op: 'insert', key: { id: 'null' } });
    expect(b.size).toBe(2);
  });

  it('carries a rescan request, truncate taking precedence, from the oldest time', () => {
    const b = new Batcher(['id']);
    b.add({ op: 'rescan', ts: 50, reason: 'x' }, 1000);
    b.add({ op: 'truncate', ts: 40 }, 1001);
    b.add({ op: 'rescan', ts: 60 }, 1002);
    expect(b.empty).toBe(false);
    expect(b.size).toBe(0);
    expect(b.oldestArrival).toBe(1000);
    // the hints carried no keys: the rescan must compare values
    expect(b.take().rescan).toEqual({ op: 'truncate', since: 40, reason: 'x', lostKeys: true });
    expect(b.oldestArrival).toBeUndefined();
  });
});

describe('a truncate alone is no lost key', () => {
  it('a rescan for a truncate does not ask to compare values', () => {
    const b = new Batcher(['id']);
    b.add({ op: 'truncate', ts: 40 }, 1001);
    expect(b.take().rescan).toEqual({ op: 'truncate', since: 40 });
  });
});
