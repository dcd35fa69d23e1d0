/** SQL attachments: named setup SQL run when new or changed, teardown SQL when removed. */
import { useFieldArray, useFormContext } from 'react-hook-form';
import type { FlowForm } from '../../lib/flow-draft';
import { useFieldError } from './field-error';

export function Attachments() {
  const { control, register } = useFormContext<FlowForm>();
  const att = useFieldArray({ control, name: 'attachments' });
  const err = useFieldError();
  return (
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
  );
}
