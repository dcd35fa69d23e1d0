/** The source's columns as the target will have them: include, rename, retype, vector dimensions. */
import { useFieldArray, useFormContext } from 'react-hook-form';
import type { TableDescription } from '../../api/types';
import { isVectorType, typeSuggestions, vectorDims, type FlowForm } from '../../lib/flow-draft';
import { shortType } from '../../lib/format';
import { useFieldError } from './field-error';

/**
 * `inheritedTypes`: target types that apply to a column unless the form overrides it (a set
 * member's set-wide typeOverrides), shown as the column's type and placeholder.
 */
export function ColumnsTable({ desc, inheritedTypes = {} }: { desc: TableDescription | null; inheritedTypes?: Record<string, string> }) {
  const { control, register, watch } = useFormContext<FlowForm>();
  const columns = useFieldArray({ control, name: 'columns' });
  const v = watch();
  const err = useFieldError();
  return (
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
          const inherited = inheritedTypes[c.source];
          const shownType = row.targetType.trim() || inherited || row.type;
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
                  placeholder={inherited ?? shortType(c.type)}
                  title={inherited && !row.targetType.trim() ? `${inherited}: the set's default for ${c.type}` : undefined}
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
  );
}
