import { describe, expect, it } from 'vitest';
import { copyLines, decodeCopyRow, encodeCopyRow } from '../../core/sql/copy-text';

describe('COPY text format', () => {
  it('round-trips NULL, empty string, escapes and unusual unicode', () => {
    const row = [null, '', 'a\tb\nc\rd\\e', '\\N', 'naïve 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u200b'];
    const line = encodeCopyRow(row);
    expect(line.endsWith('\n')).toBe(true);
    expect(decodeCopyRow(line.slice(0, -1))).toEqual(row);
  });
  it('decodes octal and hex escapes', () => {
    expect(decodeCopyRow('\\001x\\x41')).toEqual(['\u0001xA']);
  });
  it('splits chunked streams into lines, including multibyte characters split across chunks', async () => {
    const bytes = Buffer.from('é\tb\nc\td\n', 'utf8');
    async function* chunks() { for (const b of bytes) yield Buffer.from([b]); }
    const lines: string[] = [];
    for await (const l of copyLines(chunks())) lines.push(l);
    expect(lines).toEqual(['é\tb', 'c\td']);
  });
});
