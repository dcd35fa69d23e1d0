/**
 * `tablesync apply FLOW.json [--allow-destructive] [--json]`: converge the target in one transaction.
 * Exit 0 done; 2 invalid input or destructive steps not allowed (nothing written); 1 anything else,
 * with what state the target is in (a failed apply rolls back: unchanged).
 */
import type { Command } from '../command';
import { INPUT_ERROR_CODES, toTableSyncError } from '../../core/errors';
import { applyFlow } from '../../core/target';
import { formatApplyResult } from '../../core/target/plan-text';
import { withFlowFile } from '../../core/app/flow-file';
import { parseFlowArgs } from './plan';

const command: Command = async (argv) => {
  const args = parseFlowArgs('apply', argv, ['--json', '--allow-destructive']);
  try {
    const result = await withFlowFile(args.file, (ctx) => applyFlow(ctx, { allowDestructive: args.flags.has('--allow-destructive') }));
    process.stdout.write(args.flags.has('--json') ? `${JSON.stringify(result)}\n` : formatApplyResult(result));
    return 0;
  } catch (e) {
    const err = toTableSyncError(e);
    const state = (err.detail?.target as string | undefined) ?? (INPUT_ERROR_CODES.has(err.code) ? 'unchanged (nothing was written)' : 'unchanged unless the error says otherwise (apply runs in one transaction)');
    process.stderr.write(`tablesync apply: ${err.message}\ntarget: ${state}\n`);
    if (args.flags.has('--json')) process.stdout.write(`${JSON.stringify({ ok: false, error: { code: err.code, message: err.message, target: state } })}\n`);
    return INPUT_ERROR_CODES.has(err.code) ? 2 : 1;
  }
};
export default command;
