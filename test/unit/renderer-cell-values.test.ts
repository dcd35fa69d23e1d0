// The cell viewers read PostgreSQL's text forms without losing digits: json numbers stay text,
// arrays split with quoting and NULLs, bytea becomes a hex dump, vectors give dimensions and norm.
import { describe, expect, it } from 'vitest';
import { byteaHexRows, parseJsonText, parsePgArray, vectorSummary, viewerKind } from '../../renderer/src/lib/values';

describe('cell value readers', () => {
  it('keeps json numbers as written, past 2^53', () => {
    const n = parseJsonText('{"id": 9007199254740993, "p": 1.10, "a": [true, null, "x\\"y"]}');
    expect(n).toEqual({
      t: 'obj',
      entries: [
        ['id', { t: 'num', v: '9007199254740993' }],
        ['p', { t: 'num', v: '1.10' }],
        ['a', { t: 'arr', items: [{ t: 'bool', v: true }, { t: 'null' }, { t: 'str', v: 'x"y' }] }],
      ],
    });
    expect(() => parseJsonText('{"a": }')).toThrow();
  });

  it('splits array literals with quotes, escapes, NULL and nested arrays', () => {
    expect(parsePgArray('{a,"b c","d\\"e",NULL,""}')).toEqual(['a', 'b c', 'd"e', null, '']);
    expect(parsePgArray('{}')).toEqual([]);
    expect(parsePgArray('{{1,2},{3,4}}')).toEqual(['{1,2}', '{3,4}']);
    expect(parsePgArray('[0:1]={x,y}')).toEqual(['x', 'y']);
    expect(parsePgArray('not an array')).toBeNull();
  });

  it('dumps bytea hex 16 bytes a row with printable ascii', () => {
    const h = byteaHexRows('\\x48656c6c6f00ff');
    expect(h).toEqual({ length: 7, rows: [{ offset: 0, hex: '48 65 6c 6c 6f 00 ff', ascii: 'Hello··' }] });
    expect(byteaHexRows('plain')).toBeNull();
  });

  it('summarises vectors', () => {
    expect(vectorSummary('[3,4]')).toEqual({ dims: 2, norm: 5, elements: ['3', '4'] });
    expect(vectorSummary('{1,2}')).toBeNull();
  });

  it('picks the viewer by type, NULL first', () => {
    expect(viewerKind('jsonb', '{}')).toBe('json');
    expect(viewerKind('vector(3)', '[1,2,3]')).toBe('vector');
    expect(viewerKind('text[]', '{a}')).toBe('array');
    expect(viewerKind('bytea', '\\x00')).toBe('bytea');
    expect(viewerKind('jsonb', null)).toBe('null');
    expect(viewerKind('text', '')).toBe('text');
  });
});
