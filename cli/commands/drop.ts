/**
 * `tablesync drop FLOW.json [--allow-destructive] [--json]`: remove what the flow created (table when
 * system-managed, vector indexes, attachments via teardown, tracking and state, plus what core/live
 * registered). Dropping a table that holds rows deletes data: like apply, that needs
 * `--allow-destructive`; on a terminal (stdin and stdout both a TTY, no --json) the steps are shown
 * and the user is asked instead. Refused: exit 2, nothing written.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from '../command';
import { dropFlow } from '../../core/target';
import { formatSteps } from '../../core/target/plan-text';
import { withFlowFile } from '../../core/app/flow-file';
import { parseFlowArgs } from './plan';

async function askYes(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

const command: Command = async (argv) => {
  const args = parseFlowArgs('drop', argv, ['--allow-destructive', '--json']);
  const json = args.flags.has('--json');
  const interactive = !json && process.stdin.isTTY === true && process.stdout.isTTY === true;
  const out = await withFlowFile(args.file, async (ctx, flow) => {
    let allowDestructive = args.flags.has('--allow-destructive');
    if (!allowDestructive && interactive) {
      const preview = await dropFlow(ctx, { dryRun: true });
      if (preview.steps.some((s) => s.destructive)) {
        process.stdout.write(`Dropping flow "${flow.name}" would run:\n${formatSteps(preview.steps)}`);
        if (!(await askYes('This deletes data. Drop it? [y/N] '))) return { name: flow.name, steps: [], declined: true };
        allowDestructive = true;
      }
    }
    return { name: flow.name, ...(await dropFlow(ctx, { allowDestructive })), declined: false };
  });
  if (out.declined) {
    process.stdout.write('Nothing was dropped.\n');
    return 2;
  }
  if (json) process.stdout.write(`${JSON.stringify({ flow: out.name, steps: out.steps })}\n`);
  else process.stdout.write(out.steps.length ? `Dropped flow "${out.name}":\n${formatSteps(out.steps)}` : `Flow "${out.name}" had nothing in the target to drop.\n`);
  return 0;
};
export default command;
