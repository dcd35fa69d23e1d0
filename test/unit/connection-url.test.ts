import { describe, expect, it } from 'vitest';
import { buildConnectionUrl, parseConnectionUrl, redactUrl, sslOptionFor } from '../../core/connections/url';
import { TableSyncError } from '../../core/errors';

describe('connection URLs', () => {
  it('parses the parts with defaults', () => {
    expect(parseConnectionUrl('postgresql://app@localhost/search')).toEqual({
      host: 'localhost', port: 5432, database: 'search', user: 'app', sslmode: 'prefer', options: {},
    });
    expect(parseConnectionUrl('postgres://u:p%40ss%2Fword@db.example.com:6543/my%20db?sslmode=require&application_name=x')).toEqual({
      host: 'db.example.com', port: 6543, database: 'my db', user: 'u', password: 'p@ss/word', sslmode: 'require', options: { application_name: 'x' },
    });
    expect(parseConnectionUrl('postgres://[::1]:5433/d').host).toBe('::1');
    expect(parseConnectionUrl('postgres://bob@h').database).toBe('bob');
  });

  it.each([
    ['not a url', /not a connection URL/],
    ['mysql://u@h/d', /must start with postgres:\/\/ or postgresql:\/\//],
    ['postgres://u@h/d?sslmode=sometimes', /unknown sslmode "sometimes"/],
    ['postgres:///d', /no host/],
  ])('refuses %s with INVALID_INPUT', (url, msg) => {
    expect(() => parseConnectionUrl(url)).toThrow(TableSyncError);
    expect(() => parseConnectionUrl(url)).toThrow(msg);
  });

  it('never puts the password in its error messages', () => {
    try {
      parseConnectionUrl('postgres://u:hunter2@h/d?sslmode=bogus');
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('hunter2');
    }
    expect(redactUrl('postgres://u:hunter2@h:5432/d')).toBe('postgres://u:***@h:5432/d');
    expect(redactUrl('postgres://u@h/d')).toBe('postgres://u@h/d');
  });

  it('builds a URL that parses back to the same parts', () => {
    const parts = { host: '::1', port: 5433, database: 'My DB', user: 'a b', password: 'p:w@/?', sslmode: 'verify-full' as const, options: { application_name: 'ts' } };
    expect(parseConnectionUrl(buildConnectionUrl(parts))).toEqual(parts);
  });

  it('maps sslmodes to pg ssl options', () => {
    expect(sslOptionFor('disable', 'h')).toBe(false);
    expect(sslOptionFor('prefer', 'h')).toBe(false);
    expect(sslOptionFor('require', 'h')).toEqual({ rejectUnauthorized: false });
    expect(sslOptionFor('verify-full', 'h')).toEqual({ rejectUnauthorized: true, servername: 'h' });
    expect(sslOptionFor('verify-ca', 'h')).toMatchObject({ rejectUnauthorized: true });
  });
});
