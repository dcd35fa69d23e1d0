import { describe, expect, it } from 'vitest';
import { hasRedactedPassword, redactSecrets } from '../../core/connections/redact';
import { fillPassword, parseConnectionUrl, redactUrl, splitPassword } from '../../core/connections/url';

describe('redactSecrets', () => {
  it.each([
    ['postgres://app:hunter2@db:5432/x', 'postgres://app:***@db:5432/x'],
    ['cannot parse postgres://app:s3cr@t@db/x here', 'cannot parse postgres://app:***@db/x here'],
    ['postgress://app:hunter2@db/x', 'postgress://app:***@db/x'],
    ['postgres:/app:hunter2@db/x', 'postgres:/app:***@db/x'],
    ['postgres://:hunter2@db/x', 'postgres://:***@db/x'],
    ['postgres://app@db/x?sslmode=require&password=hunter2&a=1', 'postgres://app@db/x?sslmode=require&password=***&a=1'],
    ['host=db password=hunter2 dbname=x', 'host=db password=*** dbname=x'],
    ["host=db password='hunter 2' dbname=x", 'host=db password=*** dbname=x'],
    ['postgres://app@db/x', 'postgres://app@db/x'],
    ['password authentication failed for user "app"', 'password authentication failed for user "app"'],
  ])('%s', (text, want) => {
    expect(redactSecrets(text)).toBe(want);
  });

  it('replaces values the caller knows', () => {
    expect(redactSecrets('value /usr/bin:/bin is wrong', ['/usr/bin:/bin'])).toBe('value *** is wrong');
  });

  it('recognises the placeholder', () => {
    expect(hasRedactedPassword('postgres://app:***@db/x')).toBe(true);
    expect(hasRedactedPassword('postgres://app@db/x?password=***')).toBe(true);
    expect(hasRedactedPassword('postgres://app:pw@db/x')).toBe(false);
  });
});

describe('passwords in URLs', () => {
  it('?password= is the password, not an option', () => {
    expect(parseConnectionUrl('postgres://app@db/x?password=p%20w&application_name=a')).toEqual({
      host: 'db', port: 5432, database: 'x', user: 'app', password: 'p w', sslmode: 'prefer', options: { application_name: 'a' },
    });
    expect(redactUrl('postgres://app@db/x?password=secret')).toBe('postgres://app@db/x?password=***');
  });

  it('splits a password out and fills it back', () => {
    const s = splitPassword('postgres://app:p%40ss@db:5433/x?sslmode=require');
    expect(s).toEqual({ url: 'postgres://app:***@db:5433/x?sslmode=require', password: 'p@ss' });
    expect(parseConnectionUrl(fillPassword(s.url, 'p@ss/:?')).password).toBe('p@ss/:?');
    const q = splitPassword('postgres://app@db/x?password=qq');
    expect(q).toEqual({ url: 'postgres://app@db/x?password=***', password: 'qq' });
    expect(parseConnectionUrl(fillPassword(q.url, 'a&b')).password).toBe('a&b');
    expect(splitPassword('postgres://app@db/x')).toEqual({ url: 'postgres://app@db/x' });
  });

  it('never echoes text that is not a URL', () => {
    expect(() => parseConnectionUrl('host=db password=hunter2')).toThrow(/libpq keyword\/value/);
    try {
      parseConnectionUrl('host=db password=hunter2');
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
    }
  });
});
