import { describe, expect, it } from 'vitest';
import { TransactionBatches } from '../../core/live/tx-batches';
import type { CaptureMessage } from '../../core/live/payload';

const ins = (id: number, tx?: string): CaptureMessage => ({ op: 'insert', key: { id: String(id) }, ...(tx ? { tx } : {}) });
const keysOf = (b: ReturnType<TransactionBatches<string>['take']>, m: string) => b?.byMember.get(m)?.keys.map((k) => k.key.id);

describe('batches of whole source transactions', () => {
  it('hands out complete transactions only: the newest one after a round trip started after its last notification', () => {
    const t = new TransactionBatches<string>(() => ['id'], 1000);
    t.add('order', ins(1, '10'));
    t.add('line', ins(1, '10'));
    t.add('line', ins(2, '10'));
    expect(t.needsSync).toBe(true);
    expect(t.take(100)).toBeUndefined(); // tx 10 may still be arriving
    t.add('order', ins(2, '11')); // another transaction: 10 is complete
    const first = t.take(100)!;
    expect(first.transactions).toBe(1);
    expect(keysOf(first, 'order')).toEqual(['1']);
    expect(keysOf(first, 'line')).toEqual(['1', '2']);
    const mark = t.mark();
    t.add('line', ins(3, '11')); // arrived before the round trip's answer: part of 11, still open
    t.synced(mark);
    expect(t.needsSync).toBe(true);
    expect(t.take(100)).toBeUndefined();
    t.synced(t.mark());
    const second = t.take(100)!;
    expect(keysOf(second, 'order')).toEqual(['2']);
    expect(keysOf(second, 'line')).toEqual(['3']);
    expect(t.empty).toBe(true);
  });

  it('never splits a transaction: several fit in a batch, one larger than the batch goes whole and alone', () => {
    const t = new TransactionBatches<string>(() => ['id'], 100_000);
    for (let i = 0; i < 3; i++) t.add('a', ins(i, '1'));
    for (let i = 0; i < 3; i++) t.add('a', ins(100 + i, '2'));
    for (let i = 0; i < 50; i++) t.add('b', ins(i, '3'));
    t.add('a', ins(999, '4'));
    t.synced(t.mark());
    const one = t.take(10)!;
    expect(one.transactions).toBe(2);
    expect(keysOf(one, 'a')).toEqual(['0', '1', '2', '100', '101', '102']);
    const big = t.take(10)!;
    expect(big.transactions).toBe(1);
    expect(keysOf(big, 'b')).toHaveLength(50);
    expect(keysOf(t.take(10)!, 'a')).toEqual(['999']);
    expect(t.pendingKeys).toBe(0);
  });

  it('coalesces a key changed many times in one transaction, and keeps a key change\'s old key', () => {
    const t = new TransactionBatches<string>(() => ['id'], 1000);
    for (let i = 0; i < 20; i++) t.add('a', { op: 'update', key: { id: '1' }, tx: '5', ts: 100 + i });
    t.add('a', { op: 'update', key: { id: '9' }, oldKey: { id: '1' }, tx: '5' });
    t.synced(t.mark());
    const b = t.take(100)!.byMember.get('a')!;
    expect(b.keys.map((k) => [k.key.id, k.op, k.since])).toEqual([['1', 'update', 100], ['9', 'update', undefined]]);
  });

  it('a truncate in a transaction asks for the set\'s catch-up with that batch', () => {
    const t = new TransactionBatches<string>(() => ['id'], 1000);
    t.add('a', ins(1, '7'));
    t.add('b', { op: 'truncate', tx: '7', ts: 5 });
    t.synced(t.mark());
    const b = t.take(100)!;
    expect(b.rescan).toEqual({ reason: 'a truncate', since: 5 });
  });

  it('more keys than the bound: drops them and asks for one catch-up of the set (memory stays bounded)', () => {
    const t = new TransactionBatches<string>(() => ['id'], 100);
    for (let i = 0; i < 101; i++) t.add('a', { ...ins(i, '8'), ts: 1000 + i });
    expect(t.pendingKeys).toBe(0);
    for (let i = 101; i < 5000; i++) t.add('a', ins(i, '8')); // the rest of the transaction: not held
    expect(t.pendingKeys).toBe(0);
    expect(t.needsSync).toBe(false);
    const b = t.take(10)!;
    expect(b.byMember.size).toBe(0);
    // The dropped keys' transactions must arrive whole: the catch-up (every batch rescan) is ONE target transaction.
    // the dropped keys are not known: the rescan compares values (an ordinal alone could miss some)
    expect(b.rescan).toEqual({ reason: expect.stringContaining('more than 100 changed keys'), since: 1000, lostKeys: true });
    expect(t.empty).toBe(true);
  });

  it('a rescan requested while nothing is held; the oldest arrival of what is held', () => {
    const t = new TransactionBatches<string>(() => ['id'], 100);
    expect(t.oldestArrival).toBeUndefined();
    t.add('a', ins(1, '1'), 500);
    t.add('b', ins(1, '2'), 300);
    t.add('a', ins(2, '2'), 900);
    expect(t.oldestArrival).toBe(300);
    t.synced(t.mark());
    t.take(100);
    expect(t.oldestArrival).toBeUndefined();
    t.requestRescan('the partitions of the source table changed');
    expect(t.take(100)!.rescan).toEqual({ reason: 'the partitions of the source table changed', since: undefined });
  });

  it('notifications without a transaction id (a function installed before version 3) group by arrival', () => {
    const t = new TransactionBatches<string>(() => ['id'], 1000);
    t.add('a', ins(1));
    t.add('a', ins(2));
    t.add('a', ins(3, '12'));
    const b = t.take(100)!;
    expect(b.transactions).toBe(1);
    expect(keysOf(b, 'a')).toEqual(['1', '2']);
  });
});
