import { describe, expect, it } from 'vitest';
import { typeOverrideFor } from '../../core/flow/schema.set';

const col = (type: string, typeName: string, category: string, elementType?: string) => ({ type, typeName, category, ...(elementType ? { elementType } : {}) });

describe("a set's typeOverrides (one rule for the expansion and the app's member editor)", () => {
  it('matches the exact type, the qualified name and the bare name of an enum', () => {
    const rating = col('mpaa_rating', 'public.mpaa_rating', 'enum');
    expect(typeOverrideFor({ mpaa_rating: 'text' }, rating)).toBe('text');
    expect(typeOverrideFor({ 'public.mpaa_rating': 'text' }, rating)).toBe('text');
    expect(typeOverrideFor({ other: 'text' }, rating)).toBeUndefined();
  });
  it('follows arrays of an overridden element, and an exact array type wins', () => {
    const ratings = col('mpaa_rating[]', 'public.mpaa_rating', 'array', 'mpaa_rating');
    expect(typeOverrideFor({ mpaa_rating: 'text' }, ratings)).toBe('text[]');
    expect(typeOverrideFor({ 'mpaa_rating[]': 'jsonb' }, ratings)).toBe('jsonb');
  });
  it('leaves other columns alone', () => {
    expect(typeOverrideFor({ mpaa_rating: 'text' }, col('integer', 'pg_catalog.int4', 'number'))).toBeUndefined();
  });
});
