// A set's monitor: its one watcher is started/stopped through sets.watchStart/Stop, its status
// arrives under the set's name, its events under the member flows `{set}.{table}`; the combined
// feed has every member's events with the table, newest first, narrowed by a table filter, and
// each member keeps its own rate and lag.
import { describe, expect, it } from 'vitest';
import { createMonitorStore } from '../../renderer/src/stores/monitor';
import type { ChangeEvent } from '../../renderer/src/api/types';
import { fakeApi } from './renderer-fake-api';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const ev = (flow: string, s: number, id: string, over: Partial<ChangeEvent> = {}): ChangeEvent => ({
  time: at(s), flow, op: 'insert', key: { id }, outcome: 'applied', latencyMs: 10, ...over,
});

describe('monitor of a set', () => {
  it('starts and stops the set watch, merges member feeds with their table, filters by table', async () => {
    const api = fakeApi();
    api.handlers['sets.watchStart'] = () => ({ flow: 'rental', set: true, members: ['rental.film', 'rental.language', 'rental.store'], startedAt: at(0), status: null, counts: {} });
    api.handlers['sets.watchStop'] = () => ({ stopped: true });
    const m = createMonitorStore(api);
    await m.getState().startSet('rental');
    expect(api.calls.map((c) => c.method)).toEqual(['sets.watchStart']);
    expect(m.getState().flows['rental']!.watching).toBe(true);
    // every member has a row before its first event
    expect(m.getState().setTables('rental')).toEqual(['film', 'language', 'store']);
    m.getState().onListener({ time: at(1), flow: 'rental', channel: 'rental.film, rental.language', state: 'live' });
    m.getState().onChange(ev('rental.film', 1, '1', { latencyMs: 30 }));
    m.getState().onChange(ev('rental.language', 2, '7'));
    m.getState().onChange(ev('rental.film', 3, '2', { op: 'delete', outcome: 'deleted', latencyMs: 50 }));
    m.getState().onChange(ev('other', 4, '9')); // another flow's events are not the set's
    expect(m.getState().setTables('rental')).toEqual(['film', 'language', 'store']);
    expect(m.getState().setFeed('rental').map((e) => [e.table, e.key['id']])).toEqual([['film', '2'], ['language', '7'], ['film', '1']]);
    m.getState().setTableFilter('film');
    expect(m.getState().setFeed('rental').map((e) => e.key['id'])).toEqual(['2', '1']);
    m.getState().setOpFilter('delete');
    expect(m.getState().setFeed('rental').map((e) => e.key['id'])).toEqual(['2']);
    m.getState().setOpFilter('all');
    m.getState().setTableFilter('');
    // per table: its own rate and lag over the last RATE_SECONDS
    const film = m.getState().throughput('rental.film', Date.parse(at(4)));
    expect(film.perSecond).toBeCloseTo(0.2);
    expect(film.avgLatencyMs).toBe(40);
    expect(m.getState().throughput('rental.language', Date.parse(at(4))).avgLatencyMs).toBe(10);
    await m.getState().stopSet('rental');
    expect(api.calls.map((c) => c.method)).toEqual(['sets.watchStart', 'sets.watchStop']);
    expect(m.getState().flows['rental']!.watching).toBe(false);
  });

  it('a monitor opened late gets the set\'s recent events into each member\'s feed', async () => {
    const api = fakeApi();
    api.handlers['flows.watchList'] = () => [{ flow: 'rental', set: true, startedAt: at(0), status: null, counts: {} }];
    api.handlers['flows.watchRecent'] = () => [ev('rental.film', 1, '1'), ev('rental.store', 2, '3')];
    const m = createMonitorStore(api);
    await m.getState().select('rental');
    expect(m.getState().setFeed('rental').map((e) => `${e.table}:${e.key['id']}`)).toEqual(['store:3', 'film:1']);
  });
});
