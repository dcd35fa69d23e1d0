import { describe, expect, it } from 'vitest';
import { CHANGE_LINES_PER_SECOND, ChangeSummarizer, changeSummaryText } from '../../core/api/change-summary';
import type { ChangeEvent } from '../../core/api/model';

const ev = (i: number, over: Partial<ChangeEvent> = {}): ChangeEvent => ({
  time: '2026-01-01T00:00:00.000Z', flow: 'f', op: 'insert', key: { id: String(i) }, outcome: 'applied', latencyMs: i % 100, ...over,
});

// The human watch output's rule (core/api/change-summary.ts), driven by a clock the test sets.
describe('change summary for people', () => {
  it('shows changes one line each while they come slowly', () => {
    const s = new ChangeSummarizer(0);
    for (let sec = 0; sec < 5; sec++) {
      for (let i = 0; i < 3; i++) expect(s.add(ev(i), sec * 1000 + i)).toEqual({ show: true });
      expect(s.tick(sec * 1000 + 1000)).toBeUndefined();
    }
  });

  it('a burst: the first lines of the second, then one summary a second whose totals add up', () => {
    const s = new ChangeSummarizer(0);
    let shown = 0;
    const summaries: ReturnType<ChangeSummarizer['tick']>[] = [];
    for (let sec = 0; sec < 3; sec++) {
      for (let i = 0; i < 5000; i++) {
        const step = s.add(ev(i, i % 10 === 0 ? { op: 'delete', outcome: 'deleted', latencyMs: null } : {}), sec * 1000 + i / 10);
        expect(step.summary).toBeUndefined();
        if (step.show) shown++;
      }
      summaries.push(s.tick(sec * 1000 + 1000));
    }
    // the first second shows its first lines; the seconds after it, flooded, none
    expect(shown).toBe(CHANGE_LINES_PER_SECOND);
    const total = summaries.reduce((n, x) => n + (x?.total ?? 0), 0);
    expect(total + shown).toBe(15_000);
    expect(summaries[1]).toMatchObject({ total: 5000, outcomes: { applied: 4500, deleted: 500 }, periodMs: 1000 });
    expect(changeSummaryText(summaries[1]!)).toBe('+4,500 applied, 500 deleted in the last 1.0 s (latency p50 49 ms, p99 99 ms)');
    // quiet again: a slow change shows as its own line after one quiet second
    expect(s.tick(4000)).toBeUndefined();
    expect(s.add(ev(1), 4500)).toEqual({ show: true });
  });

  it('a catch-up or a failed change is shown at once, after a summary of what was counted before it', () => {
    const s = new ChangeSummarizer(0);
    for (let i = 0; i < 50; i++) s.add(ev(i), i);
    const failed = s.add(ev(99, { outcome: 'failed', error: 'boom' }), 400);
    expect(failed.show).toBe(true);
    expect(failed.summary).toMatchObject({ total: 50 - CHANGE_LINES_PER_SECOND, periodMs: 400 });
    const catchUp = s.add(ev(0, { op: 'catch-up', catchUp: { mode: 'window', rows: 3, scanned: 3, durationMs: 5 } }), 500);
    expect(catchUp).toEqual({ show: true });
    // a status line asks for the summary first, too
    s.add(ev(7), 600);
    expect(s.summary(700)).toMatchObject({ total: 1, periodMs: 200 });
  });

  it('words: only the outcomes that happened; no latency part when none was known', () => {
    expect(changeSummaryText({ outcomes: { 'filtered-out': 1234, skipped: 2 }, total: 1236, periodMs: 950, latency: null })).toBe('+1,234 filtered out, 2 skipped in the last 0.9 s');
    expect(changeSummaryText({ outcomes: { applied: 3 }, total: 3, periodMs: 1000, latency: { p50: 2.04, p99: 12.6 } })).toBe('+3 applied in the last 1.0 s (latency p50 2.0 ms, p99 13 ms)');
  });
});
