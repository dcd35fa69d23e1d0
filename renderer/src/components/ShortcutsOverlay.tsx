import { useApp, useS } from '../app-context';
import { SHORTCUTS, useShortcut, keyLabel } from '../lib/shortcuts';
import { Modal } from './Modal';

export function ShortcutsOverlay() {
  const app = useApp();
  const open = useS(app.ui, (s) => s.shortcutsOpen);
  useShortcut('Escape', () => app.ui.getState().setShortcutsOpen(false), open);
  if (!open) return null;
  return (
    <Modal title="Keyboard shortcuts" onClose={() => app.ui.getState().setShortcutsOpen(false)}>
      <div className="shortcuts" data-testid="shortcuts">
        {SHORTCUTS.map((s) => (
          <div key={s.keys} style={{ display: 'contents' }}>
            <div>
              {s.what} <span className="faint">· {s.where}</span>
            </div>
            <div className="row" style={{ justifyContent: 'flex-end' }}>
              {s.keys.split(' / ').map((k) => (
                <kbd key={k}>{keyLabel(k)}</kbd>
              ))}
            </div>
          </div>
        ))}
      </div>
    </Modal>
  );
}
