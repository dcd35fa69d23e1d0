/**
 * How the plan's row counts are put in words, shared by the CLI's plan text and the app's plan
 * screen so both say the same thing. Node-free (the renderer imports it).
 */

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
