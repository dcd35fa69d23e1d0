/**
 * The one map of events the engine pushes to the UI. Both transports forward every event to every
 * connected window (Electron: batched every 50 ms; WebSocket: as frames), so a window filters by
 * flow or requestId itself.
 *
 * Part of the contract: zod and contract files only.
 */
import { z } from 'zod';
import { applyProgress, changeEvent, listenerStatus } from './model';
import { demoStatus } from './contract';
import { exportProgress } from './contract.export';
import { setApplyProgress } from './model.set';

export const events = {
  /** One row change seen by a running watch and what became of it. */
  'flow.change': changeEvent,
  /** A watch's listener changed state (connecting, catching-up, live, reconnecting...). */
  'flow.listener': listenerStatus,
  /** Progress of a `flows.apply`; `requestId` is the one the caller gave. */
  'flow.applyProgress': applyProgress.extend({ requestId: z.string().optional() }),
  /** Progress of a `sets.apply`, per table and overall; `requestId` is the one the caller gave. */
  'set.applyProgress': setApplyProgress.extend({ requestId: z.string().optional() }),
  /** A write by the demo's activity simulator on the demo source. */
  'demo.activity': z.object({
    time: z.string(),
    table: z.string(),
    op: z.enum(['insert', 'update', 'delete']),
    key: z.record(z.string(), z.string().nullable()),
  }),
  /** The demo's state changed (starting, running, activity on/off). */
  'demo.status': demoStatus,
  /** Progress of an export (export.start): rows and bytes so far, then done, failed or cancelled. */
  'export.progress': exportProgress,
  /** Saved connections or flows changed (another window, the demo registering its own). */
  'settings.changed': z.object({ what: z.enum(['connections', 'flows', 'sets']) }),
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.output<Events[E]>;

/** One event as it travels: name + payload. */
export type ApiEvent = { [E in EventName]: { event: E; payload: EventPayload<E> } }[EventName];

export const EVENT_NAMES = Object.keys(events) as EventName[];
