/**
 * Batches of whole source transactions, for the set watcher (issue 10: "a source transaction that
 * changed an order and its lines becomes one target transaction") and the single-flow watch
 * (watch.ts: one member), so both keep to one rule.
 *
 * Each capture notification carries its source transaction's id (`tx`, capture version 3).
 * PostgreSQL queues a transaction's notifications contiguously at commit and a listening backend
 * sends them in commit order, so the notifications of one transaction arrive together and a
 * notification of another transaction means the one before it is complete. The newest
 * transaction's end is proven by a round trip on the listening connection (Listener.sync): once
 * its answer arrives, everything the server sent before it has arrived too. `take()` hands out
 * complete transactions only, whole, never split, as many as fit in a batch.
 *
 * Memory holds keys only, coalesced per member. When more keys than `maxPendingKeys` are pending
 * (one huge transaction, or a backlog), the keys are dropped and a rescan is requested instead: the
 * catch-up re-reads everything, and the source transactions that were notified are all committed
 * already, so it contains them whole. Whoever runs a batch's rescan (this one, a truncate's, a
 * partition change's) runs it as ONE target transaction and applies the batch's keys with it: it
 * re-reads after all of them committed. Applying the keys first, on their own, would split a
 * source transaction that also truncated (the set's catch-up, and the single flow's with
 * `oneTransaction`; a reconnect's catch-up is the one allowed to go in several).
 */
import { Batcher, type Batch } from './batcher';
import type { CaptureMessage } from './payload';

/** Keys a watcher holds at most (set and single flow); past it they are dropped for one catch-up in one transaction. */
export const MAX_PENDING_KEYS = 200_000;

interface Group<M> {
  /** The source transaction (undefined: a function without `tx`, i.e. installed before version 3). */
  tx: string | undefined;
  /** Sequence number of its last notification. */
  last: number;
  keys: number;
  byMember: Map<M, Batcher>;
}

export interface TransactionBatch<M> {
  /** Per member, the keys of the batch (coalesced across its transactions). */
  byMember: Map<M, Batch>;
  /** How many source transactions it holds. */
  transactions: number;
  /** Catch the whole set up instead (a truncate, an unreadable hint, a partition change, or too many keys). */
  rescan?: TransactionRescan;
}

export interface TransactionRescan {
  reason: string;
  since: number | undefined;
  /**
   * Changed keys are not known (dropped over the memory bound, a hint that could not carry them,
   * a capture that was off): the rescan must compare the rows' values too, since a flow's ordinal
   * alone would miss an UPDATE that left it as it was.
   */
  lostKeys?: boolean;
}

export class TransactionBatches<M> {
  private groups: Group<M>[] = [];
  private seq = 0;
  private syncedAt = 0;
  private pending = 0;
  private rescan: TransactionRescan | undefined;

  constructor(
    private readonly keyColumns: (m: M) => readonly string[],
    private readonly maxPendingKeys: number,
  ) {}

  get empty(): boolean {
    return this.groups.length === 0 && !this.rescan;
  }

  /** Keys waiting (after coalescing per transaction and member). */
  get pendingKeys(): number {
    return this.pending;
  }

  add(member: M, msg: CaptureMessage, arrivedAt = Date.now()): void {
    this.seq++;
    if (this.rescan) return; // a catch-up of everything is coming: no need to hold keys
    let g = this.groups.at(-1);
    if (!g || g.tx !== msg.tx) {
      g = { tx: msg.tx, last: this.seq, keys: 0, byMember: new Map() };
      this.groups.push(g);
    }
    g.last = this.seq;
    let b = g.byMember.get(member);
    if (!b) g.byMember.set(member, (b = new Batcher(this.keyColumns(member))));
    const before = b.size;
    b.add(msg, arrivedAt);
    g.keys += b.size - before;
    this.pending += b.size - before;
    if (this.pending > this.maxPendingKeys) {
      this.requestRescan(`more than ${this.maxPendingKeys} changed keys waiting (a large source transaction or a backlog): caught up in one transaction instead`, this.oldestSince(), { lostKeys: true });
    }
  }

  /** Catch the whole set up with the next batch (and drop the keys held: the catch-up covers them). */
  requestRescan(reason: string, since?: number, opts: { lostKeys?: boolean } = {}): void {
    this.rescan ??= { reason, since };
    if (opts.lostKeys) this.rescan.lostKeys = true;
    this.groups = [];
    this.pending = 0;
  }

  /** Wall-clock (Date.now()) arrival of the oldest notification held (a batch delay counts from it). */
  get oldestArrival(): number | undefined {
    return this.earliest((b) => b.oldestArrival);
  }

  /** Where the notifications are now: a round trip started now proves everything up to here complete. */
  mark(): number {
    return this.seq;
  }

  /** A round trip started at `mark` came back: every transaction notified up to it is complete. */
  synced(mark: number): void {
    this.syncedAt = Math.max(this.syncedAt, mark);
  }

  private syncing = false;
  /**
   * Start a round trip on the listening connection (one at a time; none without a listener): when
   * it comes back, every transaction notified before it started is complete. `done` runs after it
   * (the watch's wake-up). Both watchers start it as notifications arrive, so it runs while the
   * batch before is being applied.
   */
  syncOn(listener: { sync(): Promise<boolean> } | undefined, done: () => void): void {
    if (this.syncing || !listener) return;
    this.syncing = true;
    const mark = this.mark();
    void listener.sync().then((ok) => {
      this.syncing = false;
      if (ok) this.synced(mark);
      done();
    });
  }

  /** The newest transaction may still be arriving: a round trip started now would tell. */
  get needsSync(): boolean {
    const last = this.groups.at(-1);
    return !this.rescan && last !== undefined && last.last > this.syncedAt;
  }

  /** Complete transactions, oldest first, whole, up to `maxKeys` keys (at least one transaction); undefined when none is complete. */
  take(maxKeys: number): TransactionBatch<M> | undefined {
    if (this.rescan) {
      const rescan = this.rescan;
      this.rescan = undefined;
      return { byMember: new Map(), transactions: 0, rescan };
    }
    const complete = this.needsSync ? this.groups.length - 1 : this.groups.length;
    if (complete <= 0) return undefined;
    let n = 0;
    let keys = 0;
    while (n < complete && (n === 0 || keys + this.groups[n]!.keys <= maxKeys)) keys += this.groups[n++]!.keys;
    const taken = this.groups.splice(0, n);
    this.pending -= keys;
    const merged = new Map<M, Batcher>();
    for (const g of taken) {
      for (const [m, b] of g.byMember) {
        const into = merged.get(m);
        if (into) into.absorb(b);
        else merged.set(m, b);
      }
    }
    const byMember = new Map<M, Batch>();
    let rescan: TransactionBatch<M>['rescan'];
    for (const [m, b] of merged) {
      const batch = b.take();
      byMember.set(m, batch);
      if (batch.rescan && !rescan) rescan = { reason: batch.rescan.reason ?? (batch.rescan.op === 'truncate' ? 'a truncate' : 'a change too big to notify'), since: batch.rescan.since };
      if (batch.rescan?.lostKeys && rescan) rescan.lostKeys = true;
    }
    return { byMember, transactions: taken.length, ...(rescan ? { rescan } : {}) };
  }

  private oldestSince(): number | undefined {
    return this.earliest((b) => b.oldestSince);
  }

  /** The smallest of `of` over every member's batch held (undefined when none has one). */
  private earliest(of: (b: Batcher) => number | undefined): number | undefined {
    let at: number | undefined;
    for (const g of this.groups) {
      for (const b of g.byMember.values()) {
        const t = of(b);
        if (t !== undefined && (at === undefined || t < at)) at = t;
      }
    }
    return at;
  }
}
