/**
 * `tablesync watch FLOW.json [--json]`: catch up (the first catch-up is a non-destructive apply, so a
 * new flow's table is created and loaded), then apply source changes live until SIGINT/SIGTERM or
 * until its parent process goes away (npx does not pass signals on); then stop cleanly (UNLISTEN, release the flow lock, close the pools) and exit 0.
 *
 * Human mode prints on stdout a line per listener status, per catch-up and per failed change, and a
 * line per change while they come slowly; while they come fast, one summary a second instead
 * (core/api/change-summary.ts). `--json` prints every change event, one per line, on stdout and the
 * listener statuses as JSON lines on stderr.
 */
import type { Command } from '../command';
import type { ChangeEvent, ListenerStatus } from '../../core/api/model';
import { withFlowFile } from '../../core/app/flow-file';
import { watchFlow, watchSet } from '../../core/live';
import { loadSetIfSet, withSet } from '../../core/app/set-file';
import { parseFlowArgs } from './plan';
import { forceExitIfStuck, watchForStop } from '../stop';
import { CHANGE_SUMMARY_EVERY_MS, ChangeSummarizer, changeSummaryText, type ChangeSummary } from '../../core/api/change-summary';

function formatKey(key: ChangeEvent['key']): string {
  const parts = Object.entries(key).map(([k, v]) => `${k}=${v === null ? 'NULL' : v}`);
  return parts.length ? parts.join(', ') : '(all rows)';
}

function formatCatchUp(c: NonNullable<ChangeEvent['catchUp']>): string {
  const how = c.mode === 'window' ? `window: ${c.scanned ?? 0} source rows read` : c.mode === 'slot' ? 'from the replication slot' : `full scan${c.reason ? `: ${c.reason}` : ''}`;
  return `${c.rows} row${c.rows === 1 ? '' : 's'} in ${c.durationMs} ms (${how})`;
}

function formatEvent(e: ChangeEvent): string {
  const time = e.time.slice(11, 23);
  if (e.op === 'catch-up' && e.catchUp) return `${time}  catch-up ${formatCatchUp(e.catchUp)}\n`;
  const latency = e.latencyMs === null ? '' : `  ${e.latencyMs.toFixed(1)} ms`;
  return `${time}  ${e.op.padEnd(8)} ${formatKey(e.key)}  → ${e.outcome}${latency}${e.error ? `  (${e.error})` : ''}\n`;
}

function formatStatus(s: ListenerStatus): string {
  const time = s.time.slice(11, 23);
  const what: Record<ListenerStatus['state'], string> = {
    connecting: `connecting to the source, listening on "${s.channel}"`,
    'catching-up': 'catching up (incremental scan)',
    live: `live${s.caughtUp !== undefined ? ` (catch-up changed ${s.caughtUp} row${s.caughtUp === 1 ? '' : 's'})` : ''}${s.stalenessMs ? `, target ${s.stalenessMs} ms behind` : ''}`,
    reconnecting: 'connection lost, reconnecting',
    stopped: 'stopped',
    failed: 'failed',
  };
  const slot = s.slot ? `slot ${s.slot.name}: ${s.slot.lagBytes ?? '?'} bytes behind${s.slot.lagMs !== null ? `, ${s.slot.lagMs} ms` : ''}${s.slot.warning ? ` — ${s.slot.warning}` : ''}` : '';
  const extra = [s.attempt !== undefined ? `attempt ${s.attempt}` : '', s.reason ?? '', slot].filter(Boolean).join(': ');
  return `${time}  [${s.flow}] ${what[s.state]}${extra ? ` (${extra})` : ''}\n`;
}

/** The human output: changes through the summarizer, statuses at once (after what was counted before them). */
function humanOutput(prefix: (e: ChangeEvent) => string, summaryPrefix: string) {
  const summarizer = new ChangeSummarizer(Date.now());
  const write = (line: string) => { process.stdout.write(line); };
  const summary = (sum: ChangeSummary | undefined, now: number) => {
    if (sum) write(`${summaryPrefix}${new Date(now).toISOString().slice(11, 23)}  ${changeSummaryText(sum)}\n`);
  };
  const timer = setInterval(() => { const now = Date.now(); summary(summarizer.tick(now), now); }, CHANGE_SUMMARY_EVERY_MS);
  timer.unref();
  return {
    event: (e: ChangeEvent) => {
      const now = Date.now();
      const step = summarizer.add(e, now);
      summary(step.summary, now);
      if (step.show) write(`${prefix(e)}${formatEvent(e)}`);
    },
    status: (st: ListenerStatus) => {
      const now = Date.now();
      summary(summarizer.summary(now), now);
      write(formatStatus(st));
    },
    end: () => {
      clearInterval(timer);
      const now = Date.now();
      summary(summarizer.tick(now), now);
    },
  };
}

const command: Command = async (argv) => {
  const args = parseFlowArgs('watch', argv, ['--json', '--resync']);
  const json = args.flags.has('--json');
  const set = await loadSetIfSet(args.file);
  if (set) {
    // One watcher for the whole set: one listener connection, every member's lock, one table column.
    return withSet(set, async (ctx) => {
      let handle: ReturnType<typeof watchSet> | undefined;
      const stop = watchForStop();
      let unguard = () => {};
      void stop.requested.then(() => {
        unguard = forceExitIfStuck();
        void handle?.stop();
      });
      const w = Math.max(...[set.set.length + 1, 12]);
      const human = json ? undefined : humanOutput((e) => `${(e.flow.startsWith(`${set.set}.`) ? e.flow.slice(set.set.length + 1) : `[${e.flow}]`).padEnd(w)} `, `${'(all tables)'.padEnd(w)} `);
      try {
        handle = watchSet(ctx, {
          onEvent: (e) => { if (human) human.event(e); else process.stdout.write(`${JSON.stringify(e)}\n`); },
          onStatus: (s) => {
            if (human) human.status(s);
            else process.stderr.write(`${JSON.stringify(s)}\n`);
          },
        });
        await handle.done;
        return 0;
      } finally {
        human?.end();
        stop.dispose();
        unguard();
      }
    });
  }
  return withFlowFile(args.file, async (ctx) => {
    let handle: ReturnType<typeof watchFlow> | undefined;
    const stop = watchForStop();
    let unguard = () => {};
    void stop.requested.then(() => {
      unguard = forceExitIfStuck();
      void handle?.stop();
    });
    const human = json ? undefined : humanOutput(() => '', '');
    try {
      handle = watchFlow(ctx, {
        ...(args.flags.has('--resync') ? { resync: true } : {}),
        onEvent: (e) => { if (human) human.event(e); else process.stdout.write(`${JSON.stringify(e)}\n`); },
        onStatus: (s) => {
          if (human) human.status(s);
          else process.stderr.write(`${JSON.stringify(s)}\n`);
        },
      });
      await handle.done;
      return 0;
    } finally {
      human?.end();
      stop.dispose();
      unguard();
    }
  });
};
export default command;
