import { describe, expect, it } from 'vitest';
import { displayIdent, fitIdentifier, identifierByteLength, qualifiedName, quoteIdent, quoteLiteral } from '../../core/sql/ident';

describe('identifier quoting', () => {
  it('quotes reserved words, spaces, unicode and embedded quotes', () => {
    expect(quoteIdent('select')).toBe('"select"');
    expect(quoteIdent('My Table')).toBe('"My Table"');
    expect(quoteIdent('naïve"quote')).toBe('"naïve""quote"');
    expect(qualifiedName('Sch ema', 'a.b')).toBe('"Sch ema"."a.b"');
  });
  it('refuses empty and NUL identifiers', () => {
    expect(() => quoteIdent('')).toThrow(/empty/);
    expect(() => quoteIdent('a\0b')).toThrow(/NUL/);
  });
  it('quotes literals', () => {
    expect(quoteLiteral("it's")).toBe("'it''s'");
  });
  it('fits long names into 63 bytes without splitting characters, stably and distinctly', () => {
    const a = 'é'.repeat(40) + 'a';
    const b = 'é'.repeat(40) + 'b';
    const fa = fitIdentifier(a);
    expect(identifierByteLength(fa)).toBeLessThanOrEqual(63);
    expect(fitIdentifier(a)).toBe(fa);
    expect(fitIdentifier(b)).not.toBe(fa);
    expect(fitIdentifier('short')).toBe('short');
  });
});

describe('identifiers shown to people', () => {
  it('quotes only what needs it', () => {
    expect(displayIdent('items')).toBe('items');
    expect(displayIdent('My Products')).toBe('"My Products"');
    expect(displayIdent('a.b')).toBe('"a.b"');
  });
});
