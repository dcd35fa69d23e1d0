/**
 * `tablesync drop FLOW.json [--allow-destructive] [--cascade] [--json]`: remove what the flow created (table when
 * system-managed, vector indexes, attachments via teardown, tracking and state, and the source's
 * capture trigger and function when they are this flow's: dropPartsFor). Dropping a table that holds rows deletes data: like apply, that needs
 * `--allow-destructive`; on a terminal (stdin and stdout both a TTY, no --json) the steps are shown
 * and the user is asked instead. Refused: exit 2, nothing written. Objects of someone else's that
 * depend on the table (a view an attachment created) refuse the drop, named, unless `--cascade`.
 *
 * `tablesync drop SET.json [--table NAME]… [--allow-destructive] [--json]`: the same for a set's
 * members (all, or only those named), in one target transaction.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from '../command';
import { dropFlow } from '../../core/target';
import { formatSteps } from '../../core/target/plan-text';
import { withFlowFile } from '../../core/app/flow-file';
import { dropPartsFor } from '../../core/app/drop-parts';
import { parseFlowArgs } from './plan';
import { TableSyncError } from '../../core/errors';
import { loadSetIfSet, withSet } from '../../core/app/set-file';
import { dropSet } from '../../core/set';
import { reportFailure } from '../report';

async function askYes(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

const command: Command = async (argv) => {
  // `--table NAME` (sets only, repeatable): drop only these members.
  const tables: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--table') {
      const t = argv[++i];
      if (!t) throw new TableSyncError('INVALID_INPUT', '--table needs a table name');
      tables.push(t);
    } else rest.push(argv[i]!);
  }
  const args = parseFlowArgs('drop', rest, ['--allow-destructive', '--cascade', '--json']);
  const cascade = args.flags.has('--cascade');
  const json = args.flags.has('--json');
  const interactive = !json && process.stdin.isTTY === true && process.stdout.isTTY === true;
  const set = await loadSetIfSet(args.file);
  if (set) {
    const which = tables.length ? { tables } : {};
    const r = await withSet(set, async (ctx) => {
      let allowDestructive = args.flags.has('--allow-destructive');
      if (!allowDestructive && interactive) {
        const preview = await dropSet(ctx, { ...which, dryRun: true });
        if (preview.steps.some((s) => s.destructive)) {
          process.stdout.write(`Dropping ${tables.length ? `${tables.join(', ')} of ` : ''}set "${set.set}" would run:\n${formatSteps(preview.steps)}`);
          if (!(await askYes('This deletes data. Drop it? [y/N] '))) return undefined;
          allowDestructive = true;
        }
      }
      return dropSet(ctx, { ...which, allowDestructive });
    });
    if (!r) {
      process.stdout.write('Nothing was dropped.\n');
      return 2;
    }
    if (json) process.stdout.write(`${JSON.stringify({ set: set.set, ...r })}\n`);
    else process.stdout.write(r.members.length ? `Dropped ${tables.length ? `member(s) ${r.members.join(', ')} of set "${set.set}"` : `set "${set.set}" (${r.members.length} member(s))`}:\n${formatSteps(r.steps)}` : `Set "${set.set}" had nothing in the target to drop.\n`);
    return 0;
  }
  if (tables.length) throw new TableSyncError('INVALID_INPUT', '--table applies to set files only');
  let out;
  try {
    out = await withFlowFile(args.file, async (ctx, flow) => {
      let allowDestructive = args.flags.has('--allow-destructive');
      if (!allowDestructive && interactive) {
        const preview = await dropFlow(ctx, dropPartsFor(flow), { dryRun: true, cascade });
        if (preview.steps.some((s) => s.destructive)) {
          process.stdout.write(`Dropping flow "${flow.name}" would run:\n${formatSteps(preview.steps)}`);
          if (!(await askYes('This deletes data. Drop it? [y/N] '))) return { name: flow.name, steps: [], declined: true };
          allowDestructive = true;
        }
      }
      return { name: flow.name, ...(await dropFlow(ctx, dropPartsFor(flow), { allowDestructive, cascade })), declined: false };
    });
  } catch (e) {
    return reportFailure('drop', e, json);
  }
  if (out.declined) {
    process.stdout.write('Nothing was dropped.\n');
    return 2;
  }
  if (json) process.stdout.write(`${JSON.stringify({ flow: out.name, steps: out.steps })}\n`);
  else process.stdout.write(out.steps.length ? `Dropped flow "${out.name}":\n${formatSteps(out.steps)}` : `Flow "${out.name}" had nothing in the target to drop.\n`);
  return 0;
};
export default command;
