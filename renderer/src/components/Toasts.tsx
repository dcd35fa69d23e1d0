import { useApp, useS } from '../app-context';

export function Toasts() {
  const app = useApp();
  const toasts = useS(app.ui, (s) => s.toasts);
  return (
    <div className="toast-stack" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast ${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'} onClick={() => app.ui.getState().dismiss(t.id)}>
          {t.text}
        </div>
      ))}
    </div>
  );
}
