/**
 * `tablesync drop FLOW.json [--json]`: remove what the flow created (table when system-managed,
 * vector indexes, attachments via teardown, tracking and state, plus what core/live registered).
 */
import type { Command } from '../command';
import { dropFlow } from '../../core/target';
import { formatSteps } from '../../core/target/plan-text';
import { withFlowFile } from '../../core/app/flow-file';
import { parseFlowArgs } from './plan';

const command: Command = async (argv) => {
  const args = parseFlowArgs('drop', argv, ['--json']);
  const { name, steps } = await withFlowFile(args.file, async (ctx, flow) => ({ name: flow.name, ...(await dropFlow(ctx)) }));
  if (args.flags.has('--json')) process.stdout.write(`${JSON.stringify({ flow: name, steps })}\n`);
  else process.stdout.write(steps.length ? `Dropped flow "${name}":\n${formatSteps(steps)}` : `Flow "${name}" had nothing in the target to drop.\n`);
  return 0;
};
export default command;
