/**
 * Sets of flows in the app: the saved sets, and the "New set" draft (source and target connection
 * and schema, tables "*" with exclude patterns, set-wide defaults, per-table filters) previewed
 * with `sets.plan` before it is saved (members with the defaults applied, refused tables with why).
 */
import { createStore } from 'zustand/vanilla';
import { ROW_PHASES } from '../../../core/api/model';
import { attachmentRows, flowFromForm, vectorIndexRows, type FlowForm } from '../lib/flow-draft';
import { ApiCallError, errorCode, errorMessage, type ApiClient } from '../api/client';
import { destructiveRefusal, messageWithHowToAllow } from '../lib/refusal';
import type { SavedConnection, SetApplyProgress, SetApplyResult, SetPlan, SetSpec, SetSpecInput, SetSummary, SetVerifyResult, StaleSetMember } from '../api/types';

export interface SetDraft {
  name: string;
  sourceConnectionId: string;
  sourceSchema: string;
  targetConnectionId: string;
  targetSchema: string;
  /** Comma-separated patterns (`audit_*, tmp_?`). */
  exclude: string;
  ordinalColumn: string;
  /** `source_type=target_type` pairs, comma-separated. */
  typeOverrides: string;
  foreignKeys: boolean;
  live: boolean;
  /** Per-table filter overrides. */
  filters: Record<string, string>;
  /** Per-table overrides from the flow editor's form (included columns, ordinal, column names/types); the filter lives in `filters`. */
  overrides: Record<string, MemberOverride>;
  /** The tables picked in the explorer (a list, comma-separated), or '' for every table of the schema. */
  tables: string;
}

export interface SetsState {
  list: SetSummary[];
  draft: SetDraft | null;
  preview: SetPlan | null;
  /** The set file the preview was computed for (a draft edited since needs a new preview before "apply this plan"). */
  previewSpec: string | null;
  busy: 'preview' | 'save' | 'apply' | 'verify' | 'drop' | null;
  /**
   * The running apply: its request (to cancel), its latest progress (set.applyProgress: overall) and
   * each member's own state as last reported (per table), in the order they were first seen.
   */
  applying: { name: string; requestId: string; progress: SetApplyProgress | null; tables: MemberState[] } | null;
  lastVerify: SetVerifyResult | null;
  lastDrop: { set: string; members: string[] } | null;
  /** A drop refused because it would delete data: the set and why (the screen asks before allowing it). */
  dropNeedsConfirm: { set: string; message: string } | null;
  /** An apply refused because it has destructive steps: the set and why (the screen asks before allowing them). */
  applyNeedsConfirm: { set: string; message: string; withPlan: boolean } | null;
  /** The last apply was cancelled: what the engine said (the target is unchanged). */
  cancelled: string | null;
  /** The reviewed plan went stale (PLAN_STALE): each changed member and why; the preview shown is recomputed. */
  stale: { set: string; members: StaleSetMember[] } | null;
  error: string | null;
  lastApply: SetApplyResult | null;
  load(): Promise<void>;
  /** Start a new set from a schema of a connection (the explorer's "New set"). */
  newFrom(connectionId: string, schema: string, tables?: string[]): void;
  /** Open a saved set in the form (sets.get → the draft): edit it, preview it, save it again. */
  openSaved(name: string, connections: SavedConnection[]): Promise<void>;
  edit(patch: Partial<SetDraft>): void;
  previewDraft(): Promise<void>;
  saveDraft(): Promise<void>;
  /**
   * Apply a saved set; without `allowDestructive` an apply with destructive steps is refused and asks
   * first. `withPlan`: with the preview's fingerprints (the plan the user reviewed), so a plan that
   * went stale is refused or reported per member, as a flow's plan is.
   */
  apply(name: string, allowDestructive?: boolean, withPlan?: boolean): Promise<void>;
  /** "Save and apply this plan": save the draft, then apply it with the preview's fingerprints. */
  applyPreview(): Promise<void>;
  onProgress(p: SetApplyProgress & { requestId?: string }): void;
  /** Cancel the running apply (query.cancel): the set's one transaction rolls back, the target is unchanged. */
  cancelApply(): Promise<void>;
  verify(name: string): Promise<void>;
  /** Drop the set's members; without `allowDestructive` a drop that deletes data is refused and asks first. */
  drop(name: string, allowDestructive?: boolean): Promise<void>;
}

/** The buttons that allow a refused set drop / apply (the refusal's message names them). */
export const SET_DROP_DESTRUCTIVE_LABEL = 'Drop, deleting the data';
export const SET_APPLY_DESTRUCTIVE_LABEL = 'Apply, allowing the destructive steps';

export type MemberOverride = NonNullable<SetSpecInput['overrides']>[string];

/**
 * A member's override from the flow editor's form (the same form and components as a flow's): the
 * columns left out, the ordinal column when one is chosen (none chosen: the set's default applies),
 * target column names and types, vector indexes and SQL attachments. The filter is returned apart
 * (the preview's filter box holds it).
 */
export function overrideFromForm(v: FlowForm): { override: MemberOverride; filter: string } {
  const f = flowFromForm(v);
  return {
    override: {
      ...(f.source.includedColumns ? { includedColumns: f.source.includedColumns } : {}),
      ...(f.source.ordinalColumn ? { ordinalColumn: f.source.ordinalColumn } : {}),
      ...(f.target.columns ? { columns: f.target.columns } : {}),
      ...(f.target.vectorIndexes ? { vectorIndexes: f.target.vectorIndexes } : {}),
      ...(f.target.sqlAttachments ? { sqlAttachments: f.target.sqlAttachments } : {}),
    },
    filter: f.source.filter ?? '',
  };
}

/**
 * The member's override after its editor's "Use for this table": what the form edits replaces the
 * old; what it does not show (target table name, live capture, managedBy, an ordinal default switched
 * off with null while the form says "the set's default") is kept.
 */
export function mergeOverride(old: MemberOverride | undefined, fromForm: MemberOverride): MemberOverride {
  const kept: MemberOverride = {};
  if (old?.targetTable) kept.targetTable = old.targetTable;
  if (old?.notification !== undefined) kept.notification = old.notification;
  if (old?.managedBy) kept.managedBy = old.managedBy;
  if (old?.ordinalColumn === null && fromForm.ordinalColumn === undefined) kept.ordinalColumn = null;
  return { ...kept, ...fromForm };
}

/** The editor's form for a member, from the table's form and the member's current override. */
export function formWithOverride(base: FlowForm, o: MemberOverride | undefined, filter: string): FlowForm {
  const included = o?.includedColumns;
  return {
    ...base,
    filter,
    ordinalColumn: typeof o?.ordinalColumn === 'string' ? o.ordinalColumn : '',
    ...(o?.targetTable ? { targetTable: o.targetTable } : {}),
    vectorIndexes: vectorIndexRows(o?.vectorIndexes),
    attachments: attachmentRows(o?.sqlAttachments),
    columns: base.columns.map((c) => ({
      ...c,
      included: c.key || !included || included.includes(c.source),
      targetName: o?.columns?.[c.source]?.name ?? '',
      targetType: o?.columns?.[c.source]?.type ?? '',
    })),
  };
}

/**
 * Where a member of a set apply stands. A set apply checks every member first (one event per
 * member, no member progress), then runs their DDL, then moves each member's rows (the member's own
 * progress: scanning, loading, merging… with row counts), then finishes them and commits.
 */
export type MemberState = { table: string } & (
  | { stage: 'checking' | 'checked' | 'ready' | 'moving rows' | 'rows moved' | 'done' }
  /** At work, in a phase of its own (`member`: the member's progress event). */
  | { stage: 'at work'; member: NonNullable<SetApplyProgress['member']> }
);

/** A member's state in words, e.g. "checked", "loading · 1,200 of 5,000 rows". */
export function memberStateText(t: MemberState): string {
  if (t.stage !== 'at work') return t.stage;
  const m = t.member;
  return `${m.phase}${m.rowsDone ? ` · ${m.rowsDone.toLocaleString('en-US')}${m.rowsTotal ? ` of ${m.rowsTotal.toLocaleString('en-US')}` : ''} rows` : ''}`;
}

/** The member is moving (or has moved) its rows: in the rows pass. */
const inRowsPass = (t: MemberState) => t.stage === 'ready' || t.stage === 'moving rows' || (t.stage === 'at work' && ROW_PHASES.has(t.member.phase));

/** Each member's state after a progress event. */
export function memberStates(prev: MemberState[], p: SetApplyProgress): MemberState[] {
  if (p.phase === 'done') return prev.map((t) => ({ table: t.table, stage: 'done' }));
  if (!p.table) return prev;
  const seen = prev.find((t) => t.table === p.table);
  const m = p.member;
  const rowsPass = m ? ROW_PHASES.has(m.phase) : seen !== undefined && seen.stage !== 'checking' && seen.stage !== 'checked';
  const state: MemberState = m
    ? m.phase === 'ddl' ? { table: p.table, stage: 'ready' } : { table: p.table, stage: 'at work', member: m }
    : { table: p.table, stage: seen ? 'moving rows' : 'checking' };
  const next = seen ? prev.map((t) => (t.table === p.table ? state : t)) : [...prev, state];
  return next.map((t, i): MemberState => {
    if (t.table === p.table) return t;
    // members before this one have been checked; once rows move (a member seen again), all have
    if (t.stage === 'checking' && (seen || i < p.memberIndex)) return { table: t.table, stage: 'checked' };
    // in the rows pass, the members before this one have moved their rows
    if (rowsPass && i < p.memberIndex && inRowsPass(t)) return { table: t.table, stage: 'rows moved' };
    return t;
  });
}

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

/** The draft's set-wide type overrides (`source type=target type, …`) as the set file's map. */
export function draftTypeOverrides(d: Pick<SetDraft, 'typeOverrides'>): Record<string, string> {
  return Object.fromEntries(list(d.typeOverrides).map((p) => p.split('=').map((x) => x.trim())).filter((p) => p.length === 2 && p[0] && p[1]));
}

/** The draft as a set file (what sets.save stores and the CLI reads). */
export function draftToSpec(d: SetDraft): SetSpecInput {
  const typeOverrides = draftTypeOverrides(d);
  const overrides: Record<string, MemberOverride> = {};
  for (const [t, o] of Object.entries(d.overrides)) if (Object.keys(o).length) overrides[t] = { ...o };
  for (const [t, f] of Object.entries(d.filters)) if (f.trim()) overrides[t] = { ...overrides[t], filter: f.trim() };
  return {
    version: 1,
    set: d.name,
    source: { connection: { saved: d.sourceConnectionId }, schema: d.sourceSchema },
    target: { connection: { saved: d.targetConnectionId }, schema: d.targetSchema, managedBy: 'system' },
    ...(list(d.tables).length ? { tables: list(d.tables) } : { tables: '*', ...(list(d.exclude).length ? { exclude: list(d.exclude) } : {}) }),
    defaults: {
      ...(d.ordinalColumn.trim() ? { ordinalColumn: d.ordinalColumn.trim() } : {}),
      ...(Object.keys(typeOverrides).length ? { typeOverrides } : {}),
      ...(d.live ? { notification: {} } : {}),
    },
    foreignKeys: d.foreignKeys,
    ...(Object.keys(overrides).length ? { overrides } : {}),
  };
}

/**
 * A saved set file as the form's draft (the inverse of draftToSpec): a `{ saved }` connection by
 * name or id becomes the picker's id; a member's filter goes to its filter box, the rest of its
 * override (columns, ordinal, vector indexes, attachments…) to the member's override.
 */
export function specToDraft(spec: SetSpec, connections: SavedConnection[]): SetDraft {
  const connId = (ref: SetSpec['source']['connection']) => {
    if (!('saved' in ref)) return '';
    return (connections.find((c) => c.id === ref.saved) ?? connections.find((c) => c.name === ref.saved))?.id ?? ref.saved;
  };
  const filters: Record<string, string> = {};
  const overrides: Record<string, MemberOverride> = {};
  for (const [t, o] of Object.entries(spec.overrides ?? {})) {
    const { filter, ...rest } = o;
    if (filter) filters[t] = filter;
    if (Object.keys(rest).length) overrides[t] = rest;
  }
  const d = spec.defaults ?? {};
  return {
    name: spec.set,
    sourceConnectionId: connId(spec.source.connection),
    sourceSchema: spec.source.schema,
    targetConnectionId: connId(spec.target.connection),
    targetSchema: spec.target.schema,
    exclude: (spec.exclude ?? []).join(', '),
    ordinalColumn: d.ordinalColumn ?? '',
    typeOverrides: Object.entries(d.typeOverrides ?? {}).map(([a, b]) => `${a}=${b}`).join(', '),
    foreignKeys: spec.foreignKeys,
    live: d.notification !== undefined,
    filters,
    overrides,
    tables: spec.tables === '*' ? '' : spec.tables.join(', '),
  };
}

export function createSetsStore(api: ApiClient) {
  return createStore<SetsState>()((set, get) => ({
    list: [],
    draft: null,
    preview: null,
    previewSpec: null,
    busy: null,
    error: null,
    lastApply: null,
    applying: null,
    lastVerify: null,
    lastDrop: null,
    dropNeedsConfirm: null,
    applyNeedsConfirm: null,
    stale: null,
    cancelled: null,
    load: async () => {
      try {
        set({ list: await api.call('sets.list', {}) });
      } catch (e) {
        set({ error: errorMessage(e) });
      }
    },
    newFrom: (connectionId, schema, tables) => set({
      draft: { tables: tables?.length ? tables.join(', ') : '', name: `${schema}_set`, sourceConnectionId: connectionId, sourceSchema: schema, targetConnectionId: connectionId, targetSchema: `${schema}_mirror`, exclude: '', ordinalColumn: '', typeOverrides: '', foreignKeys: true, live: true, filters: {}, overrides: {} },
      preview: null, error: null, lastApply: null,
    }),
    openSaved: async (name, connections) => {
      set({ error: null });
      try {
        const saved = await api.call('sets.get', { name });
        set({ draft: specToDraft(saved.set, connections), preview: null, lastApply: null });
      } catch (e) {
        set({ error: errorMessage(e) });
      }
    },
    edit: (patch) => {
      const d = get().draft;
      if (d) set({ draft: { ...d, ...patch } });
    },
    previewDraft: async () => {
      const d = get().draft;
      if (!d) return;
      set({ busy: 'preview', error: null });
      try {
        const spec = draftToSpec(d);
        set({ preview: await api.call('sets.plan', { set: spec }), previewSpec: JSON.stringify(spec) });
      } catch (e) {
        set({ error: errorMessage(e), preview: null, previewSpec: null });
      } finally {
        set({ busy: null });
      }
    },
    saveDraft: async () => {
      const d = get().draft;
      if (!d) return;
      set({ busy: 'save', error: null });
      try {
        await api.call('sets.save', { set: draftToSpec(d), overwrite: true });
        await get().load();
      } catch (e) {
        set({ error: errorMessage(e) });
      } finally {
        set({ busy: null });
      }
    },
    apply: async (name, allowDestructive = false, withPlan = false) => {
      const requestId = `set-apply-${name}-${Date.now().toString(36)}`;
      const p = withPlan ? get().preview : null;
      const expectedPlan = p ? { fingerprint: p.fingerprint, members: Object.fromEntries(p.members.map((m) => [m.table, m.plan?.fingerprint ?? ''])) } : undefined;
      set({ busy: 'apply', error: null, lastApply: null, applyNeedsConfirm: null, stale: null, cancelled: null, applying: { name, requestId, progress: null, tables: [] } });
      let staleNow: SetsState['stale'] = null;
      try {
        set({ lastApply: await api.call('sets.apply', { name, requestId, allowDestructive, ...(expectedPlan ? { expectedPlan } : {}) }) });
      } catch (e) {
        if (destructiveRefusal(e) && !allowDestructive) set({ applyNeedsConfirm: { set: name, withPlan, message: messageWithHowToAllow(e, `To allow them, click “${SET_APPLY_DESTRUCTIVE_LABEL}”.`) } });
        else if (errorCode(e) === 'CANCELLED') set({ cancelled: errorMessage(e) });
        else if (errorCode(e) === 'PLAN_STALE' && e instanceof ApiCallError && Array.isArray(e.detail?.['stale'])) staleNow = { set: name, members: e.detail['stale'] as StaleSetMember[] };
        else set({ error: errorMessage(e) });
      } finally {
        set({ busy: null, applying: null });
      }
      // What the screen shows must stay true: the plan as of now, with what changed and why.
      if (staleNow) {
        if (get().draft?.name === name) await get().previewDraft();
        set({ stale: staleNow });
      }
    },
    applyPreview: async () => {
      const d = get().draft;
      if (!d || !get().preview) return;
      await get().saveDraft();
      if (get().error) return;
      await get().apply(d.name, false, true);
    },
    onProgress: (p) => {
      const a = get().applying;
      if (a && p.requestId === a.requestId) set({ applying: { ...a, progress: p, tables: memberStates(a.tables, p) } });
    },
    cancelApply: async () => {
      const a = get().applying;
      if (!a) return;
      try {
        await api.call('query.cancel', { requestId: a.requestId });
      } catch (e) {
        set({ error: errorMessage(e) });
      }
    },
    verify: async (name) => {
      set({ busy: 'verify', error: null, lastVerify: null });
      try {
        set({ lastVerify: await api.call('sets.verify', { name }) });
      } catch (e) {
        set({ error: errorMessage(e) });
      } finally {
        set({ busy: null });
      }
    },
    drop: async (name, allowDestructive = false) => {
      set({ busy: 'drop', error: null, lastDrop: null, dropNeedsConfirm: null });
      try {
        const r = await api.call('sets.drop', { name, allowDestructive });
        set({ lastDrop: { set: name, members: r.members } });
      } catch (e) {
        if (destructiveRefusal(e) && !allowDestructive) set({ dropNeedsConfirm: { set: name, message: messageWithHowToAllow(e, `To allow it, click “${SET_DROP_DESTRUCTIVE_LABEL}”.`) } });
        else set({ error: errorMessage(e) });
      } finally {
        set({ busy: null });
      }
    },
  }));
}
export type SetsStore = ReturnType<typeof createSetsStore>;
