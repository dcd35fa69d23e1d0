/**
 * The table source: resolve and check a spec, validate filters, count, stream rows (COPY text),
 * the key+ordinal and key+fingerprint scans, and re-reads by key. Every read runs in a READ ONLY
 * transaction (read-only.ts); every user filter is validated first (filter.ts).
 */
export { resolveSource, ORDINAL_TYPE_OIDS, type SourceSpecLike, type ResolvedSource } from './resolve-source';
export { validateFilter, assertValidFilter, type FilterCheck } from './filter';
export { countRows } from './count-rows';
export { copyRowsOut, scanKeyOrdinal, scanKeyFingerprint, ordinalMarkSql } from './copy-out';
export { readRowsByKeys, rowsByKeysSql, KEYS_PER_QUERY } from './read-by-keys';
export { PgTableSource, type PgTableSourceOptions, type RawRow } from './pg-table-source';
export {
  selectListSql, keyListSql, filterSql, fromWhereSql, selectRowsSql, fingerprintSql, fingerprintTermSql, SOURCE_SETTINGS_SQL,
} from './source-sql';
export { withReadOnly, copyOut } from './read-only';
export { scanOrdinalWindow, ordinalWindowSql, type OrdinalWindow, type WindowRow } from './window-scan';
export { filterVerdicts, filterValuesSql, type StreamedRow } from './filter-values';
