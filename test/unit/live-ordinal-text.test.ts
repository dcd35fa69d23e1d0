import { describe, expect, it } from 'vitest';
import { ordinalBelow } from '../../core/live/ordinal-text';

describe('ordinalBelow: ordinal texts compared as their values', () => {
  it('integers, by value (not as text), beyond 2^53', () => {
    expect(ordinalBelow('bigint', '9', '10')).toBe(true);
    expect(ordinalBelow('bigint', '-10', '-9')).toBe(true);
    expect(ordinalBelow('integer', '10', '10')).toBe(false);
    expect(ordinalBelow('bigint', '9007199254740993', '9007199254740992')).toBe(false);
    expect(ordinalBelow('smallint', 'x', '1')).toBeUndefined();
  });
  it('timestamps in ISO text, with and without fractions and the UTC offset', () => {
    expect(ordinalBelow('timestamp with time zone', '2026-12-01 10:00:00+00', '2026-12-01 10:00:00.5+00')).toBe(true);
    expect(ordinalBelow('timestamp with time zone', '2026-12-01 10:00:00.5+00', '2026-12-01 10:00:00+00')).toBe(false);
    expect(ordinalBelow('timestamp without time zone', '2026-12-01 10:00:00', '2026-12-01 10:00:00.000001')).toBe(true);
    expect(ordinalBelow('timestamp without time zone', '2026-12-01 09:59:59.999999', '2026-12-01 10:00:00')).toBe(true);
    expect(ordinalBelow('timestamp without time zone', '2027-01-01 00:00:00', '2026-12-31 23:59:59')).toBe(false);
  });
  it('texts it cannot order say so', () => {
    expect(ordinalBelow('timestamp with time zone', 'infinity', '2026-12-01 10:00:00+00')).toBeUndefined();
    expect(ordinalBelow('timestamp without time zone', '0099-01-01 00:00:00', '2026-12-01 10:00:00')).toBeUndefined();
    expect(ordinalBelow('timestamp without time zone', '2026-12-01 10:00:00 BC', '2026-12-01 10:00:00')).toBeUndefined();
    expect(ordinalBelow('numeric', '1', '2')).toBeUndefined();
  });
});
