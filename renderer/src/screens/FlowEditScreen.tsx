/**
 * Flow setup, point and click: from a source table to a flow file. The form (react-hook-form) is
 * validated by the flow file's own zod schema (core/flow/schema.ts flowSpec) through a resolver that
 * maps its issues back onto the form's fields, so the screen and the CLI agree on what is valid.
 */
import { useEffect, useMemo, useState } from 'react';
import { FormProvider, useForm } from 'react-hook-form';
import { useApp, useS } from '../app-context';
import { errorMessage } from '../api/client';
import type { TableDescription } from '../api/types';
import { SqlEditor } from '../components/SqlEditor';
import { Empty, ErrorBox, Loading } from '../components/States';
import { Attachments } from './flow-edit/Attachments';
import { ColumnsTable } from './flow-edit/ColumnsTable';
import { fieldErrorOf } from './flow-edit/field-error';
import { RenameDialog } from './flow-edit/RenameDialog';
import { flowFormResolver } from './flow-edit/resolver';
import { VectorIndexes } from './flow-edit/VectorIndexes';
import { InitialLoad } from './flow-edit/InitialLoad';
import { createLoadChoiceStore } from '../stores/load-choice';
import { connectionOfRef, formCaptureNames, flowFromForm, ordinalCandidates, type FlowForm } from '../lib/flow-draft';
import { useShortcut, keyLabel } from '../lib/shortcuts';
import { createFilterStore } from '../stores/filter';
import { fmtCount } from '../lib/format';

export function FlowEditScreen() {
  const app = useApp();
  const editor = useS(app.flows, (s) => s.editor);
  const prepared = useS(app.flows, (s) => s.prepared);

  // Each opening of the editor (seq) prepares its form once; connections are read as they are then
  // (a later reload of the list must not reset what the user typed).
  useEffect(() => {
    void app.flows.getState().prepareEditor(app.connections.getState().list, app.connections.getState().demo);
  }, [editor.seq, app]);

  if (!editor.flow && !editor.from)
    return (
      <Empty title="No flow open">
        Open a table in the Explorer and choose <b>New flow from this table</b>, or pick a saved flow under Flows.
      </Empty>
    );
  if (prepared?.seq === editor.seq && prepared.error) return <div className="page"><ErrorBox message={prepared.error} /></div>;
  if (prepared?.seq !== editor.seq || !prepared.initial) return <Loading what="Reading the source table…" />;
  return <FlowForm key={editor.seq} initial={prepared.initial} desc={prepared.desc} originalName={editor.originalName} />;
}

function FlowForm({ initial, desc, originalName }: { initial: FlowForm; desc: TableDescription | null; originalName: string | null }) {
  const app = useApp();
  const connections = useS(app.connections, (s) => s.list);
  const form = useForm<FlowForm>({ defaultValues: initial, resolver: flowFormResolver, mode: 'onChange' });
  const { register, watch, setValue, handleSubmit, getValues } = form;
  const v = watch();
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  /** A save waiting for the user's answer to "rename makes a new flow". */
  const [renameAsk, setRenameAsk] = useState<{ values: FlowForm; then?: 'plan' } | null>(null);

  // The filter editor here has its own validation state, against the source table.
  const filterStore = useMemo(() => createFilterStore(app.api), [app.api]);
  const f = useS(filterStore, (s) => s);
  const srcConn = connectionOfRef({ saved: v.sourceConnection }, connections);
  const srcConnId = srcConn?.id;
  const { sourceSchema, sourceTable } = v;
  useEffect(() => {
    if (srcConnId) filterStore.getState().setTarget({ connectionId: srcConnId, schema: sourceSchema, table: sourceTable }, getValues('filter'));
  }, [srcConnId, sourceSchema, sourceTable, filterStore, getValues]);

  // What "Automatic" would choose for the flow as drafted (asked again when the draft changes).
  const loadChoiceStore = useMemo(() => createLoadChoiceStore(app.api), [app.api]);
  const loadChoice = useS(loadChoiceStore, (s) => s);
  const draftFlow = flowFromForm(v);
  useEffect(() => { loadChoiceStore.getState().ask(draftFlow); });
  useEffect(() => () => loadChoiceStore.getState().dispose(), [loadChoiceStore]);

  const ordinal = desc ? ordinalCandidates(desc.columns) : [];
  const renamed = originalName !== null && v.name.trim() !== originalName;

  const store = async (values: FlowForm, then: 'plan' | undefined, removePrevious: boolean): Promise<boolean> => {
    setSaving(true);
    setSaveError(null);
    try {
      const r = await app.flows.getState().save(flowFromForm(values), { removePrevious });
      app.ui.getState().toast('ok', r.renamedFrom ? `Saved as a new flow “${r.flow.name}” (was “${r.renamedFrom}”).` : `Flow “${r.flow.name}” saved.`);
      for (const w of r.warnings) app.ui.getState().toast('info', w, 8000);
      if (then === 'plan') app.ui.getState().go({ name: 'plan', flow: r.flow.name });
      return true;
    } catch (e) {
      setSaveError(errorMessage(e));
      return false;
    } finally {
      setSaving(false);
    }
  };
  const save = async (values: FlowForm, then?: 'plan'): Promise<boolean> => {
    if (f.status === 'invalid') {
      setSaveError(`The filter is not valid: ${f.message ?? ''}`);
      return false;
    }
    // a rename asks first (the dialog answers through answerRename)
    if (renamed) {
      setRenameAsk({ values, ...(then ? { then } : {}) });
      return false;
    }
    return store(values, then, false);
  };
  const answerRename = async (removeOld: boolean | null) => {
    const pending = renameAsk;
    setRenameAsk(null);
    if (pending && removeOld !== null) await store(pending.values, pending.then, removeOld);
  };
  const submit = (then?: 'plan') => void handleSubmit((values) => save(values, then))();
  useShortcut('Mod+S', () => submit());
  useShortcut('Mod+P', () => submit('plan'));

  const err = fieldErrorOf(form); // this component renders the FormProvider: not inside it yet

  return (
    <FormProvider {...form}>
    <div className="page" data-testid="flow-editor">
      <div className="page-head">
        <h1 className="grow">
          {originalName ? <>Flow <span className="mono">{originalName}</span></> : 'New flow'}
          <span className="faint" style={{ fontWeight: 400, fontSize: 13, marginLeft: 8 }}>
            {v.sourceSchema}.{v.sourceTable} → {v.targetSchema}.{v.targetTable}
          </span>
        </h1>
        <button className="btn" onClick={() => submit()} disabled={saving} data-testid="save-flow">
          Save <kbd>{keyLabel('Mod+S')}</kbd>
        </button>
        <button className="btn primary" onClick={() => submit('plan')} disabled={saving} data-testid="preview-plan">
          Save &amp; preview plan <kbd>{keyLabel('Mod+P')}</kbd>
        </button>
      </div>
      {saveError && <div style={{ marginBottom: 12 }}><ErrorBox message={saveError} testId="save-error" /></div>}
      {err('root') && <div style={{ marginBottom: 12 }}><ErrorBox message={err('root')!} /></div>}
      <div className="flow-layout">
        <div className="stack">
          <section className="form-section">
            <header><h2>Flow</h2></header>
            <div className="content">
              <label className="field">
                <span>Name <span className="hint">— the flow’s identity</span></span>
                <input {...register('name')} aria-invalid={!!err('name')} data-testid="flow-name" />
                {err('name') && <span className="error">{err('name')}</span>}
              </label>
              {renamed && (
                <div className="alert warn" data-testid="rename-warning">
                  Renaming makes a new flow: “{v.name.trim()}” starts with no tracked rows and will own the target table afresh; “{originalName}” keeps its target and state until you drop it.
                </div>
              )}
            </div>
          </section>
          <section className="form-section">
            <header>
              <h2 className="grow">Source <span className="faint mono" style={{ fontWeight: 400 }}>{v.sourceSchema}.{v.sourceTable}</span></h2>
              <span className="faint">{srcConn?.name ?? v.sourceConnection}</span>
            </header>
            <div className="content">
              {!desc && <div className="alert warn">The source table could not be read; columns cannot be edited until it can.</div>}
              {err('columns') && <span className="error-text">{err('columns')}</span>}
              <ColumnsTable desc={desc} />
              <label className="field">
                <span>Ordinal column <span className="hint">— only integer and timestamp columns qualify; unchanged rows are then skipped by comparing it</span></span>
                <select {...register('ordinalColumn')} aria-invalid={!!err('ordinalColumn')} data-testid="ordinal-column">
                  <option value="">none — compare row fingerprints</option>
                  {ordinal.map((c) => (
                    <option key={c.name} value={c.name}>
                      {c.name} ({c.type})
                    </option>
                  ))}
                </select>
                {err('ordinalColumn') && <span className="error">{err('ordinalColumn')}</span>}
              </label>
              <div className="field">
                <span>Filter <span className="hint">— a SQL condition on the source rows (optional)</span></span>
                <SqlEditor
                  value={v.filter}
                  onChange={(t) => {
                    setValue('filter', t, { shouldValidate: true });
                    filterStore.getState().setText(t);
                  }}
                  columns={desc?.columns.map((c) => c.name) ?? []}
                  tableName={v.sourceTable}
                  errorPosition={f.status === 'invalid' ? f.position : null}
                  className={f.status === 'invalid' ? 'invalid' : f.status === 'valid' ? 'valid' : ''}
                  placeholder="e.g. price > 0"
                  ariaLabel="Flow filter"
                  testId="flow-filter"
                />
                {f.status === 'invalid' && <span className="error" data-testid="flow-filter-error">{f.message}{f.position ? ` (at character ${f.position})` : ''}</span>}
                {f.status === 'valid' && <span className="hint" style={{ color: 'var(--ok)' }}>✓ {f.count !== null ? `${fmtCount(f.count)} rows match` : 'valid'}</span>}
                {f.status === 'checking' && <span className="hint">checking…</span>}
              </div>
              <div className="field">
                {v.replication ? (
                  <div data-testid="replication-capture">
                    Live changes by logical replication: publication {v.replication.publicationName ? <span className="mono">{v.replication.publicationName}</span> : '(default name)'}, slot {v.replication.slotName ? <span className="mono">{v.replication.slotName}</span> : '(default name)'}
                    <span className="hint"> — set in the flow file (<span className="mono">source.replication</span>); kept as it is when you save</span>
                  </div>
                ) : (
                <label className="check">
                  <input type="checkbox" {...register('notify')} data-testid="notify" /> Live changes (LISTEN/NOTIFY trigger on the source table)
                </label>
                )}
                {!v.replication && v.notify && (
                  <>
                    <input {...register('channelName')} placeholder={formCaptureNames({ ...v, channelName: '' }).channel} aria-label="Channel name" className="mono" aria-invalid={!!err('channelName')} />
                    <span className="hint" data-testid="capture-names">
                      Default: <span className="mono">{formCaptureNames({ ...v, channelName: '' }).channel}</span> · creates <span className="mono">{formCaptureNames(v).functionName}</span> (function), <span className="mono">{formCaptureNames(v).rowTrigger}</span> and <span className="mono">{formCaptureNames(v).truncateTrigger}</span> (triggers) when watching starts
                    </span>
                    {err('channelName') && <span className="error">{err('channelName')}</span>}
                    <label className="check">
                      <input type="checkbox" {...register('acceptPrepareFailures')} data-testid="accept-prepare-failures" /> No prepared transaction (two-phase commit) writes this table
                    </label>
                    <span className="hint">Needed only where the source allows prepared transactions: PostgreSQL cannot PREPARE a transaction that sent a notification, so with the trigger on the table such a commit would fail. Logical replication capture has no such limit.</span>
                  </>
                )}
              </div>
            </div>
          </section>
        </div>
        <div className="stack">
          <section className="form-section">
            <header><h2>Target</h2></header>
            <div className="content">
              <div className="grid2">
                <label className="field">
                  <span>Connection</span>
                  <select {...register('targetConnection')} aria-invalid={!!err('targetConnection')} data-testid="target-connection">
                    {connections.map((c) => (
                      <option key={c.id} value={connections.filter((x) => x.name === c.name).length === 1 ? c.name : c.id}>
                        {c.name}
                      </option>
                    ))}
                  </select>
                </label>
                <div className="field">
                  <span>Managed by</span>
                  <div className="seg" role="group" aria-label="Managed by">
                    <button type="button" aria-pressed={v.managedBy === 'system'} onClick={() => setValue('managedBy', 'system')}>
                      TableSync
                    </button>
                    <button type="button" aria-pressed={v.managedBy === 'user'} onClick={() => setValue('managedBy', 'user')}>
                      Me
                    </button>
                  </div>
                </div>
                <label className="field">
                  <span>Schema</span>
                  <input {...register('targetSchema')} aria-invalid={!!err('targetSchema')} />
                </label>
                <label className="field">
                  <span>Table</span>
                  <input {...register('targetTable')} aria-invalid={!!err('targetTable')} data-testid="target-table" />
                  {err('targetTable') && <span className="error">{err('targetTable')}</span>}
                </label>
              </div>
              <span className="hint faint">
                {v.managedBy === 'system'
                  ? 'TableSync creates this table, changes it when the flow changes, and drops it with the flow.'
                  : 'The table must exist; TableSync never runs DDL on it and reports missing or incompatible columns.'}
              </span>
            </div>
          </section>
          <InitialLoad choice={loadChoice} />
          <VectorIndexes />
          <Attachments />
        </div>
      </div>
      {renameAsk && <RenameDialog originalName={originalName ?? ''} newName={v.name.trim()} onAnswer={(removeOld) => void answerRename(removeOld)} />}
    </div>
    </FormProvider>
  );
}
