/**
 * Byte-level helpers for export streams, chunk boundaries included: counting CSV records (a
 * newline inside a quoted field is not a record end), and undoing COPY's text escaping of a
 * one-column result (`\\` → `\`, `\n` → newline…), so JSON lines and INSERTs are written as the
 * server built them.
 */

export class CsvRowCounter {
  private inQuotes = false;
  private header: boolean;
  constructor(header: boolean) {
    this.header = header;
  }
  /** Records completed in this chunk (the header line not counted). */
  push(b: Buffer): number {
    let n = 0;
    let q = this.inQuotes;
    // Fast path: no quote in the chunk, so only newlines matter.
    if (!q && b.indexOf(34) === -1) {
      for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
    } else {
      for (let i = 0; i < b.length; i++) {
        const c = b[i];
        if (c === 34) q = !q;
        else if (c === 10 && !q) n++;
      }
    }
    this.inQuotes = q;
    if (this.header && n > 0) {
      this.header = false;
      n--;
    }
    return n;
  }
}

const ESCAPES: Record<number, number> = { 98: 8, 102: 12, 110: 10, 114: 13, 116: 9, 118: 11, 92: 92 };

export class CopyTextUnescaper {
  private pending = false;
  push(b: Buffer): Buffer {
    if (!this.pending && b.indexOf(92) === -1) return b;
    const out = Buffer.allocUnsafe(b.length + 1);
    let o = 0;
    let i = 0;
    if (this.pending) {
      this.pending = false;
      if (b.length === 0) {
        this.pending = true;
        return b;
      }
      out[o++] = ESCAPES[b[0]!] ?? b[0]!;
      i = 1;
    }
    for (; i < b.length; i++) {
      const c = b[i]!;
      if (c !== 92) {
        out[o++] = c;
        continue;
      }
      if (i + 1 >= b.length) {
        this.pending = true;
        break;
      }
      const n = b[++i]!;
      out[o++] = ESCAPES[n] ?? n;
    }
    return out.subarray(0, o);
  }
}
