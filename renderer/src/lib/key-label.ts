// Free of the DOM, so a unit test (and the shortcuts overlay) can use it anywhere.
/**
 * A shortcut as this platform spells it: `Mod+K` is `Ctrl+K` on Linux and Windows, `⌘K` on macOS
 * (Shift `⇧`, Alt `⌥`, as macOS menus show them). Any text works: every `Mod+…` in it is spelled out.
 */
export function spellKeys(text: string, mac: boolean): string {
  return text.replace(/Mod\+((?:Shift\+|Alt\+)*)([^\s)/]+)/g, (_m, mods: string, key: string) => {
    const shift = mods.includes('Shift');
    const alt = mods.includes('Alt');
    return mac ? `⌘${shift ? '⇧' : ''}${alt ? '⌥' : ''}${key}` : `Ctrl+${shift ? 'Shift+' : ''}${alt ? 'Alt+' : ''}${key}`;
  });
}
