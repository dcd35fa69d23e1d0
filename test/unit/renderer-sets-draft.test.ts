// The Sets screen's draft as a set file: tables picked in the explorer become the set's list (no
// exclude patterns); no pick means every table of the schema with the exclude patterns.
import { describe, expect, it } from 'vitest';
import { createSetsStore, draftToSpec } from '../../renderer/src/stores/sets';
import { fakeApi } from './renderer-fake-api';
import { ApiCallError } from '../../core/api/errors';

describe('sets draft', () => {
  it('a set from picked tables lists them; the whole schema uses "*" with exclude', () => {
    const s = createSetsStore(fakeApi());
    s.getState().newFrom('c1', 'public', ['film', 'language']);
    s.getState().edit({ exclude: 'audit_*' });
    const picked = draftToSpec(s.getState().draft!);
    expect(picked.tables).toEqual(['film', 'language']);
    expect(picked).not.toHaveProperty('exclude');
    s.getState().edit({ tables: '' });
    expect(draftToSpec(s.getState().draft!)).toMatchObject({ tables: '*', exclude: ['audit_*'] });
    s.getState().newFrom('c1', 'public');
    expect(draftToSpec(s.getState().draft!).tables).toBe('*');
  });
});

describe('sets: apply progress, cancel, verify, drop', () => {
  it('shows its own apply progress, cancels by request id, asks before a drop that deletes data', async () => {
    const api = fakeApi();
    const s = createSetsStore(api);
    let finish!: () => void;
    api.handlers['sets.apply'] = () => new Promise((r) => { finish = () => r({ set: 'shop', members: [], refused: [], foreignKeysAdded: 0, foreignKeysDropped: 0, departedDropped: [], departedKept: [], totals: { insert: 0, update: 0, delete: 0, unchanged: 0 }, durationMs: 1 } as never); });
    api.handlers['query.cancel'] = () => ({ cancelled: true });
    const running = s.getState().apply('shop');
    const requestId = s.getState().applying!.requestId;
    s.getState().onProgress({ set: 'shop', memberIndex: 0, members: 3, phase: 'members', table: 'x', requestId: 'someone-else' });
    expect(s.getState().applying!.progress).toBeNull();
    s.getState().onProgress({ set: 'shop', memberIndex: 1, members: 3, phase: 'members', table: 'film', requestId });
    expect(s.getState().applying!.progress).toMatchObject({ table: 'film', memberIndex: 1 });
    await s.getState().cancelApply();
    expect(api.calls.find((c) => c.method === 'query.cancel')!.input).toEqual({ requestId });
    expect(api.calls.find((c) => c.method === 'sets.apply')!.input).toMatchObject({ name: 'shop', requestId });
    finish();
    await running;
    expect(s.getState().applying).toBeNull();

    api.handlers['sets.drop'] = (i) => {
      if (!(i as { allowDestructive?: boolean }).allowDestructive) throw new ApiCallError('DESTRUCTIVE_NOT_ALLOWED', 'would delete data');
      return { members: ['shop.a', 'shop.b'], steps: [] };
    };
    await s.getState().drop('shop');
    expect(s.getState().dropNeedsConfirm?.set).toBe('shop');
    expect(s.getState().lastDrop).toBeNull();
    await s.getState().drop('shop', true);
    expect(s.getState().lastDrop).toEqual({ set: 'shop', members: ['shop.a', 'shop.b'] });
    expect(s.getState().dropNeedsConfirm).toBeNull();
  });
});
