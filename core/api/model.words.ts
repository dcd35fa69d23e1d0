/**
 * How the plan's row counts are put in words, shared by the CLI's plan text and the app's plan
 * screen so both say the same thing. Node-free (the renderer imports it).
 */

/** Ordinal mode with NULL ordinals: those rows are compared by content instead. */
export function withoutOrdinalText(n: number): string {
  return `${n} ${n === 1 ? 'row' : 'rows'} without an ordinal, compared by content`;
}
