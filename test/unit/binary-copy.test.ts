import { describe, expect, it } from 'vitest';
import { binaryCopySafe } from '../../core/sql/binary-copy';

// Which source columns may move in binary COPY (core/sql/binary-copy.ts): built-ins with a stable
// wire form and their arrays, and enums; everything whose wire form carries database-specific OIDs
// or another type's meaning goes as text.
describe('binary COPY eligibility', () => {
  it('takes built-in scalars and their arrays, and enums', () => {
    for (const oid of [16, 17, 20, 21, 23, 25, 114, 700, 701, 1043, 1082, 1114, 1184, 1186, 1700, 2950, 3802, 1007, 1009, 1185, 1231]) {
      expect(binaryCopySafe({ typeOid: oid, category: 'base' }), `oid ${oid}`).toBe(true);
    }
    expect(binaryCopySafe({ typeOid: 16_500, category: 'enum' })).toBe(true);
  });
  it('refuses domains, composites, arrays of user types, ranges, extension types, money and xml', () => {
    expect(binaryCopySafe({ typeOid: 16_501, category: 'domain' })).toBe(false);
    expect(binaryCopySafe({ typeOid: 16_502, category: 'composite' })).toBe(false);
    expect(binaryCopySafe({ typeOid: 16_503, category: 'array' })).toBe(false); // e.g. mood[]
    expect(binaryCopySafe({ typeOid: 3904, category: 'range' })).toBe(false); // int4range
    expect(binaryCopySafe({ typeOid: 16_504, category: 'vector' })).toBe(false);
    expect(binaryCopySafe({ typeOid: 790, category: 'base' })).toBe(false); // money
    expect(binaryCopySafe({ typeOid: 142, category: 'base' })).toBe(false); // xml
  });
});
