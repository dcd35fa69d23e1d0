/**
 * `tablesync apply FLOW.json [--allow-destructive] [--repair] [--take-over] [--streams N] [--json]`: converge the
 * target in one transaction; with --repair also rewrite the rows verify finds drifted (hand edits of
 * the target); with --take-over overwrite and own the rows you wrote in a managedBy "user" table whose
 * key the source also has (without it they are left alone).
 * Exit 0 done; 2 invalid input or destructive steps not allowed (nothing written); 1 anything else,
 * with what state the target is in (a failed apply rolls back: unchanged).
 */
import type { Command } from '../command';
import { MAX_LOAD_STREAMS } from '../../core/flow/schema';
import { TableSyncError } from '../../core/errors';
import { applyFlow } from '../../core/target';
import { formatApplyResult } from '../../core/target/plan-text';
import { withFlowFile } from '../../core/app/flow-file';
import { parseFlowArgs } from './plan';
import { reportFailure } from '../report';
import { loadSetIfSet, withSet } from '../../core/app/set-file';
import { applySet } from '../../core/set';
import { formatSetApplyResult, formatSetProgress } from '../../core/set/plan-text';

/** `--streams N` / `--streams=N`: parallel streams of an initial load (1..MAX_LOAD_STREAMS); the rest of argv. */
function takeStreams(argv: string[]): { streams?: number; rest: string[] } {
  const rest: string[] = [];
  let streams: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--streams(?:=(.*))?$/.exec(a);
    if (!m) {
      rest.push(a);
      continue;
    }
    const v = m[1] ?? argv[++i];
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_LOAD_STREAMS) throw new TableSyncError('INVALID_INPUT', `--streams takes a number of parallel load streams from 1 to ${MAX_LOAD_STREAMS}${v !== undefined ? ` (got "${v}")` : ''}`);
    streams = Number(v);
  }
  return { ...(streams !== undefined ? { streams } : {}), rest };
}

const command: Command = async (argv) => {
  const { streams, rest } = takeStreams(argv);
  const args = parseFlowArgs('apply', rest, ['--json', '--allow-destructive', '--repair', '--take-over', '--streams']);
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
    const result = await withFlowFile(args.file, (ctx) => applyFlow(ctx, { allowDestructive: args.flags.has('--allow-destructive'), repair: args.flags.has('--repair'), takeOver: args.flags.has('--take-over'), ...(streams !== undefined ? { streams } : {}) }));
    process.stdout.write(args.flags.has('--json') ? `${JSON.stringify(result)}\n` : formatApplyResult(result));
    return 0;
  } catch (e) {
    return reportFailure('apply', e, args.flags.has('--json'));
  }
};
export default command;
