import { describe, expect, it } from 'vitest';
import { isSetDocument, matchesPattern, setSpec } from '../../core/flow/schema.set';
import { parseSet } from '../../core/set/load';

describe('set file schema', () => {
  const base = { version: 1, set: 'shop', source: { connection: { env: 'S' } }, target: { connection: { saved: 'w' }, schema: 'mirror' }, tables: '*' };

  it('accepts the issue example and fills defaults', () => {
    const s = parseSet({ ...base, exclude: ['audit_*'], defaults: { ordinalColumn: 'last_update', typeOverrides: { mpaa_rating: 'text' }, notification: {} }, foreignKeys: true, overrides: { film: { filter: "rating <> 'NC-17'", columns: { title: { name: 'name' } } } } });
    expect(s.source.schema).toBe('public');
    expect(s.target.managedBy).toBe('system');
    expect(s.strict).toBe(false);
    expect(s.foreignKeys).toBe(true);
  });

  it('names the JSON path of what is wrong', () => {
    expect(() => parseSet({ ...base, tables: 'all' })).toThrow(/tables/);
    expect(() => parseSet({ ...base, set: 'a.b' })).toThrow(/set: must not contain "."/);
    expect(() => parseSet({ ...base, tables: ['a', 'a'] })).toThrow(/tables\[1\]: table "a" is listed twice/);
    expect(() => parseSet({ ...base, tables: ['a'], include: ['x*'] })).toThrow(/include: `include` applies only with "tables": "\*"/);
    expect(() => parseSet({ ...base, overrides: { film: { bogus: 1 } } })).toThrow(/overrides.film/);
    expect(() => parseSet({ ...base, version: 2 })).toThrow(/version/);
  });

  it('tells a set file from a flow file by "set"', () => {
    expect(isSetDocument(base)).toBe(true);
    expect(isSetDocument({ version: 1, name: 'f', source: {}, target: {} })).toBe(false);
    expect(isSetDocument([])).toBe(false);
    expect(setSpec.safeParse(base).success).toBe(true);
  });

  it('matches table patterns with * and ?, everything else literal', () => {
    expect(matchesPattern('audit_*', 'audit_log')).toBe(true);
    expect(matchesPattern('audit_*', 'xaudit_log')).toBe(false);
    expect(matchesPattern('film?', 'films')).toBe(true);
    expect(matchesPattern('film?', 'film')).toBe(false);
    expect(matchesPattern('a.b', 'axb')).toBe(false);
    expect(matchesPattern('(x)+', '(x)+')).toBe(true);
  });
});
