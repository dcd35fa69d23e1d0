/**
 * Quick search over the grid: rows where any visible column, as text, contains the words typed
 * (ILIKE in the server, so it finds rows beyond the loaded pages; keyset paging is unchanged).
 */
import { useEffect, useState } from 'react';
import { useApp, useS } from '../app-context';

/** Cleared, the grid's count goes back to the filter editor's count of the filter, where it has one. */
function search(app: ReturnType<typeof useApp>, text: string): Promise<void> {
  return app.browse.getState().setSearch(text, app.filter.getState().countOf(app.browse.getState().filter));
}

export function QuickSearch() {
  const app = useApp();
  const applied = useS(app.browse, (s) => s.search);
  const target = useS(app.browse, (s) => s.target);
  const [text, setText] = useState(applied);
  useEffect(() => setText(applied), [applied, target]);
  useEffect(() => {
    if (text === applied) return;
    const t = setTimeout(() => void search(app, text), 300);
    return () => clearTimeout(t);
  }, [text, applied, app]);
  return (
    <span className="quick-search">
      <input
        type="search"
        placeholder="Search rows…"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') void search(app, text);
          if (e.key === 'Escape') setText('');
        }}
        aria-label="Search rows in the visible columns"
        title="Rows where any visible column contains this text (case-insensitive, searched by the server)"
        data-testid="quick-search"
      />
      {applied && <span className="badge accent" data-testid="search-on">search</span>}
    </span>
  );
}
