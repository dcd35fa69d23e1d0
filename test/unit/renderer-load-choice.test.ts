// The flow editor's "automatic: …" line: asked of the engine (flows.loadChoice) for a draft the
// flow schema accepts, once per distinct draft (the flow's own load.streams left out), only the
// latest answer counts, and a one-session server the engine did not ask says just "automatic".
import { describe, expect, it } from 'vitest';
import { automaticText, createLoadChoiceStore } from '../../renderer/src/stores/load-choice';
import type { FlowInput } from '../../renderer/src/api/types';
import { fakeApi } from './renderer-fake-api';

const flow = (over: Partial<FlowInput> = {}): FlowInput => ({
  version: 1, name: 'f', source: { connection: { saved: 'shop' }, table: 'products', notification: {} }, target: { connection: { saved: 'wh' }, table: 'products' }, ...over,
});
const settle = () => new Promise((r) => setTimeout(r, 5));

describe('initial load: what automatic would choose', () => {
  it('asks once per draft; the flow’s own number and the capture do not ask again; the words', async () => {
    const api = fakeApi();
    api.handlers['flows.loadChoice'] = () => ({ automatic: { streams: 4, format: 'binary', estimatedRows: 1_000_000 } });
    const s = createLoadChoiceStore(api, { debounceMs: 0 });
    s.getState().ask(flow());
    expect(s.getState().status).toBe('asking');
    expect(automaticText(s.getState())).toBe('automatic — asking the servers…');
    await settle();
    expect(s.getState()).toMatchObject({ status: 'known', choice: { streams: 4 } });
    expect(automaticText(s.getState())).toBe('automatic: 4 parallel streams, binary COPY for ~1.0M rows');
    s.getState().ask(flow({ load: { streams: 8 } }));
    s.getState().ask({ ...flow(), source: { ...flow().source, notification: { channelName: 'x' } } });
    await settle();
    expect(api.calls.filter((c) => c.method === 'flows.loadChoice')).toHaveLength(1);
    // The engine is never sent the flow's own number: automatic is what it would choose alone.
    expect(JSON.stringify(api.calls[0]!.input)).not.toContain('load');
    s.getState().ask(flow({ target: { connection: { saved: 'wh' }, table: 'other' } }));
    await settle();
    expect(api.calls.filter((c) => c.method === 'flows.loadChoice')).toHaveLength(2);
  });

  it('a draft the schema refuses is not sent; not an initial load, not asked and a failure each say so', async () => {
    const api = fakeApi();
    const s = createLoadChoiceStore(api, { debounceMs: 0 });
    s.getState().ask(flow({ name: '' }));
    expect(s.getState().status).toBe('unknown');
    expect(api.calls).toHaveLength(0);
    expect(automaticText(s.getState())).toMatch(/^automatic — by the table’s size/);

    api.handlers['flows.loadChoice'] = () => ({ automatic: null });
    s.getState().ask(flow());
    await settle();
    expect(automaticText(s.getState())).toMatch(/^automatic — the next apply is not an initial load/);

    api.handlers['flows.loadChoice'] = () => ({ automatic: null, notAsked: 'the target serves one session at a time' });
    s.getState().ask(flow({ name: 'g' }));
    await settle();
    expect(s.getState()).toMatchObject({ status: 'unknown', notAsked: 'the target serves one session at a time' });
    expect(automaticText(s.getState())).toBe('automatic — not asked: the target serves one session at a time, which a hint must not take from a plan or a watch');

    api.handlers['flows.loadChoice'] = () => { throw new Error('connection refused'); };
    s.getState().ask(flow({ name: 'h' }));
    await settle();
    expect(s.getState()).toMatchObject({ status: 'unknown', notAsked: null });
  });

  it('only the latest answer counts: an earlier draft answered late is dropped', async () => {
    const api = fakeApi();
    api.handlers['flows.loadChoice'] = ((i: { flow: FlowInput }) => ({ automatic: { streams: i.flow.name === 'first' ? 1 : 2, format: 'text', estimatedRows: 10 } })) as never;
    const hold = api.hold('flows.loadChoice');
    const s = createLoadChoiceStore(api, { debounceMs: 0 });
    s.getState().ask(flow({ name: 'first' }));
    await settle(); // "first" is asked and held
    s.getState().ask(flow({ name: 'second' }));
    await settle(); // "second" answered
    expect(s.getState().choice?.streams).toBe(2);
    hold.release(); // "first" answers now, late
    await settle();
    expect(s.getState()).toMatchObject({ status: 'known', choice: { streams: 2 } });
  });
});
