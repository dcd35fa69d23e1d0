import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TableSyncError } from '../../core/errors';
import { backoffDelay } from '../../core/live/backoff';
import { supervise, type SupervisedCycle } from '../../core/live/supervise';

type Step = (c: SupervisedCycle) => Promise<void>;

/** A supervisor whose cycles follow `steps` (the last one repeats), with a fake clock. */
function harness(steps: Step[], extra: Partial<Parameters<typeof supervise>[0]> = {}) {
  const states: Array<{ state: string; attempt?: number; reason?: string }> = [];
  let started = 0;
  const sup = supervise({
    cycle: (c) => steps[Math.min(started++, steps.length - 1)]!(c),
    status: (state, x) => { states.push({ state, ...(x.attempt !== undefined ? { attempt: x.attempt } : {}), ...(x.reason ? { reason: x.reason } : {}) }); },
    backoff: { initialMs: 100, maxMs: 400 },
    random: () => 1,
    ...extra,
  });
  return { sup, states, started: () => started };
}

const failWith = (msg: string): Step => async () => { throw new Error(msg); };
/** Stays until lost or stopped. */
const liveUntilLost: Step = async (c) => {
  const r = await c.catchUp(async () => 1);
  if (r === undefined) return;
  c.live();
  while (c.running) await c.wait();
};

beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

describe('supervised live loop', () => {
  it('backs off with the jittered, capped delay per attempt and reconnects exactly when it ends', async () => {
    const { sup, states, started } = harness([failWith('a'), failWith('b'), failWith('c'), failWith('d'), liveUntilLost]);
    await vi.advanceTimersByTimeAsync(0);
    expect(started()).toBe(1);
    // attempts 1..4 wait 100, 200, 400, 400 (the cap) with random = 1
    for (const [attempt, delay] of [[1, 100], [2, 200], [3, 400], [4, 400]] as const) {
      expect(backoffDelay(attempt, { initialMs: 100, maxMs: 400 }, () => 1)).toBe(delay);
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(started()).toBe(attempt);
      await vi.advanceTimersByTimeAsync(1);
      expect(started()).toBe(attempt + 1);
    }
    expect(states.filter((s) => s.state === 'reconnecting')).toEqual([
      { state: 'reconnecting', attempt: 1, reason: 'a' },
      { state: 'reconnecting', attempt: 2, reason: 'b' },
      { state: 'reconnecting', attempt: 3, reason: 'c' },
      { state: 'reconnecting', attempt: 4, reason: 'd' },
    ]);
    expect(states.at(-1)?.state).toBe('live');
    await sup.stop();
    expect(states.at(-1)).toEqual({ state: 'stopped' });
  });

  it('reports connecting, catching-up, live; a connection that reached live starts the backoff over', async () => {
    let lose: ((r: string) => void) | undefined;
    const lostLater: Step = async (c) => {
      lose = c.lost;
      await liveUntilLost(c);
    };
    const { sup, states, started } = harness([failWith('x'), failWith('y'), lostLater, failWith('z'), liveUntilLost]);
    await vi.advanceTimersByTimeAsync(100 + 200);
    expect(started()).toBe(3);
    lose!('listener connection closed by the server');
    await vi.advanceTimersByTimeAsync(0);
    expect(states.at(-1)).toEqual({ state: 'reconnecting', attempt: 1, reason: 'listener connection closed by the server' });
    await vi.advanceTimersByTimeAsync(100);
    expect(started()).toBe(4);
    // 'z' follows a live connection: attempt 2
    expect(states.at(-1)).toEqual({ state: 'reconnecting', attempt: 2, reason: 'z' });
    await vi.advanceTimersByTimeAsync(200);
    expect(states.map((s) => s.state)).toEqual([
      'connecting', 'reconnecting', 'connecting', 'reconnecting',
      'connecting', 'catching-up', 'live', 'reconnecting',
      'connecting', 'reconnecting',
      'connecting', 'catching-up', 'live',
    ]);
    expect(states.filter((s) => s.state === 'connecting').map((s) => s.attempt)).toEqual([undefined, 1, 2, 1, 2]);
    await sup.stop();
  });

  it('a loss during a catch-up aborts it at once and counts as that loss, not as the catch-up\'s error', async () => {
    let catchUpSignal: AbortSignal | undefined;
    let lose: ((r: string) => void) | undefined;
    let after: unknown = 'not reached';
    const blocked: Step = async (c) => {
      lose = c.lost;
      after = await c.catchUp((signal) => new Promise((_resolve, reject) => {
        catchUpSignal = signal;
        signal.addEventListener('abort', () => reject(new Error('canceling statement due to user request')));
      }));
    };
    const { sup, states } = harness([blocked, liveUntilLost]);
    await vi.advanceTimersByTimeAsync(0);
    expect(states.at(-1)?.state).toBe('catching-up');
    expect(catchUpSignal?.aborted).toBe(false);
    lose!('heartbeat got no answer within 5000 ms');
    expect(catchUpSignal?.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(after).toBeUndefined();
    expect(states.at(-1)).toEqual({ state: 'reconnecting', attempt: 1, reason: 'heartbeat got no answer within 5000 ms' });
    await vi.advanceTimersByTimeAsync(100);
    expect(states.at(-1)?.state).toBe('live');
    await sup.stop();
  });

  it('fatal errors end the watch; LOCKED only on the first attempt', async () => {
    const a = harness([failWith('net'), async () => { throw new TableSyncError('PERMISSION_DENIED', 'permission denied for table film'); }]);
    await vi.advanceTimersByTimeAsync(100);
    await expect(a.sup.done).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(a.states.at(-1)).toEqual({ state: 'failed', reason: 'permission denied for table film' });
    expect(a.started()).toBe(2);

    const locked = async () => { throw new TableSyncError('LOCKED', 'flow "f" is locked by another writer'); };
    const b = harness([locked]);
    await vi.advanceTimersByTimeAsync(0);
    await expect(b.sup.done).rejects.toMatchObject({ code: 'LOCKED' });

    const c = harness([failWith('net'), locked, liveUntilLost]);
    await vi.advanceTimersByTimeAsync(100 + 200);
    expect(c.states.at(-1)?.state).toBe('live');
    expect(c.states.filter((s) => s.state === 'reconnecting').map((s) => s.reason)).toEqual(['net', 'flow "f" is locked by another writer']);
    await c.sup.stop();
  });

  it('stop() ends a backoff, a live wait and a catch-up without waiting for any timer', async () => {
    // in a backoff of 400 ms
    const a = harness([failWith('x')], { backoff: { initialMs: 400, maxMs: 400 } });
    await vi.advanceTimersByTimeAsync(0);
    expect(a.states.at(-1)?.state).toBe('reconnecting');
    await a.sup.stop();
    expect(a.states.at(-1)).toEqual({ state: 'stopped' });
    expect(a.started()).toBe(1);

    // live, waiting for notifications (no timeout)
    const b = harness([liveUntilLost]);
    await vi.advanceTimersByTimeAsync(0);
    await b.sup.stop();
    expect(b.states.map((s) => s.state)).toEqual(['connecting', 'catching-up', 'live', 'stopped']);

    // in a catch-up that only ends when its signal is aborted, through the caller's AbortSignal
    const ac = new AbortController();
    const c = harness([async (cy) => { await cy.catchUp((signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(1)))); }], { signal: ac.signal });
    await vi.advanceTimersByTimeAsync(0);
    ac.abort();
    await c.sup.done;
    expect(c.states.map((s) => s.state)).toEqual(['connecting', 'catching-up', 'stopped']);
  });

  it('sleep() still waits its time after a stop (winding down), wait() does not', async () => {
    const marks: string[] = [];
    const { sup } = harness([async (c) => {
      c.live();
      while (c.running) await c.wait();
      await c.wait(1000);
      marks.push('waited');
      await c.sleep(300);
      marks.push('slept');
    }]);
    await vi.advanceTimersByTimeAsync(0);
    const stopped = sup.stop();
    await vi.advanceTimersByTimeAsync(0);
    expect(marks).toEqual(['waited']);
    await vi.advanceTimersByTimeAsync(299);
    expect(marks).toEqual(['waited']);
    await vi.advanceTimersByTimeAsync(1);
    await stopped;
    expect(marks).toEqual(['waited', 'slept']);
  });

  it('a throwing status subscriber does not look like a lost connection', async () => {
    const thrown: unknown[] = [];
    const onError = (e: unknown) => { thrown.push(e); };
    process.on('uncaughtException', onError);
    try {
      let calls = 0;
      const sup = supervise({
        cycle: liveUntilLost,
        status: (state) => { calls++; if (state === 'live') throw new Error('subscriber bug'); },
        random: () => 1,
      });
      await vi.advanceTimersByTimeAsync(0);
      await sup.stop();
      expect(calls).toBe(4); // connecting, catching-up, live, stopped: no reconnecting
      await vi.advanceTimersByTimeAsync(0);
      expect(thrown.map(String)).toEqual(['Error: subscriber bug']);
    } finally {
      await vi.advanceTimersByTimeAsync(0);
      process.off('uncaughtException', onError);
    }
  });
});
