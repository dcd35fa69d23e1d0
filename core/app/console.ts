/**
 * The engine's SQL consoles: one ConsoleSessions per engine, made on first use and closed with the
 * engine (so no console session outlives the window or the server).
 */
import { ConsoleSessions } from '../console';
import type { Engine } from './engine';

const consoles = new WeakMap<Engine, ConsoleSessions>();

export function consolesOf(engine: Engine): ConsoleSessions {
  let c = consoles.get(engine);
  if (!c) {
    const made = new ConsoleSessions();
    consoles.set(engine, made);
    engine.onClose(() => made.closeAll());
    c = made;
  }
  return c;
}
