/**
 * SQL completion for the filter editor and the console: the schema's names (columns, tables,
 * schemas) and PostgreSQL's keywords, merged so a name is offered once. PostgreSQL keywords include
 * many common column names (name, type, value, position…): without the merge `name` is listed twice,
 * once as a column and once as a keyword.
 */
import type { Completion, CompletionContext, CompletionResult, CompletionSource } from '@codemirror/autocomplete';

/** Options from the schema win over keywords with the same label (case-insensitive). */
export function mergeCompletions(names: readonly Completion[], keywords: readonly Completion[]): Completion[] {
  const seen = new Set<string>();
  const out: Completion[] = [];
  for (const o of [...names, ...keywords]) {
    const k = o.label.toLowerCase();
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(o);
  }
  return out;
}

/** One source that asks both and merges their answers (use as autocompletion's override). */
export function mergedSource(names: CompletionSource, keywords: CompletionSource): CompletionSource {
  return async (ctx: CompletionContext): Promise<CompletionResult | null> => {
    const [a, b] = await Promise.all([names(ctx), keywords(ctx)]);
    if (!a) return b;
    if (!b) return a;
    // Different start positions would mean different words: keep the schema's answer then.
    if (a.from !== b.from) return a;
    return { ...a, options: mergeCompletions(a.options, b.options), validFor: a.validFor ?? b.validFor };
  };
}
