/**
 * The headless shell (DESIGN §6). Thin: parse arguments, call core/, print, choose the exit status.
 * Each command lives in cli/commands/<name>.ts and is registered here.
 *
 * Exit status: 0 done; 2 the flow or an input is invalid (nothing was written); 3 verify found
 * drift; 1 anything else.
 */
import { INPUT_ERROR_CODES, toTableSyncError } from '../core/errors';
import { cliErrorMessage } from './report';
import type { Command } from './command';

const commands: Record<string, () => Promise<{ default: Command }>> = {
  plan: () => import('./commands/plan'),
  apply: () => import('./commands/apply'),
  verify: () => import('./commands/verify'),
  watch: () => import('./commands/watch'),
  drop: () => import('./commands/drop'),
  serve: () => import('./commands/serve'),
  demo: () => import('./commands/demo'),
};

const USAGE = `usage:
  tablesync plan  FLOW.json [--json]                        what apply would do; writes nothing
  tablesync apply FLOW.json [--allow-destructive] [--repair] [--json]
                                                            converge the target; --repair also rewrites drifted rows
  tablesync verify FLOW.json [--json]                       compare the target with the source; exit 3 on drift
  tablesync watch FLOW.json [--json]                        catch up, then apply changes live until SIGINT/SIGTERM
  tablesync drop  FLOW.json [--allow-destructive] [--cascade] [--json]  remove what the flow created (a table with rows needs --allow-destructive; objects depending on it need --cascade)
  tablesync serve [--host 127.0.0.1] [--port N] [--demo]    the app in a browser
  tablesync demo [--reset]                                  start the built-in demo databases and print their URLs
`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`tablesync: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    const mod = await load();
    return await mod.default(rest);
  } catch (e) {
    const err = toTableSyncError(e);
    process.stderr.write(`tablesync ${name}: ${cliErrorMessage(name, err)}\n`);
    return INPUT_ERROR_CODES.has(err.code) ? 2 : 1;
  }
}
