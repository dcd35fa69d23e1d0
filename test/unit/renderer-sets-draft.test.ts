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
      if (!(i as { allowDestructive?: boolean }).allowDestructive) throw new ApiCallError('DESTRUCTIVE_NOT_ALLOWED', 'dropping set "shop" would delete data, which runs only when allowed: drop table a; target: unchanged', { allow: 'allowDestructive', action: 'drop', subject: 'set "shop"', summaries: ['drop table a'] });
      return { members: ['shop.a', 'shop.b'], steps: [] };
    };
    await s.getState().drop('shop');
    expect(s.getState().dropNeedsConfirm?.set).toBe('shop');
    // the app's words: which button allows it, never the CLI's flag
    expect(s.getState().dropNeedsConfirm?.message).toBe('dropping set "shop" would delete data, which runs only when allowed: drop table a; target: unchanged. To allow it, click “Drop, deleting the data”.');
    expect(s.getState().dropNeedsConfirm?.message).not.toContain('--allow-destructive');
    expect(s.getState().lastDrop).toBeNull();
    await s.getState().drop('shop', true);
    expect(s.getState().lastDrop).toEqual({ set: 'shop', members: ['shop.a', 'shop.b'] });
    expect(s.getState().dropNeedsConfirm).toBeNull();

    // an apply with destructive steps: refused, then asked for with the app's button
    api.handlers['sets.apply'] = (i) => {
      if (!(i as { allowDestructive?: boolean }).allowDestructive) throw new ApiCallError('DESTRUCTIVE_NOT_ALLOWED', 'set "shop", table "a": flow "shop.a" needs destructive steps, which run only when allowed: drop column b', { allow: 'allowDestructive', action: 'apply', subject: 'flow "shop.a"', summaries: ['drop column b'] });
      return { set: 'shop', members: [], refused: [], foreignKeysAdded: 0, foreignKeysDropped: 0, departedDropped: [], departedKept: [], totals: { insert: 0, update: 0, delete: 0, unchanged: 0, foreign: 0 }, durationMs: 1 } as never;
    };
    await s.getState().apply('shop');
    expect(s.getState().error).toBeNull();
    expect(s.getState().applyNeedsConfirm?.message).toMatch(/which run only when allowed: drop column b\. To allow them, click “Apply, allowing the destructive steps”\.$/);
    await s.getState().apply('shop', true);
    expect(s.getState().applyNeedsConfirm).toBeNull();
    expect(s.getState().lastApply?.set).toBe('shop');
    // any other error is shown as it is
    api.handlers['sets.apply'] = () => { throw new ApiCallError('LOCKED', 'flow "shop.a" is locked'); };
    await s.getState().apply('shop');
    expect(s.getState().error).toBe('flow "shop.a" is locked');
    expect(s.getState().applyNeedsConfirm).toBeNull();
  });
});

describe('sets: a member override from the flow editor form', () => {
  it('turns the form into the set override (columns left out, names, types, ordinal) and back', async () => {
    const { formWithOverride, overrideFromForm } = await import('../../renderer/src/stores/sets');
    const row = (source: string, type: string, key = false) => ({ source, type, key, included: true, targetName: '', targetType: '', dims: '' });
    const base = {
      name: 'film_sync', sourceConnection: 'c1', sourceSchema: 'public', sourceTable: 'film',
      columns: [row('film_id', 'integer', true), row('title', 'text'), row('rating', 'mpaa_rating'), row('sequel_of', 'integer'), row('last_update', 'timestamp with time zone')],
      ordinalColumn: '', filter: '', notify: true, channelName: '', acceptPrepareFailures: false, targetConnection: 'c2', targetSchema: 'public', targetTable: 'film', managedBy: 'system' as const, vectorIndexes: [], attachments: [], loadMode: 'auto' as const, loadStreams: '', replication: null,
    };
    const untouched = overrideFromForm(base);
    expect(untouched).toEqual({ override: {}, filter: '' });
    const v = { ...base, ordinalColumn: 'last_update', filter: 'film_id > 3', columns: base.columns.map((c) => (c.source === 'title' ? { ...c, targetName: 'film_title' } : c.source === 'sequel_of' ? { ...c, included: false } : c.source === 'rating' ? { ...c, targetType: 'varchar(5)' } : c)) };
    const { override, filter } = overrideFromForm(v);
    expect(filter).toBe('film_id > 3');
    expect(override).toEqual({ includedColumns: ['title', 'rating', 'last_update'], ordinalColumn: 'last_update', columns: { title: { name: 'film_title' }, rating: { type: 'varchar(5)' } } });
    const back = formWithOverride(base, override, filter);
    expect(overrideFromForm(back)).toEqual({ override, filter });
    // in the set file: the override with the filter box's filter
    const s = createSetsStore(fakeApi());
    s.getState().newFrom('c1', 'public', ['film']);
    s.getState().edit({ overrides: { film: override }, filters: { film: 'film_id > 3' } });
    expect(draftToSpec(s.getState().draft!).overrides).toEqual({ film: { ...override, filter: 'film_id > 3' } });
  });
});

describe('sets: vector indexes and SQL attachments of a member, through the saved set file', () => {
  it('the member form carries them into the override and back; a saved set reopens with them', async () => {
    const { formWithOverride, overrideFromForm, mergeOverride, specToDraft } = await import('../../renderer/src/stores/sets');
    const { setSpec } = await import('../../core/flow/schema.set');
    const { validateFlowForm } = await import('../../renderer/src/lib/flow-validation');
    const row = (source: string, type: string, key = false) => ({ source, type, key, included: true, targetName: '', targetType: '', dims: '' });
    const base = {
      name: 'doc_sync', sourceConnection: 'c1', sourceSchema: 'public', sourceTable: 'doc',
      columns: [row('id', 'integer', true), row('body', 'text'), row('embedding', 'real[]')],
      ordinalColumn: '', filter: '', notify: true, channelName: '', acceptPrepareFailures: false, targetConnection: 'c2', targetSchema: 'public', targetTable: 'doc', managedBy: 'system' as const, vectorIndexes: [], attachments: [], loadMode: 'auto' as const, loadStreams: '', replication: null,
    };
    const v = {
      ...base,
      columns: base.columns.map((c) => (c.source === 'embedding' ? { ...c, targetType: 'vector(3)' } : c)),
      vectorIndexes: [{ name: '', column: 'embedding', metric: 'l2' as const, method: 'hnsw' as const, lists: '', m: '8', efConstruction: '32' }],
      attachments: [{ name: 'body_fts', setupSql: 'CREATE INDEX doc_fts ON mirror.doc USING gin (to_tsvector(\'simple\', body))', teardownSql: 'DROP INDEX mirror.doc_fts' }],
    };
    expect(validateFlowForm(v)).toEqual([]);
    const { override } = overrideFromForm(v);
    expect(override).toEqual({
      columns: { embedding: { type: 'vector(3)' } },
      vectorIndexes: [{ column: 'embedding', metric: 'l2', method: 'hnsw', m: 8, efConstruction: 32 }],
      sqlAttachments: [{ name: 'body_fts', setupSql: v.attachments[0]!.setupSql, teardownSql: 'DROP INDEX mirror.doc_fts' }],
    });
    // what the form does not edit survives "Use for this table"
    expect(mergeOverride({ targetTable: 'documents', notification: null, ordinalColumn: null }, override)).toEqual({ targetTable: 'documents', notification: null, ordinalColumn: null, ...override });
    const back = formWithOverride(base, override, '');
    expect(back.vectorIndexes).toEqual([{ name: '', column: 'embedding', metric: 'l2', method: 'hnsw', lists: '', m: '8', efConstruction: '32' }]);
    expect(back.attachments).toEqual(v.attachments);
    expect(overrideFromForm(back).override).toEqual(override);

    // the set file: saved (zod-parsed as the API does), reopened as the draft, saved again: the same
    const s = createSetsStore(fakeApi());
    s.getState().newFrom('c1', 'public', ['doc', 'tag']);
    s.getState().edit({ overrides: { doc: override }, filters: { doc: 'id > 1' }, ordinalColumn: 'updated_at', typeOverrides: 'mood=text' });
    const saved = setSpec.parse(draftToSpec(s.getState().draft!));
    expect(saved.overrides?.doc).toMatchObject({ vectorIndexes: override.vectorIndexes, sqlAttachments: override.sqlAttachments, filter: 'id > 1' });
    const conns = [{ id: 'c1', name: 'rental' }] as never;
    const reopened = specToDraft(saved, conns);
    expect(reopened.overrides.doc).toEqual(override);
    expect(reopened.filters.doc).toBe('id > 1');
    expect(setSpec.parse(draftToSpec(reopened))).toEqual(saved);
    // a set file naming its connection by name opens with the picker's id
    expect(specToDraft({ ...saved, source: { ...saved.source, connection: { saved: 'rental' } } }, conns).sourceConnectionId).toBe('c1');

    // validated like a flow: an index on a column that is not a vector, an attachment without SQL
    const bad = { ...v, columns: base.columns, attachments: [{ name: 'x', setupSql: ' ', teardownSql: '' }] };
    const issues = validateFlowForm(bad);
    expect(issues).toContainEqual({ field: 'vectorIndexes.0.column', message: '“embedding” is real[], not a vector.' });
    expect(issues.find((i) => i.field === 'attachments.0.setupSql')?.message).toMatch(/What SQL sets it up/);
  });
});

describe('sets: apply progress per table', () => {
  it('lists every member as checked, then each one at work with its own phase, then done', async () => {
    const { memberStates, memberStateText } = await import('../../renderer/src/stores/sets');
    // The states are structured (stage, the member's own progress); the screen shows them in words.
    const shown = (xs: ReturnType<typeof memberStates>) => xs.map((x) => ({ table: x.table, state: memberStateText(x) }));
    const ev = (table: string | undefined, memberIndex: number, phase: 'members' | 'done' | 'foreign-keys' = 'members', member?: { phase: 'loading' | 'merging'; rowsDone: number; rowsTotal: number | null }) =>
      ({ set: 's', members: 3, memberIndex, phase, ...(table ? { table } : {}), ...(member ? { member: { flow: `s.${table}`, ...member } } : {}) });
    let t = memberStates([], ev('a', 0));
    t = memberStates(t, ev('b', 1));
    t = memberStates(t, ev('c', 2));
    expect(shown(t)).toEqual([{ table: 'a', state: 'checked' }, { table: 'b', state: 'checked' }, { table: 'c', state: 'checking' }]);
    t = memberStates(t, ev(undefined, 0, 'foreign-keys'));
    t = memberStates(t, ev('a', 0));
    expect(shown(t).map((x) => x.state)).toEqual(['moving rows', 'checked', 'checked']);
    t = memberStates(t, ev('a', 0, 'members', { phase: 'merging', rowsDone: 10, rowsTotal: null }));
    t = memberStates(t, ev('b', 1, 'members', { phase: 'loading', rowsDone: 1200, rowsTotal: 5000 }));
    expect(shown(t)).toEqual([{ table: 'a', state: 'rows moved' }, { table: 'b', state: 'loading · 1,200 of 5,000 rows' }, { table: 'c', state: 'checked' }]);
    t = memberStates(t, ev(undefined, 3, 'done'));
    expect(shown(t).map((x) => x.state)).toEqual(['done', 'done', 'done']);
  });
});
