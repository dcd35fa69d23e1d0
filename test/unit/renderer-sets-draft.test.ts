// The Sets screen's draft as a set file: tables picked in the explorer become the set's list (no
// exclude patterns); no pick means every table of the schema with the exclude patterns.
import { describe, expect, it } from 'vitest';
import { createSetsStore, draftToSpec } from '../../renderer/src/stores/sets';
import { fakeApi } from './renderer-fake-api';

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
