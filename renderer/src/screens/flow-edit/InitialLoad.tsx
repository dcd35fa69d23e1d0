/**
 * The initial load's parallel streams (flow `load.streams`): Automatic, with what the engine would
 * choose for this draft when it can tell ("automatic: 4 parallel streams, binary COPY,
 * for ~1.0M rows"), or a fixed number, held to the flow schema's limit (MAX_LOAD_STREAMS).
 */
import { useFormContext } from 'react-hook-form';
import type { FlowForm } from '../../lib/flow-draft';
import { automaticText, type LoadChoiceState } from '../../stores/load-choice';
import { MAX_LOAD_STREAMS } from '../../../../core/flow/schema';
import { useFieldError } from './field-error';

export function InitialLoad({ choice }: { choice: Pick<LoadChoiceState, 'status' | 'choice' | 'notAsked'> }) {
  const { register, setValue, watch, getValues } = useFormContext<FlowForm>();
  const err = useFieldError();
  const mode = watch('loadMode');
  const pick = (m: FlowForm['loadMode']) => {
    setValue('loadMode', m, { shouldValidate: true, shouldDirty: true });
    // A fixed number starts from what automatic would take (or 1), never blank.
    if (m === 'fixed' && getValues('loadStreams').trim() === '') setValue('loadStreams', String(choice.choice?.streams ?? 1), { shouldValidate: true, shouldDirty: true });
  };
  return (
    <section className="form-section" data-testid="initial-load">
      <header><h2 className="grow">Initial load</h2></header>
      <div className="content">
        <div className="field">
          <span>Parallel streams <span className="hint">— how the first apply copies the rows into the new table</span></span>
          <div className="row">
            <div className="seg" role="group" aria-label="Initial load streams">
              <button type="button" aria-pressed={mode === 'auto'} onClick={() => pick('auto')} data-testid="load-auto">Automatic</button>
              <button type="button" aria-pressed={mode === 'fixed'} onClick={() => pick('fixed')} data-testid="load-fixed">Fixed</button>
            </div>
            {mode === 'fixed' && (
              <>
                <input
                  type="number"
                  min={1}
                  max={MAX_LOAD_STREAMS}
                  step={1}
                  {...register('loadStreams')}
                  aria-label="Streams"
                  aria-invalid={!!err('loadStreams')}
                  className="mono"
                  style={{ width: 72 }}
                  data-testid="load-streams"
                />
                <span className="faint">streams (1–{MAX_LOAD_STREAMS})</span>
              </>
            )}
          </div>
          {(mode === 'auto' || choice.status === 'known') && <span className="hint" data-testid="load-automatic">{mode === 'auto' ? automaticText(choice) : `For comparison, ${automaticText(choice)}`}</span>}
          {err('loadStreams') && <span className="error" data-testid="load-streams-error">{err('loadStreams')}</span>}
        </div>
        <span className="hint faint">
          Rows go by COPY (binary where every column’s type allows it), split into key ranges read from one snapshot, and appear at once when the apply commits. Each stream takes a connection on both servers; a load uses at most half of what either has free. Later applies move only what changed. Saved in the flow file as <span className="mono">load.streams</span>.
        </span>
      </div>
    </section>
  );
}
