// The live monitor keeps bounded per-flow buffers: the feed (pausable, filterable), the listener's
// state history, and per-second throughput/latency buckets for the chart.
import { describe, expect, it } from 'vitest';
import { createMonitorStore, FEED_MAX } from '../../renderer/src/stores/monitor';
import type { ChangeEvent } from '../../renderer/src/api/types';
import { fakeApi } from './renderer-fake-api';

const ev = (i: number, over: Partial<ChangeEvent> = {}): ChangeEvent => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, Math.floor(i / 10))).toISOString(),
  flow: 'f',
  op: 'update',
  key: { id: String(i) },
  outcome: 'applied',
  latencyMs: 4 + (i % 3),
  ...over,
});

describe('monitor', () => {
  it('keeps the newest events first and at most FEED_MAX of them', () => {
    const m = createMonitorStore(fakeApi());
    for (let i = 0; i < FEED_MAX + 50; i++) m.getState().onChange(ev(i));
    const fm = m.getState().flows['f']!;
    expect(fm.feed).toHaveLength(FEED_MAX);
    expect(fm.feed[0]!.key).toEqual({ id: String(FEED_MAX + 49) });
    expect(fm.totals['applied']).toBe(FEED_MAX + 50);
  });

  it('holds events while paused and shows them on resume', () => {
    const m = createMonitorStore(fakeApi());
    m.getState().onChange(ev(1));
    m.getState().setPaused(true);
    m.getState().onChange(ev(2));
    m.getState().onChange(ev(3));
    expect(m.getState().flows['f']!.feed).toHaveLength(1);
    expect(m.getState().flows['f']!.held).toHaveLength(2);
    m.getState().setPaused(false);
    expect(m.getState().flows['f']!.feed.map((e) => e.key['id'])).toEqual(['3', '2', '1']);
  });

  it('filters the feed by operation and key text', () => {
    const m = createMonitorStore(fakeApi());
    m.getState().onChange(ev(1, { op: 'insert' }));
    m.getState().onChange(ev(22, { op: 'delete', outcome: 'deleted' }));
    m.getState().onChange(ev(3, { outcome: 'failed', error: 'boom' }));
    m.getState().setOpFilter('delete');
    expect(m.getState().visibleFeed('f').map((e) => e.key['id'])).toEqual(['22']);
    m.getState().setOpFilter('failed');
    expect(m.getState().visibleFeed('f').map((e) => e.key['id'])).toEqual(['3']);
    m.getState().setOpFilter('all');
    m.getState().setFilterText('22');
    expect(m.getState().visibleFeed('f')).toHaveLength(1);
  });

  it('buckets throughput and latency per second for the chart', () => {
    const m = createMonitorStore(fakeApi());
    for (let i = 0; i < 30; i++) m.getState().onChange(ev(i));
    const series = m.getState().flows['f']!.series;
    expect(series.map((b) => b.count)).toEqual([10, 10, 10]);
    expect(series[0]!.latencyN).toBe(10);
    expect(series[0]!.latencyMax).toBe(6);
  });

  it('measures the rate by the clock: it falls to 0 once changes stop (after Stop watching)', () => {
    const m = createMonitorStore(fakeApi());
    for (let i = 0; i < 30; i++) m.getState().onChange(ev(i)); // 10 a second, for 3 seconds from 00:00:00
    const t0 = Date.UTC(2026, 0, 1, 0, 0, 2);
    expect(m.getState().throughput('f', t0).perSecond).toBe(3); // 30 changes in the last 10 s
    expect(m.getState().throughput('f', t0).avgLatencyMs).toBeCloseTo(5, 0);
    expect(m.getState().throughput('f', t0 + 60_000)).toEqual({ perSecond: 0, avgLatencyMs: null });
  });

  it('"failed" shows only failures, and the count says how many are shown', () => {
    const m = createMonitorStore(fakeApi());
    for (let i = 0; i < 20; i++) m.getState().onChange(ev(i, i === 7 ? { outcome: 'failed', error: 'boom' } : {}));
    m.getState().setOpFilter('failed');
    expect(m.getState().visibleFeed('f').map((e) => e.key.id)).toEqual(['7']);
  });

  it('records listener states with their reasons', () => {
    const m = createMonitorStore(fakeApi());
    const base = { time: new Date().toISOString(), flow: 'f', channel: 'f__s__tablesync' };
    m.getState().onListener({ ...base, state: 'live' });
    m.getState().onListener({ ...base, state: 'reconnecting', reason: 'terminating connection due to administrator command', attempt: 1 });
    m.getState().onListener({ ...base, state: 'catching-up' });
    m.getState().onListener({ ...base, state: 'live', caughtUp: 3 });
    const fm = m.getState().flows['f']!;
    expect(fm.status?.state).toBe('live');
    expect(fm.statusLog.map((s) => s.state)).toEqual(['live', 'catching-up', 'reconnecting', 'live']);
    expect(fm.statusLog[2]!.reason).toMatch(/administrator/);
    expect(fm.watching).toBe(true);
  });
});
