/**
 * Run something with a flow file's two ends open: what every headless command does. Lives in core
 * so the shells stay thin. (A drop's parts beyond the target come from dropPartsFor, explicitly.)
 */
import { loadFlowFile, openFlow } from '../flow/load';
import type { Flow } from '../flow/schema';
import type { FlowContext } from '../target';
import { dataFolderResolver } from './saved-lookup';

/**
 * Load and validate `file`, resolve its connections (`{url}`, `{env}` from `env`, `{saved}` from the
 * app's data folder), run `fn`, close the pools.
 * @example await withFlowFile('flow.json', (ctx) => planFlow(ctx))
 */
export async function withFlowFile<T>(
  file: string,
  fn: (ctx: FlowContext, flow: Flow) => Promise<T>,
  opts: { env?: NodeJS.ProcessEnv; applicationName?: string } = {},
): Promise<T> {
  const flow = await loadFlowFile(file);
  const ctx = await openFlow(flow, dataFolderResolver({ env: opts.env ?? process.env }), {
    applicationName: opts.applicationName ?? `tablesync cli ${flow.name}`,
  });
  try {
    return await fn(ctx, flow);
  } finally {
    await ctx.close();
  }
}
