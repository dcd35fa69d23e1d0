/**
 * The engine's event bus: running watches, applies and the demo emit here; each transport
 * subscribes once and forwards to its windows. A listener that throws does not stop the others.
 */
import type { ApiEvent, EventName, EventPayload } from '../api/events';

export type EventListener = (e: ApiEvent) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();

  /** Subscribe; returns the unsubscribe function. */
  on(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    const e = { event, payload } as ApiEvent;
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        /* a broken subscriber must not break the engine or other windows */
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
