/**
 * `tablesync apply FLOW.json [--allow-destructive] [--repair] [--take-over] [--json]`: converge the
 * target in one transaction; with --repair also rewrite the rows verify finds drifted (hand edits of
 * the target); with --take-over overwrite and own the rows you wrote in a managedBy "user" table whose
 * key the source also has (without it they are left alone).
 * Exit 0 done; 2 invalid input or destructive steps not allowed (nothing written); 1 anything else,
 * with what state the target is in (a failed apply rolls back: unchanged).
 */
import type { Command } from '../command';
import { applyFlow } from '../../core/target';
import { formatApplyResult } from '../../core/target/plan-text';
import { withFlowFile } from '../../core/app/flow-file';
import { parseFlowArgs } from './plan';
import { reportFailure } from '../report';
import { loadSetIfSet, withSet } from '../../core/app/set-file';
import { applySet } from '../../core/set';
import { formatSetApplyResult, formatSetProgress } from '../../core/set/plan-text';

const command: Command = async (argv) => {
  const args = parseFlowArgs('apply', argv, ['--json', '--allow-destructive', '--repair', '--take-over']);
  try {
    const set = await loadSetIfSet(args.file);
    if (set) {
      const json = args.flags.has('--json');
      const r = await withSet(set, (ctx) => applySet(ctx, {
        allowDestructive: args.flags.has('--allow-destructive'),
        repair: args.flags.has('--repair'),
        takeOver: args.flags.has('--take-over'),
        onProgress: (p) => {
          const line = json ? undefined : formatSetProgress(p);
          if (line) process.stderr.write(line);
        },
      }));
      process.stdout.write(json ? `${JSON.stringify(r)}\n` : formatSetApplyResult(r));
      return 0;
    }
    const result = await withFlowFile(args.file, (ctx) => applyFlow(ctx, { allowDestructive: args.flags.has('--allow-destructive'), repair: args.flags.has('--repair'), takeOver: args.flags.has('--take-over') }));
    process.stdout.write(args.flags.has('--json') ? `${JSON.stringify(result)}\n` : formatApplyResult(result));
    return 0;
  } catch (e) {
    return reportFailure('apply', e, args.flags.has('--json'));
  }
};
export default command;
