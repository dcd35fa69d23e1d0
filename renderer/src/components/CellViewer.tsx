/** The side panel for the active cell: json as a tree, arrays as lists, bytea as hex, vectors, long text. */
import { useEffect, useRef, useState } from 'react';
import type { Cell } from '../api/types';
import { byteaHexRows, parseJsonText, parsePgArray, vectorSummary, viewerKind, type JsonNode } from '../lib/values';

export function CellViewer(props: { column: string; type: string; value: Cell; load?: () => Promise<Cell>; loadKey?: string; onClose(): void }) {
  const { type, load } = props;
  const loadRef = useRef(load);
  loadRef.current = load;
  // A cell the grid got cut short is read whole, by key, when it is opened.
  const [full, setFull] = useState<{ for: Cell; value: Cell } | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  useEffect(() => {
    setFull(null);
    setLoadError(null);
    if (!loadRef.current) return;
    let live = true;
    loadRef.current().then(
      (v) => live && setFull({ for: props.value, value: v }),
      (e: unknown) => live && setLoadError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [props.loadKey, props.value]);
  const loading = !!load && !full && !loadError;
  const value = full && full.for === props.value ? full.value : props.value;
  const kind = loading ? 'text' : viewerKind(type, value);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    if (value === null) return;
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      setTimeout(() => setCopied(false), 1200);
    } catch {
      /* clipboard may be denied in browser mode without focus; the text is selectable anyway */
    }
  };
  return (
    <aside className="viewer" data-testid="cell-viewer" aria-label="Cell viewer">
      <header>
        <div className="grow" style={{ minWidth: 0 }}>
          <div style={{ fontWeight: 600, overflow: 'hidden', textOverflow: 'ellipsis' }}>{props.column}</div>
          <div className="faint mono">{type}</div>
        </div>
        <button className="btn small" onClick={() => void copy()} disabled={value === null || loading}>
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button className="icon-btn" aria-label="Close viewer" onClick={props.onClose}>
          ✕
        </button>
      </header>
      <div className="vbody">
        {loading && <div className="row muted" style={{ marginBottom: 8 }}><span className="spinner" /> reading the whole value…</div>}
        {loadError && <div className="error-text" style={{ marginBottom: 8 }}>Could not read the whole value: {loadError}. Showing the first part.</div>}
        {kind === 'null' && <div className="faint" style={{ fontStyle: 'italic' }}>NULL (no value; not the same as an empty string)</div>}
        {kind === 'json' && <JsonView text={value!} />}
        {kind === 'vector' && <VectorView text={value!} />}
        {kind === 'bytea' && <ByteaView text={value!} />}
        {kind === 'array' && <ArrayView text={value!} />}
        {kind === 'text' && <TextView text={value!} />}
      </div>
    </aside>
  );
}

function TextView({ text }: { text: string }) {
  return (
    <>
      <dl className="kv">
        <dt>length</dt>
        <dd>{[...text].length.toLocaleString('en-US')} characters</dd>
      </dl>
      {text === '' ? <div className="faint">(empty string)</div> : <pre>{text}</pre>}
    </>
  );
}

function JsonView({ text }: { text: string }) {
  let node: JsonNode;
  try {
    node = parseJsonText(text);
  } catch {
    return <TextView text={text} />;
  }
  return (
    <div className="jtree" data-testid="json-tree">
      <JsonNodeView node={node} depth={0} />
    </div>
  );
}

function JsonNodeView({ node, depth, label }: { node: JsonNode; depth: number; label?: string }) {
  const k = label !== undefined ? <span className="k">{label}: </span> : null;
  if (node.t === 'obj' || node.t === 'arr') {
    const children = node.t === 'obj' ? node.entries : node.items.map((v, i) => [String(i), v] as [string, JsonNode]);
    const summary = node.t === 'obj' ? `{…} ${children.length} ${children.length === 1 ? 'key' : 'keys'}` : `[…] ${children.length} ${children.length === 1 ? 'item' : 'items'}`;
    return (
      <details open={depth < 2}>
        <summary>
          {k}
          <span className="faint">{summary}</span>
        </summary>
        <ul>
          {children.map(([ck, cv]) => (
            <li key={ck}>
              <JsonNodeView node={cv} depth={depth + 1} label={ck} />
            </li>
          ))}
        </ul>
      </details>
    );
  }
  return (
    <div>
      {k}
      {node.t === 'str' && <span className="s">{JSON.stringify(node.v)}</span>}
      {node.t === 'num' && <span className="n">{node.v}</span>}
      {node.t === 'bool' && <span className="b">{String(node.v)}</span>}
      {node.t === 'null' && <span className="z">null</span>}
    </div>
  );
}

function VectorView({ text }: { text: string }) {
  const v = vectorSummary(text);
  if (!v) return <TextView text={text} />;
  const head = v.elements.slice(0, 64).map(Number);
  const max = Math.max(1e-9, ...head.map(Math.abs));
  return (
    <div data-testid="vector-view">
      <dl className="kv">
        <dt>dimensions</dt>
        <dd>{v.dims}</dd>
        <dt>L2 norm</dt>
        <dd>{v.norm.toPrecision(6)}</dd>
      </dl>
      <div className="sparkbar" title="first 64 components">
        {head.map((x, i) => (
          <div key={i} className={x < 0 ? 'neg' : ''} style={{ height: `${(Math.abs(x) / max) * 100}%` }} />
        ))}
      </div>
      <h3 style={{ margin: '8px 0 4px' }}>Preview</h3>
      <pre>
        [{v.elements.slice(0, 16).join(', ')}
        {v.dims > 16 ? `, … ${v.dims - 16} more` : ''}]
      </pre>
    </div>
  );
}

function ByteaView({ text }: { text: string }) {
  const h = byteaHexRows(text);
  if (!h) return <TextView text={text} />;
  return (
    <div className="hex" data-testid="bytea-view">
      <dl className="kv">
        <dt>size</dt>
        <dd>{h.length.toLocaleString('en-US')} bytes</dd>
      </dl>
      {h.rows.map((r) => (
        <div key={r.offset}>
          <span className="off">{r.offset.toString(16).padStart(6, '0')}</span>
          {r.hex.padEnd(47, ' ')} <span className="faint">{r.ascii}</span>
        </div>
      ))}
      {h.length > 4096 && <div className="faint">… first 4 KiB shown</div>}
    </div>
  );
}

function ArrayView({ text }: { text: string }) {
  const items = parsePgArray(text);
  if (!items) return <TextView text={text} />;
  return (
    <div data-testid="array-view">
      <dl className="kv">
        <dt>elements</dt>
        <dd>{items.length}</dd>
      </dl>
      {items.length === 0 ? (
        <div className="faint">(empty array)</div>
      ) : (
        <ol className="arr-list" start={1}>
          {items.map((x, i) => (
            <li key={i}>{x === null ? <span style={{ color: 'var(--null)', fontStyle: 'italic' }}>NULL</span> : x}</li>
          ))}
        </ol>
      )}
    </div>
  );
}
