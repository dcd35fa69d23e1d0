/**
 * `tablesync plan FLOW.json [--json]`: what apply would do now; writes nothing. Exit 0 when the plan
 * can be applied, 2 when something in the flow blocks it (a type needing an override...) or the
 * input is invalid.
 */
import type { Command } from '../command';
import { TableSyncError } from '../../core/errors';
import { planFlow } from '../../core/target';
import { withFlowFile } from '../../core/app/flow-file';
import { formatPlan } from '../../core/target/plan-text';
import { reportFailure } from '../report';
import { loadSetIfSet, withSet } from '../../core/app/set-file';
import { planSet } from '../../core/set';
import { formatSetPlan } from '../../core/set/plan-text';

export interface FlowArgs {
  file: string;
  flags: Set<string>;
}

/** `FLOW.json` plus the command's flags; anything else is INVALID_INPUT (exit 2). */
export function parseFlowArgs(command: string, argv: string[], allowed: string[]): FlowArgs {
  const flags = new Set<string>();
  const files: string[] = [];
  for (const a of argv) {
    if (a.startsWith('--')) {
      if (!allowed.includes(a)) throw new TableSyncError('INVALID_INPUT', `unknown option ${a} (${command} takes ${allowed.join(', ')})`);
      flags.add(a);
    } else files.push(a);
  }
  if (files.length !== 1) throw new TableSyncError('INVALID_INPUT', `usage: tablesync ${command} FLOW.json ${allowed.map((f) => `[${f}]`).join(' ')}`);
  return { file: files[0]!, flags };
}

const command: Command = async (argv) => {
  const args = parseFlowArgs('plan', argv, ['--json', '--verbose']);
  let plan;
  try {
    const set = await loadSetIfSet(args.file);
    if (set) {
      const p = await withSet(set, (ctx) => planSet(ctx));
      process.stdout.write(args.flags.has('--json') ? `${JSON.stringify(p, null, 2)}\n` : formatSetPlan(p, { verbose: args.flags.has('--verbose') }));
      if (p.blockers.length) {
        process.stderr.write(`tablesync plan: set "${p.set}" cannot be applied: ${p.blockers.map((b) => `${b.table ? `${b.table}: ` : ''}${b.message}`).join('; ')}\n`);
        return 2;
      }
      return 0;
    }
    plan = await withFlowFile(args.file, (ctx) => planFlow(ctx));
  } catch (e) {
    // A flow refused before a plan exists (bad JSON, missing table, unknown column, unreachable
    // server): with --json the error is JSON on stdout too, as apply does.
    return reportFailure('plan', e, args.flags.has('--json'));
  }
  process.stdout.write(args.flags.has('--json') ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
  if (plan.blockers.length) {
    process.stderr.write(`tablesync plan: flow "${plan.flow}" cannot be applied: ${plan.blockers.map((b) => b.message).join('; ')}\n`);
    return 2;
  }
  return 0;
};
export default command;
