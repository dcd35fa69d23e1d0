/**
 * Parsing a capture notification. The payload is whatever arrived on the channel, so anything that
 * is not one of our messages (someone else's NOTIFY on the same channel, a truncated or garbled
 * payload) is treated as a request to rescan: a hint we cannot read must not become a lost change.
 */
import type { Cell } from '../api/model';

export type CaptureOp = 'insert' | 'update' | 'delete';

export type CaptureMessage =
  | { op: CaptureOp; key: Record<string, Cell>; oldKey?: Record<string, Cell>; ordinal?: Cell; ts?: number; tx?: string }
  | { op: 'truncate' | 'rescan'; ts?: number; tx?: string; reason?: string };

const isKeyObject = (v: unknown, keyColumns: readonly string[]): v is Record<string, Cell> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) &&
  keyColumns.every((c) => c in v && ((v as Record<string, unknown>)[c] === null || typeof (v as Record<string, unknown>)[c] === 'string'));

export function parseCaptureMessage(payload: string | undefined, keyColumns: readonly string[]): CaptureMessage {
  let m: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(payload ?? '');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    m = parsed as Record<string, unknown>;
  } catch {
    return { op: 'rescan', reason: 'unreadable notification payload' };
  }
  const ts = typeof m.ts === 'number' && Number.isFinite(m.ts) ? m.ts : undefined;
  // the source transaction's id (capture version 3 on); an install of before has none
  const tx = typeof m.tx === 'string' && /^[0-9]+$/.test(m.tx) ? m.tx : undefined;
  const withTs = <T extends object>(o: T) => ({ ...o, ...(ts === undefined ? {} : { ts }), ...(tx === undefined ? {} : { tx }) });
  if (m.op === 'truncate') return withTs({ op: m.op });
  if (m.op === 'rescan') return withTs({ op: m.op, ...(typeof m.reason === 'string' && m.reason ? { reason: m.reason.slice(0, 500) } : {}) });
  if ((m.op === 'insert' || m.op === 'update' || m.op === 'delete') && isKeyObject(m.key, keyColumns)) {
    const out: CaptureMessage = { op: m.op, key: pick(m.key, keyColumns) };
    if (m.old_key !== undefined) {
      if (!isKeyObject(m.old_key, keyColumns)) return withTs({ op: 'rescan' as const, reason: 'notification with an unreadable old key' });
      out.oldKey = pick(m.old_key, keyColumns);
    }
    if (typeof m.ordinal === 'string' || m.ordinal === null) out.ordinal = m.ordinal;
    return withTs(out);
  }
  return withTs({ op: 'rescan' as const, reason: 'notification that does not match the flow\'s key' });
}

function pick(o: Record<string, Cell>, keyColumns: readonly string[]): Record<string, Cell> {
  return Object.fromEntries(keyColumns.map((c) => [c, o[c] ?? null]));
}
