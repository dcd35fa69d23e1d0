/**
 * Export what is in view: a button with a small form (CSV, JSON lines or SQL INSERTs; the rows it
 * covers), and the tray that shows each running export's progress with a Cancel. In browser mode
 * the file arrives as a download streamed by `tablesync serve`; the desktop app writes it to the
 * Downloads folder.
 */
import { useState } from 'react';
import { useApp, useS } from '../app-context';
import type { ExportFormat, ExportSource } from '../api/types';
import { fmtCount } from '../lib/format';
import { fmtBytes } from '../lib/bytes';

const FORMATS: Array<{ f: ExportFormat; label: string }> = [
  { f: 'csv', label: 'CSV (with a header line)' },
  { f: 'jsonl', label: 'JSON lines (one object per row)' },
  { f: 'sql', label: 'SQL INSERT statements' },
];

/**
 * `expectedRows` feeds the progress bar; `countLabel` is how many rows the export covers in words,
 * the very text the screen already shows for them (the table's toolbar count: filter and search
 * applied), so the menu never quotes another number.
 */
export function ExportMenu(props: { connectionId: string; source: () => ExportSource | null; expectedRows: number | null; countLabel?: string; what: string; disabled?: boolean }) {
  const app = useApp();
  const [open, setOpen] = useState(false);
  const [format, setFormat] = useState<ExportFormat>('csv');
  const error = useS(app.exports, (s) => s.error);
  const go = async () => {
    const source = props.source();
    if (!source) return;
    const mode = app.connections.getState().app?.mode ?? 'browser';
    const r = await app.exports.getState().start({ connectionId: props.connectionId, source, format, expectedRows: props.expectedRows }, mode);
    if (!r) return;
    setOpen(false);
    if (r.downloadPath) {
      const a = document.createElement('a');
      a.href = r.downloadPath;
      a.download = r.fileName;
      document.body.appendChild(a);
      a.click();
      a.remove();
    }
  };
  return (
    <div className="rel">
      <button className="btn small" onClick={() => setOpen(!open)} aria-expanded={open} disabled={props.disabled} data-testid="export-button" title="Export the rows in view">
        Export ▾
      </button>
      {open && (
        <div className="popover export-pop" style={{ top: 28, right: 0 }} data-testid="export-popover" role="dialog" aria-label="Export">
          <div className="faint" style={{ marginBottom: 6 }} data-testid="export-what">{props.what}{props.countLabel ? ` · ${props.countLabel}` : props.expectedRows !== null ? ` · about ${fmtCount(props.expectedRows)} rows` : ''}</div>
          {FORMATS.map((x) => (
            <label key={x.f} className="check">
              <input type="radio" name="export-format" checked={format === x.f} onChange={() => setFormat(x.f)} /> {x.label}
            </label>
          ))}
          {error && <div className="error-text" style={{ marginTop: 6 }}>{error}</div>}
          <div className="row" style={{ marginTop: 8, justifyContent: 'flex-end', gap: 6 }}>
            <button className="btn small ghost" onClick={() => setOpen(false)}>Close</button>
            <button className="btn small primary" onClick={() => void go()} data-testid="export-go">Export</button>
          </div>
        </div>
      )}
    </div>
  );
}

export function ExportTray() {
  const app = useApp();
  const jobs = useS(app.exports, (s) => s.jobs);
  if (jobs.length === 0) return null;
  return (
    <div className="export-tray" data-testid="export-tray">
      {jobs.map((j) => {
        const live = j.state === 'waiting' || j.state === 'running';
        const pct = j.state === 'done' ? 100 : j.expectedRows ? Math.min(99, (j.rows / Math.max(1, j.expectedRows)) * 100) : null;
        return (
          <div key={j.exportId} className="export-job" data-testid="export-job" data-state={j.state}>
            <div className="row">
              <b className="grow ellipsis">{j.fileName}</b>
              {live ? (
                <button className="btn small danger" onClick={() => void app.exports.getState().cancel(j.exportId)} data-testid="export-cancel">Cancel</button>
              ) : (
                <button className="icon-btn" aria-label="Dismiss" onClick={() => app.exports.getState().dismiss(j.exportId)}>✕</button>
              )}
            </div>
            <div className={`progress${pct === null && live ? ' indeterminate' : ''}`}><span style={pct !== null ? { width: `${pct}%` } : undefined} /></div>
            <div className="faint" data-testid="export-status">
              {j.state === 'waiting' && 'starting…'}
              {j.state === 'running' && `${fmtCount(j.rows)}${j.expectedRows ? ` of ~${fmtCount(j.expectedRows)}` : ''} rows · ${fmtBytes(j.bytes)}`}
              {j.state === 'done' && `✓ ${fmtCount(j.rows)} rows · ${fmtBytes(j.bytes)}${j.path ? ` · ${j.path}` : ''}`}
              {j.state === 'cancelled' && 'cancelled'}
              {j.state === 'failed' && <span className="error-text">✕ {j.error}</span>}
            </div>
          </div>
        );
      })}
    </div>
  );
}
