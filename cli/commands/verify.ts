/**
 * `tablesync verify FLOW.json [--json]`: compare what the target holds with what the flow says it
 * should hold (core/target/verify.ts); writes nothing. Exit 0 equal; 3 drift found (listed; repair
 * with `apply --repair`); 2 invalid input; 1 anything else (e.g. a flow never applied).
 */
import type { Command } from '../command';
import { INPUT_ERROR_CODES, toTableSyncError } from '../../core/errors';
import { verifyFlow } from '../../core/target';
import { formatVerifyResult } from '../../core/target/plan-text';
import { withFlowFile } from '../../core/app/flow-file';
import { parseFlowArgs } from './plan';
import { loadSetIfSet, withSet } from '../../core/app/set-file';
import { verifySet } from '../../core/set';
import { formatSetVerifyResult } from '../../core/set/plan-text';

/** Exit status of a verify that found drift. */
export const EXIT_DRIFT = 3;

const command: Command = async (argv) => {
  const args = parseFlowArgs('verify', argv, ['--json']);
  try {
    const set = await loadSetIfSet(args.file);
    if (set) {
      const r = await withSet(set, (ctx) => verifySet(ctx));
      process.stdout.write(args.flags.has('--json') ? `${JSON.stringify(r, null, 2)}\n` : formatSetVerifyResult(r));
      if (r.equal) return 0;
      // a member never applied (or refused by its source) is an error, not drift
      return r.members.some((m) => m.error) ? 1 : EXIT_DRIFT;
    }
    const result = await withFlowFile(args.file, (ctx) => verifyFlow(ctx));
    process.stdout.write(args.flags.has('--json') ? `${JSON.stringify(result, null, 2)}\n` : formatVerifyResult(result));
    return result.equal ? 0 : EXIT_DRIFT;
  } catch (e) {
    const err = toTableSyncError(e);
    process.stderr.write(`tablesync verify: ${err.message}\n`);
    if (args.flags.has('--json')) process.stdout.write(`${JSON.stringify({ ok: false, error: { code: err.code, message: err.message } })}\n`);
    return INPUT_ERROR_CODES.has(err.code) ? 2 : 1;
  }
};
export default command;
