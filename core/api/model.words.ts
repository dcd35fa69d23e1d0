/**
 * How the plan's row counts are put in words, shared by the CLI's plan text and the app's plan
 * screen so both say the same thing. Node-free (the renderer imports it).
 */
import type { InitialLoadChoice } from './model';

/** Ordinal mode with NULL ordinals: those rows are compared by content instead. */
export function withoutOrdinalText(n: number): string {
  return `${n} ${n === 1 ? 'row' : 'rows'} without an ordinal, compared by content`;
}

/** managedBy "user": rows you wrote whose key the source also has (the plan's conflicts). */
export function conflictText(n: number): string {
  return `would take over ${n} ${n === 1 ? 'row' : 'rows'} you wrote (the source has the same ${n === 1 ? 'key' : 'keys'}): left alone unless you allow taking them over`;
}

/** What an apply did with those rows. */
export function conflictResultText(n: number, tookOver: boolean): string {
  return tookOver
    ? `took over ${n} ${n === 1 ? 'row' : 'rows'} you wrote`
    : `left alone ${n} ${n === 1 ? 'row' : 'rows'} you wrote whose ${n === 1 ? 'key' : 'keys'} the source also has`;
}

/** A row estimate as people say it: "~3,000 rows", "~1.0M rows"; 0 (not known) says nothing. */
export function approxRowsText(n: number): string {
  if (n <= 0) return '';
  const num = n < 10_000 ? Math.round(n).toLocaleString('en-US') : n < 1e6 ? `${Math.round(n / 1e3)}k` : `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)}M`;
  return `~${num} ${n === 1 ? 'row' : 'rows'}`;
}

/** The streams and format of an initial load: "4 parallel streams, binary COPY". */
export function loadStreamsText(streams: number, format: 'binary' | 'text'): string {
  return `${streams === 1 ? 'one stream' : `${streams} parallel streams`}, ${format} COPY`;
}

/**
 * How an initial load will run (Plan.initialLoad), said the same in the CLI's plan and the app:
 * "4 parallel streams, binary COPY, ~1.0M rows (automatic, by the table's size)".
 */
export function initialLoadText(c: InitialLoadChoice): string {
  const rows = approxRowsText(c.estimatedRows);
  const why = c.requested === undefined
    ? 'automatic, by the table’s size'
    : c.requested === c.streams
      ? `set in the flow: ${c.requested}`
      : `the flow asks for ${c.requested}; each stream takes a connection on both servers and a load uses at most half of what either has free`;
  return `${loadStreamsText(c.streams, c.format)}${rows ? `, ${rows}` : ''} (${why})`;
}
