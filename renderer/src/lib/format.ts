/** Display helpers. Values stay PostgreSQL text; only counts and times are numbers here. */
export function fmtCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return Math.round(n).toLocaleString('en-US');
}
export function fmtApprox(n: number | null | undefined): string {
  if (n === null || n === undefined || n < 0) return '—';
  if (n < 1000) return String(Math.round(n));
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}k`;
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)}M`;
  return `${(n / 1e9).toFixed(1)}B`;
}
export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}
export function fmtTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleTimeString('en-GB', { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}
export function fmtKey(key: Record<string, string | null>): string {
  const e = Object.entries(key);
  if (e.length === 1) return String(e[0]![1]);
  return e.map(([k, v]) => `${k}=${v}`).join(', ');
}
const NUMERIC = /^(smallint|integer|bigint|numeric|decimal|real|double precision|money|oid)/;
export function isNumericType(t: string): boolean {
  return NUMERIC.test(t);
}

/** PostgreSQL's long type names in their usual short spelling, for narrow places. */
export function shortType(t: string): string {
  return t
    .replace(/^timestamp with time zone/, 'timestamptz')
    .replace(/^timestamp without time zone/, 'timestamp')
    .replace(/^time with time zone/, 'timetz')
    .replace(/^time without time zone/, 'time')
    .replace(/^character varying/, 'varchar')
    .replace(/^character\b/, 'char');
}
