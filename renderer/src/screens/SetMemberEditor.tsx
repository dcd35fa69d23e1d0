/**
 * A set member's own settings, in the flow editor's form and with its components (ColumnsTable,
 * VectorIndexes, Attachments) and its validation (flowFormResolver: the form's rules and the flow
 * file's zod schema): included columns, target column names and types, the ordinal column, the
 * filter, pgvector indexes and SQL attachments. "Use for this table" stores them as the set's
 * override for the table; the next preview shows their effect (and the engine's blockers, by table).
 */
import { useEffect, useMemo, useState } from 'react';
import { FormProvider, useForm } from 'react-hook-form';
import { useApp, useS } from '../app-context';
import { errorMessage } from '../api/client';
import type { TableDescription } from '../api/types';
import { formFromTable, ordinalCandidates, type FlowForm } from '../lib/flow-draft';
import type { FieldIssue } from '../lib/flow-validation';
import { typeOverrideFor } from '../../../core/flow/schema.set';
import { draftTypeOverrides, formWithOverride, mergeOverride, overrideFromForm } from '../stores/sets';
import { Attachments } from './flow-edit/Attachments';
import { ColumnsTable } from './flow-edit/ColumnsTable';
import { reportingFlowFormResolver } from './flow-edit/resolver';
import { VectorIndexes } from './flow-edit/VectorIndexes';

export function SetMemberEditor({ table, onClose }: { table: string; onClose: () => void }) {
  const app = useApp();
  const d = useS(app.sets, (s) => s.draft);
  const connections = useS(app.connections, (s) => s.list);
  const [state, setState] = useState<{ desc: TableDescription; form: FlowForm } | { error: string } | null>(null);
  const connectionId = d?.sourceConnectionId;
  const schema = d?.sourceSchema;
  useEffect(() => {
    if (!connectionId || !schema) return;
    let live = true;
    app.api.call('catalog.describe', { connectionId, schema, table })
      .then((desc) => {
        if (!live) return;
        const draft = app.sets.getState().draft!;
        const all = app.connections.getState().list;
        const src = all.find((c) => c.id === draft.sourceConnectionId)!;
        const tgt = all.find((c) => c.id === draft.targetConnectionId);
        setState({ desc, form: formWithOverride(formFromTable(desc, src, tgt, all), draft.overrides[table], draft.filters[table] ?? '') });
      })
      .catch((e: unknown) => { if (live) setState({ error: errorMessage(e) }); });
    return () => { live = false; };
  }, [app, connectionId, schema, table]);
  if (!state) return <div className="faint" style={{ padding: 8 }}><span className="spinner" /> Loading {table}…</div>;
  if ('error' in state) return <div className="alert error">{state.error}</div>;
  return <EditorForm key={`${table}-${connections.length}`} table={table} desc={state.desc} initial={state.form} onClose={onClose} />;
}

function EditorForm({ table, desc, initial, onClose }: { table: string; desc: TableDescription; initial: FlowForm; onClose: () => void }) {
  const app = useApp();
  // What the form's one validation (the resolver, on every change) found last: listed after a first
  // "Use for this table" (the first message per field, as the fields show them), each naming the
  // table, and kept true as the user fixes it.
  const [issues, setIssues] = useState<FieldIssue[]>([]);
  const resolver = useMemo(() => reportingFlowFormResolver((found) => setIssues((was) => (JSON.stringify(was) === JSON.stringify(found) ? was : found))), []);
  const form = useForm<FlowForm>({ defaultValues: initial, resolver, mode: 'onChange' });
  const ordinal = ordinalCandidates(desc.columns);
  // The set-wide typeOverrides, as the set's expansion applies them: what a column becomes unless this form retypes it.
  const setTypes = draftTypeOverrides(useS(app.sets, (s) => s.draft) ?? { typeOverrides: '' });
  const inheritedTypes = Object.fromEntries(desc.columns.flatMap((c) => { const t = typeOverrideFor(setTypes, c); return t ? [[c.name, t]] : []; }));
  const problems = form.formState.isSubmitted ? issues.map((i) => `Table “${table}”: ${i.message}`) : [];
  const use = form.handleSubmit(
    (v) => {
      const { override, filter } = overrideFromForm(v);
      const draft = app.sets.getState().draft!;
      app.sets.getState().edit({ overrides: { ...draft.overrides, [table]: mergeOverride(draft.overrides[table], override) }, filters: { ...draft.filters, [table]: filter } });
      onClose();
    },
  );
  return (
    <FormProvider {...form}>
      <div className="panel" data-testid={`set-member-editor-${table}`} style={{ marginTop: 8 }}>
        <header><h2 className="grow">Table {table}: its own settings in the set</h2><span className="muted">unset fields keep the set's defaults</span></header>
        <div className="content">
          <div className="row" style={{ gap: 12, flexWrap: 'wrap', marginBottom: 8 }}>
            <label>ordinal column{' '}
              <select {...form.register('ordinalColumn')} data-testid="member-ordinal">
                <option value="">the set's default (or row fingerprints)</option>
                {ordinal.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
              </select>
            </label>
            <label style={{ flex: 1 }}>filter <input {...form.register('filter')} placeholder="SQL filter (rows to sync)" data-testid="member-filter" style={{ width: '70%' }} className="mono" /></label>
          </div>
          <ColumnsTable desc={desc} inheritedTypes={inheritedTypes} />
          <div className="grid2" style={{ marginTop: 8, alignItems: 'start' }}>
            <VectorIndexes />
            <Attachments />
          </div>
          {problems.length > 0 && (
            <div className="alert error" data-testid="member-errors" style={{ marginTop: 8, display: 'block' }}>
              <ul style={{ margin: 0, paddingLeft: 18 }}>{problems.map((p, i) => <li key={i}>{p}</li>)}</ul>
            </div>
          )}
          <div className="row" style={{ gap: 6, marginTop: 8 }}>
            <button className="btn primary small" data-testid="member-use" onClick={() => void use()}>Use for this table</button>
            <button className="btn small" onClick={onClose}>Cancel</button>
          </div>
        </div>
      </div>
    </FormProvider>
  );
}
