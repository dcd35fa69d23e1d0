/**
 * A CodeMirror 6 editor for a SQL expression: highlighting, completion of the table's columns, an
 * error mark at PostgreSQL's reported position, and Mod+Enter to submit.
 */
import { useEffect, useRef } from 'react';
import { basicSetup } from 'codemirror';
import { EditorView, keymap, Decoration, placeholder as cmPlaceholder, type DecorationSet } from '@codemirror/view';
import { EditorState, Prec, StateEffect, StateField, Compartment } from '@codemirror/state';
import { sql, PostgreSQL, schemaCompletionSource, keywordCompletionSource, type SQLConfig } from '@codemirror/lang-sql';
import { autocompletion } from '@codemirror/autocomplete';
import { mergedSource } from '../lib/sql-completion';
import { syntaxHighlighting } from '@codemirror/language';
import { classHighlighter } from '@lezer/highlight';

const setError = StateEffect.define<{ from: number; to: number } | null>();
const errorField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) {
      if (!e.is(setError)) continue;
      if (!e.value) deco = Decoration.none;
      else {
        const { from, to } = e.value;
        deco = Decoration.set([Decoration.mark({ class: 'cm-error-mark' }).range(from, Math.max(to, from + 1))]);
      }
    }
    return deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

/** The span to underline for a 1-based position: the word (or symbol) starting there. */
export function errorSpan(text: string, position: number): { from: number; to: number } {
  const from = Math.min(Math.max(0, position - 1), Math.max(0, text.length - 1));
  const m = /^[\p{L}\p{N}_$."]+|^./u.exec(text.slice(from));
  return { from, to: Math.min(text.length, from + (m ? m[0].length : 1)) };
}

/** The SQL language with one completion source: names and keywords merged, each offered once. */
function sqlWith(config: SQLConfig) {
  const full: SQLConfig = { dialect: PostgreSQL, upperCaseKeywords: false, ...config };
  return [sql(full), autocompletion({ override: [mergedSource(schemaCompletionSource(full), keywordCompletionSource(PostgreSQL, false, (label, type) => ({ label, type: type === 'type' ? 'enum' : type })))] })];
}

export interface SqlEditorProps {
  value: string;
  onChange(v: string): void;
  onSubmit?(): void;
  /** The selected text (empty when nothing is selected), on every change of the selection. */
  onSelection?(text: string): void;
  columns?: string[];
  tableName?: string;
  /** Schemas → tables → columns to complete (the console); overrides columns/tableName. */
  schema?: Record<string, Record<string, string[]>>;
  /** 1-based error position, or null. */
  errorPosition?: number | null;
  placeholder?: string;
  className?: string;
  ariaLabel?: string;
  testId?: string;
}

export function SqlEditor(props: SqlEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const cb = useRef(props);
  cb.current = props;
  const langConf = useRef(new Compartment());

  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: cb.current.value,
        extensions: [
          basicSetup,
          // Token classes styled by the theme's CSS variables, so light and dark both read well.
          syntaxHighlighting(classHighlighter),
          langConf.current.of(sqlWith({})),
          errorField,
          EditorView.lineWrapping,
          cmPlaceholder(cb.current.placeholder ?? ''),
          EditorView.contentAttributes.of({ 'aria-label': cb.current.ariaLabel ?? 'SQL' }),
          Prec.highest(
            keymap.of([
              {
                key: 'Mod-Enter',
                run: () => {
                  cb.current.onSubmit?.();
                  return true;
                },
              },
            ]),
          ),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) cb.current.onChange(u.state.doc.toString());
            if (u.selectionSet || u.docChanged) {
              const r = u.state.selection.main;
              cb.current.onSelection?.(u.state.sliceDoc(r.from, r.to));
            }
          }),
        ],
      }),
    });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
  }, []);

  // Column completion follows the table.
  const cols = (props.columns ?? []).join('\u0000');
  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const namespace = cb.current.schema;
    if (namespace) {
      v.dispatch({ effects: langConf.current.reconfigure(sqlWith({ schema: namespace, defaultSchema: 'public' })) });
      return;
    }
    const columns = cols ? cols.split('\u0000') : [];
    const table = cb.current.tableName ?? 't';
    v.dispatch({
      effects: langConf.current.reconfigure(sqlWith({ schema: { [table]: columns }, defaultTable: table })),
    });
  }, [cols, props.tableName, props.schema]);

  // External value changes (a saved flow loaded, the filter cleared).
  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const cur = v.state.doc.toString();
    if (cur !== props.value) v.dispatch({ changes: { from: 0, to: cur.length, insert: props.value } });
  }, [props.value]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const text = v.state.doc.toString();
    const pos = props.errorPosition;
    v.dispatch({ effects: setError.of(pos && text.length > 0 ? errorSpan(text, pos) : null) });
  }, [props.errorPosition, props.value]);

  return <div ref={host} className={`cm-host ${props.className ?? ''}`} data-testid={props.testId} />;
}
