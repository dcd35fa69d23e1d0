/**
 * Redaction: the one place that knows what a secret looks like inside text that is about to be
 * shown (an error message, a log line, a URL in a list). Every message that may carry a connection
 * string goes through `redactSecrets` before it leaves the engine (the API dispatcher and the CLI
 * apply it to every error as a last line of defence), so a mistyped URL never comes back with its
 * password.
 *
 * What counts as a secret:
 * - the password of a URL's user info (`scheme://user:PASSWORD@host`), whatever the scheme, even a
 *   mistyped one (`postgress://`, `postgres:/`), and even when the password itself holds `@`, `/`
 *   or `:`: everything between the user name and the LAST `@` of the authority is replaced;
 * - `password=…` as a URL query parameter (`?password=…&`) or a libpq keyword/value DSN
 *   (`host=h password=secret`, `password='with spaces'`);
 * - values the caller knows (`known`): the password we resolved, an environment variable's value.
 *
 * Node-free (no imports): the renderer may use it too.
 */

export const REDACTED = '***';

/** `scheme://user:secret@` (the user may be empty); the secret runs to the last `@` before whitespace. */
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/{1,3})([^\s"'`<>:@/?#]*):([^\s"'`<>]*)@(?=[^\s"'`<>@]*(?:[\s"'`<>]|$))/gi;
/** The same, when the authority is followed by more text that holds an `@` later: take the first `@` after a non-space run. */
const URL_USERINFO_SHORT = /([a-z][a-z0-9+.-]*:\/{1,3})([^\s"'`<>:@/?#]*):([^\s"'`<>@]+)@/gi;
/** `password=…` in a query string or a DSN; a quoted DSN value may hold spaces and escaped quotes. */
const PASSWORD_PARAM = /(\b(?:password|passwd|pwd|sslpassword)\s*=\s*)('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s&;'"]+)/gi;

/**
 * `text` with every password-looking part (and every `known` value) replaced by `***`.
 * @example redactSecrets('cannot parse postgres://app:s3cr@t@db/x') // 'cannot parse postgres://app:***@db/x'
 */
export function redactSecrets(text: string, known: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const k of known) {
    // Short values (a one-letter password) would blank out ordinary words; they are still caught
    // by the patterns below where they appear in a URL or DSN.
    if (k && k.length >= 4) out = out.split(k).join(REDACTED);
  }
  out = out.replace(URL_USERINFO, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`);
  out = out.replace(URL_USERINFO_SHORT, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`);
  out = out.replace(PASSWORD_PARAM, (_m, key: string) => `${key}${REDACTED}`);
  return out;
}

/** Every string inside a JSON-like value redacted (error details cross the API and the CLI's --json). */
export function redactDeep<T>(value: T, known: readonly (string | undefined)[] = []): T {
  if (typeof value === 'string') return redactSecrets(value, known) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v, known)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactDeep(v, known)])) as T;
  }
  return value;
}

/** True when the URL's user info carries the redaction placeholder instead of a password. */
export function hasRedactedPassword(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^\s:@/?#]*:\*\*\*@/i.test(url.trim()) || /[?&]password=\*\*\*(?:&|$)/i.test(url);
}
