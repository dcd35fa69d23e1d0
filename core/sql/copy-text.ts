/**
 * PostgreSQL's COPY text format (the default of `COPY … TO STDOUT`): one row per line, columns
 * separated by a tab, `\N` for NULL, and backslash escapes for backslash, newline, carriage return
 * and tab. Bulk data stays in this form end to end (source COPY out → target COPY in), so values are
 * never round-tripped through JS types; these helpers exist for the few places that must look
 * inside a row (keys, samples, targeted re-reads).
 */

/** Encode one value (server text, or null) for a COPY text row. */
export function encodeCopyValue(value: string | null): string {
  if (value === null) return '\\N';
  let out = '';
  let last = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    let rep: string | undefined;
    if (c === 92) rep = '\\\\';
    else if (c === 10) rep = '\\n';
    else if (c === 13) rep = '\\r';
    else if (c === 9) rep = '\\t';
    if (rep) {
      out += value.slice(last, i) + rep;
      last = i + 1;
    }
  }
  return last === 0 ? value : out + value.slice(last);
}

/** Encode a row as one COPY text line, with its trailing newline. */
export function encodeCopyRow(values: readonly (string | null)[]): string {
  return values.map(encodeCopyValue).join('\t') + '\n';
}

/** Decode one COPY text line (without its newline) into values. */
export function decodeCopyRow(line: string): (string | null)[] {
  const fields = line.split('\t');
  return fields.map(decodeCopyValue);
}

export function decodeCopyValue(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  let out = '';
  for (let i = 0; i < field.length; i++) {
    const ch = field[i]!;
    if (ch !== '\\' || i + 1 >= field.length) {
      out += ch;
      continue;
    }
    const n = field[++i]!;
    switch (n) {
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      default: {
        // \ooo octal and \xhh hex byte escapes (COPY may emit them for control bytes)
        if (/[0-7]/.test(n)) {
          let digits = n;
          while (digits.length < 3 && /[0-7]/.test(field[i + 1] ?? '')) digits += field[++i];
          out += String.fromCharCode(parseInt(digits, 8));
        } else if (n === 'x' && /[0-9a-fA-F]/.test(field[i + 1] ?? '')) {
          let digits = '';
          while (digits.length < 2 && /[0-9a-fA-F]/.test(field[i + 1] ?? '')) digits += field[++i];
          out += String.fromCharCode(parseInt(digits, 16));
        } else {
          out += n;
        }
      }
    }
  }
  return out;
}

/**
 * Split a stream of COPY text chunks into lines (rows), with bounded memory: only the partial last
 * line of a chunk is carried over.
 * @example for await (const line of copyLines(stream)) decodeCopyRow(line)
 */
export async function* copyLines(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let carry = '';
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of chunks) {
    const text = carry + (typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      yield text.slice(start, nl);
      start = nl + 1;
    }
    carry = text.slice(start);
  }
  carry += decoder.decode();
  if (carry.length > 0) yield carry;
}
