/**
 * Keyboard shortcuts: one table (shown by the `?` overlay) and a hook that binds a handler while a
 * component is mounted. `Mod` is Ctrl (Cmd on macOS).
 */
import { useEffect, useRef } from 'react';
import { spellKeys } from './key-label';

export const SHORTCUTS: Array<{ keys: string; what: string; where: string }> = [
  { keys: '?', what: 'Show this list', where: 'Anywhere' },
  { keys: 'Mod+1 … Mod+4', what: 'Connections, Explorer, Flows, Monitor', where: 'Anywhere' },
  { keys: 'Mod+K', what: 'Find a table', where: 'Explorer' },
  { keys: 'Mod+Enter', what: 'Apply the filter', where: 'Table browser' },
  { keys: 'Mod+Home / Mod+End', what: 'First page / jump to the end', where: 'Table browser' },
  { keys: 'Mod+Shift+C', what: 'Exact row count', where: 'Table browser' },
  { keys: 'Mod+.', what: 'Cancel the running query, plan or apply', where: 'Anywhere' },
  { keys: 'Mod+Shift+F', what: 'New flow from this table', where: 'Table browser' },
  { keys: 'Mod+S', what: 'Save the flow', where: 'Flow setup' },
  { keys: 'Mod+P', what: 'Preview the plan (plan again)', where: 'Flow setup, Diff preview' },
  { keys: 'Mod+Shift+Enter', what: 'Apply the plan', where: 'Diff preview' },
  { keys: 'Space', what: 'Pause / resume the feed', where: 'Monitor' },
  { keys: 'Mod+Shift+L', what: 'Light / dark theme', where: 'Anywhere' },
  { keys: 'Esc', what: 'Close a dialog or viewer', where: 'Anywhere' },
];

const isMac = typeof navigator !== 'undefined' && /Mac/.test(navigator.platform);

/** Shortcut labels as this platform spells them (Ctrl+K, ⌘K). */
export function keyLabel(text: string): string {
  return spellKeys(text, isMac);
}


/** Does a keyboard event match `Mod+Shift+K`-style combo? */
export function matches(e: KeyboardEvent, combo: string): boolean {
  const parts = combo.split('+');
  const key = parts[parts.length - 1]!;
  const mod = parts.includes('Mod');
  const shift = parts.includes('Shift');
  const alt = parts.includes('Alt');
  const modDown = isMac ? e.metaKey : e.ctrlKey;
  if (mod !== modDown || alt !== e.altKey) return false;
  if (key.length === 1 && !/[a-z0-9]/i.test(key)) return e.key === key; // '?', '.', shifted symbols
  if (shift !== e.shiftKey) return false;
  return e.key.toLowerCase() === key.toLowerCase() || e.code === `Key${key.toUpperCase()}` || e.code === `Digit${key}`;
}

/** True when typing in a field, where single-key shortcuts must not fire. */
export function typingIn(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  if (!t) return false;
  // a checkbox or a button takes no text: Escape and single keys still belong to the app there
  if (t.tagName === 'INPUT' && ['checkbox', 'radio', 'button', 'submit', 'reset'].includes((t as HTMLInputElement).type)) return false;
  return t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName) || !!t.closest?.('.cm-editor');
}

export function useShortcut(combo: string | string[], handler: (e: KeyboardEvent) => void, enabled = true): void {
  const ref = useRef(handler);
  ref.current = handler;
  const combos = Array.isArray(combo) ? combo : [combo];
  const key = combos.join('|');
  useEffect(() => {
    if (!enabled) return;
    const on = (e: KeyboardEvent) => {
      for (const c of key.split('|')) {
        if (!matches(e, c)) continue;
        // Plain keys, and Home/End (cursor moves in an editor), belong to the field being typed in.
        if ((!c.includes('Mod') || /Home|End$/.test(c)) && typingIn(e)) return;
        e.preventDefault();
        ref.current(e);
        return;
      }
    };
    window.addEventListener('keydown', on);
    return () => window.removeEventListener('keydown', on);
  }, [key, enabled]);
}
