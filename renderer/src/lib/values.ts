/**
 * Readers of PostgreSQL's text forms for the cell viewers. They never turn a value into a JS number
 * for display (a bigint or numeric keeps every digit); only the vector norm is computed in floating
 * point, because it is a summary, not the value.
 */

export type JsonNode =
  | { t: 'obj'; entries: Array<[string, JsonNode]> }
  | { t: 'arr'; items: JsonNode[] }
  | { t: 'str'; v: string }
  | { t: 'num'; v: string }
  | { t: 'bool'; v: boolean }
  | { t: 'null' };

/** JSON with numbers kept as their text. Throws on invalid JSON. */
export function parseJsonText(text: string): JsonNode {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const value = (): JsonNode => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: Array<[string, JsonNode]> = [];
      ws();
      if (text[i] === '}') { i++; return { t: 'obj', entries }; }
      for (;;) {
        ws();
        const k = str();
        ws();
        if (text[i++] !== ':') throw new Error(`expected ':' at ${i}`);
        entries.push([k, value()]);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] !== '}') throw new Error(`expected '}' at ${i}`);
        return { t: 'obj', entries };
      }
    }
    if (c === '[') {
      i++;
      const items: JsonNode[] = [];
      ws();
      if (text[i] === ']') { i++; return { t: 'arr', items }; }
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] !== ']') throw new Error(`expected ']' at ${i}`);
        return { t: 'arr', items };
      }
    }
    if (c === '"') return { t: 'str', v: str() };
    if (text.startsWith('true', i)) { i += 4; return { t: 'bool', v: true }; }
    if (text.startsWith('false', i)) { i += 5; return { t: 'bool', v: false }; }
    if (text.startsWith('null', i)) { i += 4; return { t: 'null' }; }
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) throw new Error(`unexpected '${c ?? 'end'}' at ${i}`);
    i += m[0].length;
    return { t: 'num', v: m[0] };
  };
  const str = (): string => {
    if (text[i] !== '"') throw new Error(`expected string at ${i}`);
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const v = value();
  ws();
  if (i !== text.length) throw new Error(`unexpected text at ${i}`);
  return v;
}

/**
 * Elements of a one-dimensional PostgreSQL array literal (`{a,"b c",NULL}`); nested arrays come back
 * as their literal text. Returns null when the text is not an array literal.
 */
export function parsePgArray(text: string): Array<string | null> | null {
  let s = text;
  if (/^\[[^\]]*\]=/.test(s)) s = s.slice(s.indexOf('=') + 1); // explicit bounds: [0:2]={…}
  if (!s.startsWith('{') || !s.endsWith('}')) return null;
  const body = s.slice(1, -1);
  const out: Array<string | null> = [];
  if (body === '') return out;
  let i = 0;
  while (i <= body.length) {
    if (body[i] === '"') {
      let v = '';
      i++;
      while (i < body.length && body[i] !== '"') {
        if (body[i] === '\\') i++;
        v += body[i] ?? '';
        i++;
      }
      i++; // closing quote
      out.push(v);
    } else if (body[i] === '{') {
      let depth = 0;
      const start = i;
      for (; i < body.length; i++) {
        if (body[i] === '{') depth++;
        else if (body[i] === '}' && --depth === 0) { i++; break; }
      }
      out.push(body.slice(start, i));
    } else {
      let j = body.indexOf(',', i);
      if (j < 0) j = body.length;
      const raw = body.slice(i, j).trim();
      out.push(raw === 'NULL' ? null : raw);
      i = j;
    }
    if (body[i] === ',') i++;
    else break;
  }
  return out;
}

/** bytea's hex text form (`\x0a1b…`) as rows of 16 bytes; null when not in hex form. */
export function byteaHexRows(text: string, maxBytes = 4096): { rows: Array<{ offset: number; hex: string; ascii: string }>; length: number } | null {
  if (!text.startsWith('\\x')) return null;
  const hex = text.slice(2);
  const length = hex.length / 2;
  const rows: Array<{ offset: number; hex: string; ascii: string }> = [];
  for (let off = 0; off < Math.min(length, maxBytes); off += 16) {
    const chunk = hex.slice(off * 2, Math.min(length, off + 16) * 2);
    const bytes = chunk.match(/../g) ?? [];
    rows.push({
      offset: off,
      hex: bytes.join(' '),
      ascii: bytes.map((b) => { const n = parseInt(b, 16); return n >= 32 && n < 127 ? String.fromCharCode(n) : '·'; }).join(''),
    });
  }
  return { rows, length };
}

/** A pgvector value (`[0.1,0.2,…]`): its elements as text, dimension count and L2 norm. */
export function vectorSummary(text: string): { dims: number; norm: number; elements: string[] } | null {
  const t = text.trim();
  if (!t.startsWith('[') || !t.endsWith(']')) return null;
  const body = t.slice(1, -1).trim();
  const elements = body === '' ? [] : body.split(',').map((x) => x.trim());
  let sum = 0;
  for (const e of elements) {
    const n = Number(e);
    if (!Number.isFinite(n)) return null;
    sum += n * n;
  }
  return { dims: elements.length, norm: Math.sqrt(sum), elements };
}

export type ViewerKind = 'null' | 'json' | 'array' | 'bytea' | 'vector' | 'text';

export function viewerKind(type: string, value: string | null): ViewerKind {
  if (value === null) return 'null';
  if (/^jsonb?$/.test(type)) return 'json';
  if (/^(vector|halfvec)(\(|$)/.test(type)) return 'vector';
  if (type === 'bytea') return 'bytea';
  if (type.endsWith('[]')) return 'array';
  return 'text';
}
