/**
 * Flow setup, point and click: from a source table to a flow file. The form (react-hook-form) is
 * validated by the flow file's own zod schema (core/flow/schema.ts flowSpec) through a resolver that
 * maps its issues back onto the form's fields, so the screen and the CLI agree on what is valid.
 */
import { useEffect, useMemo, useState } from 'react';
import { useFieldArray, useForm, type FieldErrors, type Resolver } from 'react-hook-form';
import { useApp, useS } from '../app-context';
import { errorMessage } from '../api/client';
import type { TableDescription } from '../api/types';
import { SqlEditor } from '../components/SqlEditor';
import { Empty, ErrorBox, Loading } from '../components/States';
import { Modal } from '../components/Modal';
import {
  connectionOfRef, formCaptureNames, formVectorIndexName, flowFromForm, formFromFlow, formFromTable, isVectorType, ordinalCandidates, vectorDims,
  targetColumns, typeSuggestions, type FlowForm,
} from '../lib/flow-draft';
import { validateFlowForm } from '../lib/flow-validation';
import { useShortcut, keyLabel } from '../lib/shortcuts';
import { createFilterStore } from '../stores/filter';
import { fmtCount, shortType } from '../lib/format';

/** react-hook-form's view of validateFlowForm: nested errors by field path. */
const resolver: Resolver<FlowForm> = async (values) => {
  const found = validateFlowForm(values);
  if (found.length === 0) return { values, errors: {} };
  const errors: Record<string, unknown> = {};
  for (const { field, message } of found) setPath(errors, field, { type: 'validate', message });
  return { values: {}, errors: errors as FieldErrors<FlowForm> };
};

function setPath(obj: Record<string, unknown>, path: string, value: unknown) {
  const parts = path.split('.');
  let cur: Record<string, unknown> = obj;
  parts.forEach((k, i) => {
    if (i === parts.length - 1) {
      if (!cur[k]) cur[k] = value;
      return;
    }
    cur[k] ??= /^\d+$/.test(parts[i + 1]!) ? [] : {};
    cur = cur[k] as Record<string, unknown>;
  });
}

export function FlowEditScreen() {
  const app = useApp();
  const editor = useS(app.flows, (s) => s.editor);
  const connections = useS(app.connections, (s) => s.list);
  const [desc, setDesc] = useState<TableDescription | null>(null);
  const [initial, setInitial] = useState<FlowForm | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    setInitial(null);
    setLoadError(null);
    void (async () => {
      try {
        if (editor.flow) {
          const src = connectionOfRef(editor.flow.source.connection, connections);
          const d = src
            ? await app.api.call('catalog.describe', { connectionId: src.id, schema: editor.flow.source.schema ?? 'public', table: editor.flow.source.table }).catch(() => null)
            : null;
          setDesc(d);
          setInitial(formFromFlow(editor.flow, d, connections));
        } else if (editor.from) {
          const d = await app.api.call('catalog.describe', { connectionId: editor.from.connectionId, schema: editor.from.schema, table: editor.from.table });
          const src = connections.find((c) => c.id === editor.from!.connectionId);
          if (!src) throw new Error('The source connection is no longer saved.');
          // A vector-capable target is the likely choice when there is one (the demo's).
          const tgt = connections.find((c) => c.id !== src.id && c.demo && /target|vector/i.test(c.name)) ?? src;
          setDesc(d);
          setInitial(formFromTable(d, src, tgt, connections, editor.from.filter ?? null));
        }
      } catch (e) {
        setLoadError(errorMessage(e));
      }
    })();
    // connections are read once per editor opening on purpose: a reload must not reset the form
  }, [editor.seq, app]);

  if (loadError) return <div className="page"><ErrorBox message={loadError} /></div>;
  if (!editor.flow && !editor.from)
    return (
      <Empty title="No flow open">
        Open a table in the Explorer and choose <b>New flow from this table</b>, or pick a saved flow under Flows.
      </Empty>
    );
  if (!initial) return <Loading what="Reading the source table…" />;
  return <FlowForm key={editor.seq} initial={initial} desc={desc} originalName={editor.originalName} />;
}

function FlowForm({ initial, desc, originalName }: { initial: FlowForm; desc: TableDescription | null; originalName: string | null }) {
  const app = useApp();
  const connections = useS(app.connections, (s) => s.list);
  const form = useForm<FlowForm>({ defaultValues: initial, resolver, mode: 'onChange' });
  const { register, watch, setValue, formState, handleSubmit, control } = form;
  const columns = useFieldArray({ control, name: 'columns' });
  const vix = useFieldArray({ control, name: 'vectorIndexes' });
  const att = useFieldArray({ control, name: 'attachments' });
  const v = watch();
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [renameAsk, setRenameAsk] = useState<null | ((removeOld: boolean | null) => void)>(null);
  const errors = formState.errors;

  // The filter editor here has its own validation state, against the source table.
  const filterStore = useMemo(() => createFilterStore(app.api), [app.api]);
  const f = useS(filterStore, (s) => s);
  const srcConn = connectionOfRef({ saved: v.sourceConnection }, connections);
  useEffect(() => {
    if (srcConn) filterStore.getState().setTarget({ connectionId: srcConn.id, schema: v.sourceSchema, table: v.sourceTable }, initial.filter);
  }, [srcConn?.id, filterStore]);

  const ordinal = desc ? ordinalCandidates(desc.columns) : [];
  const vectorTargets = targetColumns(v).filter((c) => isVectorType(c.type));
  const renamed = originalName !== null && v.name.trim() !== originalName;

  const save = async (values: FlowForm, then?: 'plan'): Promise<boolean> => {
    if (f.status === 'invalid') {
      setSaveError(`The filter is not valid: ${f.message ?? ''}`);
      return false;
    }
    let removePrevious = false;
    if (renamed) {
      const answer = await new Promise<boolean | null>((resolve) => setRenameAsk(() => resolve));
      setRenameAsk(null);
      if (answer === null) return false;
      removePrevious = answer;
    }
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
  const submit = (then?: 'plan') => void handleSubmit((values) => save(values, then))();
  useShortcut('Mod+S', () => submit());
  useShortcut('Mod+P', () => submit('plan'));

  const err = (name: string): string | undefined => {
    // A row just added with "+ Add" is empty: say what is missing once the user has been there, or
    // tried to save, not the moment it appears.
    if (/^(attachments|vectorIndexes)\./.test(name) && !formState.isSubmitted) {
      const fs = form.getFieldState(name as Parameters<typeof form.getFieldState>[0], formState);
      if (!fs.isTouched && !fs.isDirty) return undefined;
    }
    const parts = name.split('.');
    let cur: unknown = errors;
    for (const p of parts) cur = (cur as Record<string, unknown> | undefined)?.[p];
    return (cur as { message?: string } | undefined)?.message;
  };

  return (
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
              <table className="cols-table" data-testid="columns-table">
                <thead>
                  <tr>
                    <th style={{ width: 24 }} title="Include the column in the target" />
                    <th>Column</th>
                    <th>Target name</th>
                    <th>Target type</th>
                    <th style={{ width: 70 }}>Dims</th>
                  </tr>
                </thead>
                <tbody>
                  {columns.fields.map((c, i) => {
                    const col = desc?.columns.find((x) => x.name === c.source);
                    const row = v.columns[i]!;
                    const shownType = row.targetType.trim() || row.type;
                    return (
                      <tr key={c.id} data-column={c.source} style={{ opacity: row.included || row.key ? 1 : 0.55 }}>
                        <td>
                          <input type="checkbox" {...register(`columns.${i}.included`)} disabled={c.key} aria-label={`include ${c.source}`} title={c.key ? 'Key columns are always included' : undefined} />
                        </td>
                        <td>
                          <div className="row" style={{ gap: 4 }}>
                            {c.key && <span className="key-badge">PK</span>}
                            <span>{c.source}</span>
                          </div>
                          <div className="type" title={c.type}>{shortType(c.type)}</div>
                        </td>
                        <td>
                          <input {...register(`columns.${i}.targetName`)} placeholder={c.source} aria-label={`target name of ${c.source}`} disabled={!row.included && !row.key} />
                        </td>
                        <td>
                          <input
                            {...register(`columns.${i}.targetType`)}
                            placeholder={shortType(c.type)}
                            list={`types-${i}`}
                            aria-label={`target type of ${c.source}`}
                            className="mono"
                            disabled={!row.included && !row.key}
                          />
                          <datalist id={`types-${i}`}>
                            {col && typeSuggestions(col).map((t) => <option key={t} value={t} />)}
                          </datalist>
                        </td>
                        <td>
                          {isVectorType(shownType) ? (
                            <>
                              <input {...register(`columns.${i}.dims`)} placeholder={String(vectorDims(shownType) ?? 'dims')} aria-label={`vector dimensions of ${c.source}`} aria-invalid={!!err(`columns.${i}.dims`)} />
                              {err(`columns.${i}.dims`) && <div className="error-text">{err(`columns.${i}.dims`)}</div>}
                            </>
                          ) : (
                            <span className="faint">—</span>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
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
                <label className="check">
                  <input type="checkbox" {...register('notify')} data-testid="notify" /> Live changes (LISTEN/NOTIFY trigger on the source table)
                </label>
                {v.notify && (
                  <>
                    <input {...register('channelName')} placeholder={formCaptureNames({ ...v, channelName: '' }).channel} aria-label="Channel name" className="mono" aria-invalid={!!err('channelName')} />
                    <span className="hint" data-testid="capture-names">
                      Default: <span className="mono">{formCaptureNames({ ...v, channelName: '' }).channel}</span> · creates <span className="mono">{formCaptureNames(v).functionName}</span> (function), <span className="mono">{formCaptureNames(v).rowTrigger}</span> and <span className="mono">{formCaptureNames(v).truncateTrigger}</span> (triggers) when watching starts
                    </span>
                    {err('channelName') && <span className="error">{err('channelName')}</span>}
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
          <section className="form-section">
            <header>
              <h2 className="grow">Vector indexes</h2>
              <button
                type="button"
                className="btn small"
                onClick={() => vix.append({ name: '', column: vectorTargets[0]?.name ?? '', metric: 'cosine', method: 'hnsw', lists: '', m: '16', efConstruction: '64' })}
                data-testid="add-vector-index"
              >
                + Add
              </button>
            </header>
            <div className="content">
              {vix.fields.length === 0 && <span className="faint">{vectorTargets.length ? 'None. Add one to speed up similarity search on the target.' : 'No vector columns in the target.'}</span>}
              {vix.fields.map((x, i) => {
                const row = v.vectorIndexes[i]!;
                return (
                  <div key={x.id} className="list-row" data-testid={`vector-index-${i}`}>
                    <label className="field" style={{ width: 130 }}>
                      <span>Column</span>
                      <select {...register(`vectorIndexes.${i}.column`)} aria-invalid={!!err(`vectorIndexes.${i}.column`)}>
                        <option value="">—</option>
                        {vectorTargets.map((c) => (
                          <option key={c.name} value={c.name}>{c.name}</option>
                        ))}
                      </select>
                    </label>
                    <label className="field" style={{ width: 90 }}>
                      <span>Metric</span>
                      <select {...register(`vectorIndexes.${i}.metric`)}>
                        <option>cosine</option>
                        <option>l2</option>
                        <option>ip</option>
                      </select>
                    </label>
                    <label className="field" style={{ width: 90 }}>
                      <span>Method</span>
                      <select {...register(`vectorIndexes.${i}.method`)}>
                        <option>hnsw</option>
                        <option>ivfflat</option>
                      </select>
                    </label>
                    {row.method === 'ivfflat' ? (
                      <label className="field" style={{ width: 70 }}>
                        <span>lists</span>
                        <input {...register(`vectorIndexes.${i}.lists`)} placeholder="100" aria-invalid={!!err(`vectorIndexes.${i}.lists`)} />
                      </label>
                    ) : (
                      <>
                        <label className="field" style={{ width: 56 }}>
                          <span>m</span>
                          <input {...register(`vectorIndexes.${i}.m`)} placeholder="16" aria-invalid={!!err(`vectorIndexes.${i}.m`)} />
                        </label>
                        <label className="field" style={{ width: 80 }}>
                          <span>ef_constr.</span>
                          <input {...register(`vectorIndexes.${i}.efConstruction`)} placeholder="64" aria-invalid={!!err(`vectorIndexes.${i}.efConstruction`)} />
                        </label>
                      </>
                    )}
                    <label className="field grow" style={{ minWidth: 90 }}>
                      <span>Name</span>
                      <input {...register(`vectorIndexes.${i}.name`)} placeholder={row.column || 'column'} />
                    </label>
                    <button type="button" className="icon-btn" aria-label="Remove index" onClick={() => vix.remove(i)}>✕</button>
                    {(err(`vectorIndexes.${i}.column`) || err(`vectorIndexes.${i}.method`) || err(`vectorIndexes.${i}.lists`) || err(`vectorIndexes.${i}.m`)) && (
                      <div className="error-text" style={{ width: '100%' }}>
                        {err(`vectorIndexes.${i}.column`) ?? err(`vectorIndexes.${i}.method`) ?? err(`vectorIndexes.${i}.lists`) ?? err(`vectorIndexes.${i}.m`)}
                      </div>
                    )}
                    <div className="faint mono" style={{ width: '100%', fontSize: 11 }}>
                      index {row.column || row.name.trim() ? formVectorIndexName(v, row) : `${v.targetTable}__vector__…`}
                    </div>
                  </div>
                );
              })}
            </div>
          </section>
          <section className="form-section">
            <header>
              <h2 className="grow">SQL attachments</h2>
              <button type="button" className="btn small" onClick={() => att.append({ name: '', setupSql: '', teardownSql: '' })} data-testid="add-attachment">
                + Add
              </button>
            </header>
            <div className="content">
              {att.fields.length === 0 && <span className="faint">None. Attachments run your SQL when set up (e.g. a full-text index) and undo it when removed.</span>}
              {att.fields.map((x, i) => (
                <div key={x.id} className="list-row" style={{ flexDirection: 'column', alignItems: 'stretch' }} data-testid={`attachment-${i}`}>
                  <div className="row">
                    <label className="field grow">
                      <span>Name</span>
                      <input {...register(`attachments.${i}.name`)} aria-invalid={!!err(`attachments.${i}.name`)} aria-label="Attachment name" />
                    </label>
                    <button type="button" className="icon-btn" aria-label="Remove attachment" onClick={() => att.remove(i)} style={{ alignSelf: 'flex-end' }}>✕</button>
                  </div>
                  {err(`attachments.${i}.name`) && <span className="error-text">{err(`attachments.${i}.name`)}</span>}
                  <label className="field">
                    <span>Setup SQL</span>
                    <textarea rows={2} {...register(`attachments.${i}.setupSql`)} aria-invalid={!!err(`attachments.${i}.setupSql`)} aria-label="Setup SQL" spellCheck={false} />
                    {err(`attachments.${i}.setupSql`) && <span className="error">{err(`attachments.${i}.setupSql`)}</span>}
                  </label>
                  <label className="field">
                    <span>Teardown SQL <span className="hint">— optional</span></span>
                    <textarea rows={2} {...register(`attachments.${i}.teardownSql`)} aria-label="Teardown SQL" spellCheck={false} />
                  </label>
                </div>
              ))}
            </div>
          </section>
        </div>
      </div>
      {renameAsk && (
        <Modal
          title="Rename makes a new flow"
          onClose={() => renameAsk(null)}
          footer={
            <>
              <button className="btn" onClick={() => renameAsk(null)}>Cancel</button>
              <button className="btn" onClick={() => renameAsk(false)} data-testid="rename-keep">Keep “{originalName}” too</button>
              <button className="btn primary" onClick={() => renameAsk(true)} data-testid="rename-replace">Save as new, forget the old</button>
            </>
          }
        >
          <p style={{ margin: 0 }}>
            A flow’s name is its identity. Saving as “{v.name.trim()}” creates a new flow with no tracked rows: its first apply treats the target as new. “{originalName}” keeps what it created in the databases until you drop it.
          </p>
        </Modal>
      )}
    </div>
  );
}
