/**
 * The flow editor's "automatic: N streams for ~X rows": what the engine's load planner would choose
 * for the flow as drafted (API `flows.loadChoice`: catalog reads only, no scan), asked again
 * (debounced, only the latest answer counts) when a part of the flow that decides it changes.
 */
import { createStore } from 'zustand/vanilla';
import type { ApiClient } from '../api/client';
import type { FlowInput, InitialLoadChoice } from '../api/types';
import { flowSpec } from '../../../core/flow/schema';
import { approxRowsText, loadStreamsText } from '../../../core/api/model.words';

export interface LoadChoiceState {
  /**
   * asking: waiting for the engine; known: `choice` is what automatic would do (null: the next
   * apply is not an initial load); unknown: the engine could not tell (a server unreachable, a
   * one-session target held by a watch, a draft that does not resolve yet).
   */
  status: 'idle' | 'asking' | 'known' | 'unknown';
  choice: InitialLoadChoice | null;
  /** Why the engine did not ask the servers (status unknown): e.g. "the target serves one session at a time". */
  notAsked: string | null;
  /** Ask about this draft; the same draft again asks nothing, and a draft the flow schema refuses is not sent. */
  ask(flow: FlowInput): void;
  dispose(): void;
}

/** The parts of a flow the load's choice depends on: everything but `load` itself and the capture. */
function keyOf(flow: FlowInput): string {
  const { load: _l, ...rest } = flow;
  const { notification: _n, replication: _r, ...source } = rest.source;
  return JSON.stringify({ ...rest, source });
}

export function createLoadChoiceStore(api: ApiClient, opts: { debounceMs?: number } = {}) {
  const debounceMs = opts.debounceMs ?? 400;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last = '';
  let seq = 0;
  return createStore<LoadChoiceState>()((set) => ({
    status: 'idle',
    choice: null,
    notAsked: null,
    ask(flow) {
      const key = keyOf(flow);
      if (key === last) return;
      last = key;
      if (timer) clearTimeout(timer);
      const mine = ++seq;
      const { load: _l, ...draft } = flow;
      const parsed = flowSpec.safeParse(draft);
      if (!parsed.success) {
        set({ status: 'unknown', choice: null, notAsked: null });
        return;
      }
      set({ status: 'asking', notAsked: null });
      timer = setTimeout(() => {
        timer = null;
        api.call('flows.loadChoice', { flow: parsed.data }).then(
          (r) => { if (mine === seq) set(r.notAsked ? { status: 'unknown', choice: null, notAsked: r.notAsked } : { status: 'known', choice: r.automatic }); },
          () => { if (mine === seq) set({ status: 'unknown', choice: null }); },
        );
      }, debounceMs);
    },
    dispose() {
      if (timer) clearTimeout(timer);
      seq++;
    },
  }));
}

/** What "Automatic" will do, in words, from the engine's answer. */
export function automaticText(s: Pick<LoadChoiceState, 'status' | 'choice'> & { notAsked?: string | null }): string {
  if (s.status === 'asking') return 'automatic — asking the servers…';
  if (s.status !== 'known' && s.notAsked) return `automatic — not asked: ${s.notAsked}, which a hint must not take from a plan or a watch`;
  if (s.status !== 'known') return 'automatic — by the table’s size, within the connections both servers have free';
  if (!s.choice) return 'automatic — the next apply is not an initial load into a new table (the table exists, is yours, or the target takes no COPY), so this applies only when the table is loaded afresh';
  const rows = approxRowsText(s.choice.estimatedRows);
  return `automatic: ${loadStreamsText(s.choice.streams, s.choice.format)}${rows ? ` for ${rows}` : ''}`;
}
