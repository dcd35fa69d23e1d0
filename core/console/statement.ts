/**
 * What the console needs to know about a statement before it runs it: the statement without the
 * trailing semicolon, and whether a cursor can carry it (DECLARE takes SELECT, VALUES, TABLE and
 * WITH … SELECT; everything else runs as it is).
 */
import { TableSyncError } from '../errors';

/** Strip comments and whitespace at the start; the first keyword, lower-case. */
export function firstKeyword(sql: string): string {
  let s = sql;
  for (;;) {
    const t = s.replace(/^\s+/, '');
    if (t.startsWith('--')) s = t.replace(/^--[^\n]*(\n|$)/, '');
    else if (t.startsWith('/*')) {
      const end = t.indexOf('*/');
      s = end < 0 ? '' : t.slice(end + 2);
    } else if (t.startsWith('(')) s = t.slice(1);
    else return (/^[a-zA-Z_]+/.exec(t)?.[0] ?? '').toLowerCase();
  }
}

export function isCursorable(sql: string): boolean {
  return ['select', 'with', 'values', 'table'].includes(firstKeyword(sql));
}

/** The statement as it will be sent: trailing semicolons and blanks removed; empty is refused. */
export function oneStatement(sql: string): string {
  const s = sql.replace(/[\s;]+$/, '');
  if (firstKeyword(s) === '' && !/\S/.test(s.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ''))) {
    throw new TableSyncError('INVALID_INPUT', 'nothing to run: the statement is empty');
  }
  return s;
}
