/** pgvector indexes on the target's vector columns: metric, method and its parameters, the index name. */
import { useFieldArray, useFormContext } from 'react-hook-form';
import { formVectorIndexName, isVectorType, targetColumns, type FlowForm } from '../../lib/flow-draft';
import { useFieldError } from './field-error';

export function VectorIndexes() {
  const { control, register, watch } = useFormContext<FlowForm>();
  const vix = useFieldArray({ control, name: 'vectorIndexes' });
  const v = watch();
  const vectorTargets = targetColumns(v).filter((c) => isVectorType(c.type));
  const err = useFieldError();
  return (
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
  );
}
