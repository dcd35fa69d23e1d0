import type { ReactNode } from 'react';

export function Modal(props: { title: ReactNode; children: ReactNode; footer?: ReactNode; onClose(): void; width?: number }) {
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && props.onClose()}>
      <div className="modal" role="dialog" aria-modal="true" style={props.width ? { width: `min(${props.width}px, 94vw)` } : undefined}>
        <header>
          <h2 style={{ flex: 1 }}>{props.title}</h2>
          <button className="icon-btn" aria-label="Close" onClick={props.onClose}>
            ✕
          </button>
        </header>
        <div className="content">{props.children}</div>
        {props.footer && <footer>{props.footer}</footer>}
      </div>
    </div>
  );
}
