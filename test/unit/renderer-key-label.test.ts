import { describe, expect, it } from 'vitest';
import { spellKeys as keyLabel } from '../../renderer/src/lib/key-label';

// Shortcuts are shown as the platform spells them, never as the internal "Mod+K".
describe('keyLabel', () => {
  it('spells Mod as Ctrl off macOS', () => {
    expect(keyLabel('Find a table  (Mod+K)', false)).toBe('Find a table  (Ctrl+K)');
    expect(keyLabel('Mod+Shift+L', false)).toBe('Ctrl+Shift+L');
    expect(keyLabel('Mod+1 … Mod+4', false)).toBe('Ctrl+1 … Ctrl+4');
    expect(keyLabel('Mod+Home / Mod+End', false)).toBe('Ctrl+Home / Ctrl+End');
  });
  it('spells Mod as ⌘ on macOS', () => {
    expect(keyLabel('Mod+K', true)).toBe('⌘K');
    expect(keyLabel('Apply (Mod+Shift+Enter)', true)).toBe('Apply (⌘⇧Enter)');
    expect(keyLabel('Mod+.', true)).toBe('⌘.');
  });
  it('leaves text without shortcuts alone', () => {
    expect(keyLabel('Esc', false)).toBe('Esc');
  });
});
