/**
 * Names of TableSync's own columns in the relations it shares with user columns: the scan and
 * changed tables (key columns + marks + bookkeeping) and the tracking table (key columns + ordinal
 * + fingerprint). A source may name its columns with our own prefix (`__tablesync_mark`…), so each
 * name is chosen to differ from the key columns it sits beside (internalName). The staging table
 * holds user columns only.
 */
import { internalName } from '../sql/ident';
import { trackingMarkColumns } from '../state/store';

export interface InternalNames {
  /** Scan/changed: the ordinal (ordinal mode) or the fingerprint. */
  mark: string;
  /** Scan/changed, nullable ordinals only: the fingerprint of rows whose ordinal is NULL. */
  nullFingerprint: string;
  /** Changed: whether the key is tracked (an update) or not (an insert). */
  tracked: string;
  /** Changed: row number, for re-reads in batches. */
  rn: string;
  /** Tracking table: the ordinal and fingerprint columns. */
  trackOrdinal: string;
  trackFingerprint: string;
}

export function internalNames(keyNames: readonly string[]): InternalNames {
  const taken = [...keyNames];
  const pick = (base: string) => {
    const n = internalName(base, taken);
    taken.push(n);
    return n;
  };
  const mark = pick('__tablesync_mark');
  const nullFingerprint = pick('__tablesync_null_fp');
  const tracked = pick('__tablesync_tracked');
  const rn = pick('__tablesync_rn');
  const t = trackingMarkColumns(keyNames);
  return { mark, nullFingerprint, tracked, rn, trackOrdinal: t.ordinal, trackFingerprint: t.fingerprint };
}
