/**
 * Coalesces notified keys into batches. Per key the last state wins (the row is re-read anyway, so
 * only "this key changed" matters), but the latency clock of a key starts at its OLDEST pending
 * change: a key that keeps changing must not look fresh forever. A truncate or an unreadable hint
 * turns into a rescan request that rides along with the batch.
 */
import type { Cell } from '../api/model';
import type { CaptureMessage } from './payload';

export type ChangeOp = 'insert' | 'update' | 'delete';

export interface PendingKey {
  /** Key values in key-column order. */
  values: Cell[];
  /** Key column → value, for events. */
  key: Record<string, Cell>;
  /** The last operation notified for this key. */
  op: ChangeOp;
  /** Source-side time (epoch ms) of the oldest pending change, when the hint carried one. */
  since: number | undefined;
}

export interface Batch {
  keys: PendingKey[];
  /**
   * A truncate / oversized-payload / unreadable hint arrived: run the incremental scan. `lostKeys`:
   * a hint whose keys did not arrive (the rescan must compare values: see TransactionRescan).
   */
  rescan: { op: 'truncate' | 'rescan'; since: number | undefined; reason?: string; lostKeys?: boolean } | undefined;
}

export class Batcher {
  private pending = new Map<string, PendingKey>();
  private rescan: Batch['rescan'];
  private firstAt: number | undefined;

  constructor(private readonly keyColumns: readonly string[]) {}

  get size(): number {
    return this.pending.size;
  }

  get empty(): boolean {
    return this.pending.size === 0 && !this.rescan;
  }

  /** Wall-clock (Date.now()) time at which the oldest pending item arrived. */
  get oldestArrival(): number | undefined {
    return this.firstAt;
  }

  /** The oldest source time among the pending keys and the rescan request (a walk over them). */
  get oldestSince(): number | undefined {
    let since = this.rescan?.since;
    for (const k of this.pending.values()) since = minDefined(since, k.since);
    return since;
  }

  add(m: CaptureMessage, arrivedAt = Date.now()): void {
    this.firstAt ??= arrivedAt;
    if ('key' in m) {
      // A key change: the old key is gone from the source (the re-read will say so), the new one exists.
      if (m.oldKey) this.put(m.oldKey, 'update', m.ts);
      this.put(m.key, m.op, m.ts);
      return;
    }
    const prev = this.rescan;
    const reason = m.reason ?? prev?.reason;
    const lostKeys = prev?.lostKeys === true || m.op === 'rescan';
    this.rescan = {
      op: prev?.op === 'truncate' ? 'truncate' : m.op,
      since: minDefined(prev?.since, m.ts),
      ...(reason ? { reason } : {}),
      ...(lostKeys ? { lostKeys } : {}),
    };
  }

  /** Take up to `limit` keys (oldest first) and any rescan request; the rest stays pending. */
  take(limit = Infinity): Batch {
    let keys: PendingKey[];
    if (this.pending.size <= limit) {
      keys = [...this.pending.values()];
      this.pending = new Map();
    } else {
      keys = [];
      for (const [id, k] of this.pending) {
        if (keys.length >= limit) break;
        keys.push(k);
        this.pending.delete(id);
      }
    }
    const batch: Batch = { keys, rescan: this.rescan };
    this.rescan = undefined;
    // Leftovers of a full batch are overdue already: keep the old arrival time so they go next.
    if (this.pending.size === 0) this.firstAt = undefined;
    return batch;
  }

  /** Move everything pending in `later` (notified after what is here) into this batcher. */
  absorb(later: Batcher): void {
    if (later.firstAt !== undefined) this.firstAt = Math.min(this.firstAt ?? later.firstAt, later.firstAt);
    for (const [id, k] of later.pending) {
      const prev = this.pending.get(id);
      if (prev) {
        prev.op = k.op;
        prev.since = minDefined(prev.since, k.since);
      } else {
        this.pending.set(id, k);
      }
    }
    if (later.rescan) {
      const prev = this.rescan;
      const reason = later.rescan.reason ?? prev?.reason;
      const lostKeys = prev?.lostKeys === true || later.rescan.lostKeys === true;
      this.rescan = { op: prev?.op === 'truncate' ? 'truncate' : later.rescan.op, since: minDefined(prev?.since, later.rescan.since), ...(reason ? { reason } : {}), ...(lostKeys ? { lostKeys } : {}) };
    }
    later.pending = new Map();
    later.rescan = undefined;
    later.firstAt = undefined;
  }

  private put(key: Record<string, Cell>, op: ChangeOp, ts: number | undefined): void {
    const values = this.keyColumns.map((c) => key[c] ?? null);
    const id = JSON.stringify(values);
    const prev = this.pending.get(id);
    if (prev) {
      prev.op = op;
      prev.since = minDefined(prev.since, ts);
      return;
    }
    this.pending.set(id, { values, key, op, since: ts });
  }
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
