/**
 * How a stream of change events is shown to a person: one line per change while they come slowly,
 * one summary a second while they come fast ("+1,234 applied, 12 deleted in the last 1.0 s (latency
 * p50 2 ms, p99 9 ms)"). At 5,000 changes a second a line each is more than a terminal can show or a
 * person read. Catch-ups and failed changes are always shown at once, each on its own line (after
 * a summary of what was counted before them, so the order stays true). Programs read every event
 * (`watch --json`, the API's `flow.change`): this is for people only.
 *
 * Node-free (the UI may import it); the clock is passed in, so a test drives it without timers.
 *
 * @example
 *   const s = new ChangeSummarizer(Date.now());
 *   const step = s.add(event, Date.now()); if (step.summary) print(changeSummaryText(step.summary)); if (step.show) print(line(event));
 *   setInterval(() => { const sum = s.tick(Date.now()); if (sum) print(changeSummaryText(sum)); }, CHANGE_SUMMARY_EVERY_MS);
 */
import type { ChangeEvent } from './model';

/** Changes shown one line each per CHANGE_SUMMARY_EVERY_MS; past that the rest of the second is summarized. */
export const CHANGE_LINES_PER_SECOND = 10;
/** How often a summary of the changes not shown is printed (ms). */
export const CHANGE_SUMMARY_EVERY_MS = 1_000;

/** What the changes not shown one by one came to. */
export interface ChangeSummary {
  /** Changes by outcome (applied, deleted, filtered-out, skipped). */
  outcomes: Partial<Record<ChangeEvent['outcome'], number>>;
  total: number;
  /** The time they span: from the previous summary (or second) to this one (ms). */
  periodMs: number;
  /** Source commit → target commit, over the changes that had one; null when none had. */
  latency: { p50: number; p99: number } | null;
}

/** What to do with one event: `summary` first (the changes counted before it), then the event's own line when `show`. */
export interface SummaryStep {
  summary?: ChangeSummary;
  show: boolean;
}

/**
 * The caller calls `tick(now)` every CHANGE_SUMMARY_EVERY_MS (and once at the end) and prints the
 * summary it returns; each tick starts a new second. In a second, the first CHANGE_LINES_PER_SECOND
 * changes are shown, the rest counted; a second that followed one with more changes than that
 * counts all of its changes (one summary a second while they come fast, not a burst of lines
 * every second).
 */
export class ChangeSummarizer {
  private since: number;
  private shown = 0;
  private seen = 0;
  private flooding = false;
  private pending: { outcomes: ChangeSummary['outcomes']; total: number; latencies: number[] } | undefined;

  constructor(now: number, private readonly opts: { linesPerSecond?: number } = {}) {
    this.since = now;
  }

  /** One change event at `now` (ms). */
  add(e: ChangeEvent, now: number): SummaryStep {
    // Always at once, on a line of their own: what a catch-up did, and a change that failed.
    if (e.op === 'catch-up' || e.outcome === 'failed') {
      const summary = this.summary(now);
      return summary ? { summary, show: true } : { show: true };
    }
    this.seen++;
    if (!this.flooding && this.pending === undefined && this.shown < (this.opts.linesPerSecond ?? CHANGE_LINES_PER_SECOND)) {
      this.shown++;
      return { show: true };
    }
    this.pending ??= { outcomes: {}, total: 0, latencies: [] };
    const p = this.pending;
    p.outcomes[e.outcome] = (p.outcomes[e.outcome] ?? 0) + 1;
    p.total++;
    if (e.latencyMs !== null) p.latencies.push(e.latencyMs);
    return { show: false };
  }

  /** A second ended: the summary of the changes counted and not yet summarized (undefined: none). */
  tick(now: number): ChangeSummary | undefined {
    const summary = this.summary(now);
    this.flooding = this.seen > (this.opts.linesPerSecond ?? CHANGE_LINES_PER_SECOND);
    this.shown = 0;
    this.seen = 0;
    return summary;
  }

  /** Status lines, warnings: call before printing one, and print the summary it returns first, so the order stays true. */
  summary(now: number): ChangeSummary | undefined {
    const p = this.pending;
    const since = this.since;
    this.since = now;
    if (!p) return undefined;
    this.pending = undefined;
    const sorted = p.latencies.sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
    return { outcomes: p.outcomes, total: p.total, periodMs: Math.max(0, now - since), latency: sorted.length ? { p50: at(0.5), p99: at(0.99) } : null };
  }
}

const OUTCOME_WORDS: Record<ChangeEvent['outcome'], string> = {
  applied: 'applied', deleted: 'deleted', 'filtered-out': 'filtered out', skipped: 'skipped', failed: 'failed',
};

function ms(n: number): string {
  return n < 10 ? `${n.toFixed(1)} ms` : `${Math.round(n).toLocaleString('en-US')} ms`;
}

/** "+1,234 applied, 12 deleted in the last 1.0 s (latency p50 2.0 ms, p99 9.1 ms)". */
export function changeSummaryText(s: ChangeSummary): string {
  const parts = (Object.keys(OUTCOME_WORDS) as ChangeEvent['outcome'][])
    .filter((o) => (s.outcomes[o] ?? 0) > 0)
    .map((o) => `${(s.outcomes[o] ?? 0).toLocaleString('en-US')} ${OUTCOME_WORDS[o]}`);
  const latency = s.latency ? ` (latency p50 ${ms(s.latency.p50)}, p99 ${ms(s.latency.p99)})` : '';
  return `+${parts.join(', ')} in the last ${(s.periodMs / 1000).toFixed(1)} s${latency}`;
}
