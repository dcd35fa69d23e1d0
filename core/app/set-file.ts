/**
 * Run something with a set file's two ends open (the set twin of flow-file.ts): load and validate,
 * resolve its connections through the CLI's resolver, run `fn`, close the pools. What a drop removes
 * is passed explicitly (core/app/drop-parts.ts), so nothing here depends on an import's side effect.
 */
import { readJsonFile } from '../flow/load';
import { isSetDocument, type SetSpec } from '../flow/schema.set';
import { openSet, parseSet, type SetContext } from '../set/load';
import { dataFolderResolver } from './saved-lookup';

export async function withSet<T>(set: SetSpec, fn: (ctx: SetContext) => Promise<T>, opts: { env?: NodeJS.ProcessEnv; applicationName?: string } = {}): Promise<T> {
  const ctx = await openSet(set, dataFolderResolver({ env: opts.env ?? process.env }), { applicationName: opts.applicationName ?? `tablesync cli set ${set.set}` });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/** A set file or a flow file? Told apart by `"set"` (core/flow/schema.set.ts); undefined for a flow. */
export async function loadSetIfSet(file: string): Promise<SetSpec | undefined> {
  const doc = await readJsonFile(file);
  return isSetDocument(doc) ? parseSet(doc, `set file ${file}`) : undefined;
}
