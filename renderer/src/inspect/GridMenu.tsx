/** The grid's right-click menu: copy the selected cells or rows as TSV, CSV, JSON or INSERTs, a cell's value, a column's name. */
import { useEffect } from 'react';
import type { CopyFormat } from '../lib/copy-format';

export interface GridMenuProps {
  x: number;
  y: number;
  cells: number;
  rows: number;
  onCopy(format: CopyFormat | 'value' | 'column', withHeader?: boolean): void;
  onSelectRows(): void;
  onClose(): void;
}

export function GridMenu(p: GridMenuProps) {
  useEffect(() => {
    const close = (e: Event) => {
      if (e instanceof KeyboardEvent && e.key !== 'Escape') return;
      p.onClose();
    };
    window.addEventListener('keydown', close);
    window.addEventListener('scroll', close, true);
    return () => {
      window.removeEventListener('keydown', close);
      window.removeEventListener('scroll', close, true);
    };
  }, [p]);
  const item = (label: string, run: () => void, testId?: string, hint?: string) => (
    <button className="menu-item" role="menuitem" data-testid={testId} onClick={() => { run(); p.onClose(); }}>
      <span className="grow">{label}</span>
      {hint && <kbd>{hint}</kbd>}
    </button>
  );
  const what = p.cells === 1 ? 'cell' : `${p.cells} cells`;
  return (
    <>
      <div className="menu-backdrop" onMouseDown={p.onClose} onContextMenu={(e) => { e.preventDefault(); p.onClose(); }} />
      <div className="menu" role="menu" style={{ left: p.x, top: p.y }} data-testid="grid-menu">
        <div className="menu-head faint">{what} · {p.rows} row{p.rows === 1 ? '' : 's'}</div>
        {item('Copy', () => p.onCopy('tsv'), 'copy-tsv', 'Ctrl+C')}
        {item('Copy with column names', () => p.onCopy('tsv', true), 'copy-tsv-header')}
        {item('Copy as CSV', () => p.onCopy('csv', true), 'copy-csv')}
        {item('Copy as JSON', () => p.onCopy('json'), 'copy-json')}
        {item('Copy as INSERT', () => p.onCopy('sql'), 'copy-sql')}
        <div className="menu-sep" />
        {item('Copy cell value', () => p.onCopy('value'), 'copy-value')}
        {item('Copy column name', () => p.onCopy('column'), 'copy-column')}
        {item('Select whole rows', p.onSelectRows, 'select-rows')}
      </div>
    </>
  );
}
