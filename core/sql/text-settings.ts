/**
 * The one rule for the session settings that change how PostgreSQL prints and reads values as
 * text. Every TableSync transaction on a source or a target fixes them, so text is the same
 * whatever the server, the database (`ALTER DATABASE … SET`) or the role configured: a value the
 * source prints is exactly what the target reads back, and fingerprints and ordinals compared as
 * text agree on both sides.
 *
 * - Printing: timestamptz in UTC (`+00`), ISO dates, `postgres` intervals, hex bytea, shortest
 *   exact floats. A target with `IntervalStyle = sql_standard` would otherwise read `-1 days
 *   +02:00:00` differently, and one with `DateStyle = 'SQL, DMY'` would print samples the source
 *   never wrote.
 * - Money: `lc_monetary = C` (prints `$1,234.56`, reads it back; two fraction digits). money is a
 *   count of minor units printed and read through lc_monetary, so a source in `de_DE` would print
 *   `1.234,56 €`, which a target in `en_US` misreads or refuses, and verify would see drift in every
 *   row. Fixed on both sides, the stored value moves exactly (as a binary copy would move it), and
 *   each server shows it in its own format. Settable by any role; the C locale exists everywhere.
 * - Reading: `xmloption = content`, so the XML fragments a source may hold (`<a/><b/>`, plain
 *   text) are accepted by a target whose database defaults to `document`.
 */

/** How values print (all a trigger function needs: it only prints keys and ordinals). */
export const OUTPUT_SETTINGS: ReadonlyArray<readonly [string, string]> = [
  ['TimeZone', 'UTC'],
  ['DateStyle', 'ISO, MDY'],
  ['IntervalStyle', 'postgres'],
  ['bytea_output', 'hex'],
  ['extra_float_digits', '1'],
  ['lc_monetary', 'C'],
];

/** How values print and how text is read back: every source and target transaction. */
export const TEXT_SETTINGS: ReadonlyArray<readonly [string, string]> = [...OUTPUT_SETTINGS, ['xmloption', 'content']];

const setting = ([name, value]: readonly [string, string], scope = 'LOCAL ') => `SET ${scope}${name} = ${/^-?\d+$/.test(value) ? value : `'${value.replace(/'/g, "''")}'`}`;

/** `SET LOCAL …; SET LOCAL …`: one round trip, inside a transaction (BEGIN first). */
export const TEXT_SETTINGS_SQL = TEXT_SETTINGS.map((x) => setting(x)).join('; ');

/**
 * The same for a whole session, where one connection is ours for a while (a live watch's lock
 * connection): its single-statement transactions then need no BEGIN, SET LOCAL and COMMIT round
 * trips. core/state's withFlowLock resets the session (RESET ALL) before the pool gets it back.
 */
export const TEXT_SETTINGS_SESSION_SQL = TEXT_SETTINGS.map((x) => setting(x, '')).join('; ');

/**
 * The output settings as connection start-up options (`-c name=value …`), for a session whose
 * values we read without a transaction of ours to SET LOCAL in: the logical-replication
 * connection, whose walsender prints every streamed value with its own session's settings.
 */
export const OUTPUT_SETTINGS_OPTIONS = OUTPUT_SETTINGS.map(([name, value]) => `-c ${name}=${value.replace(/\\/g, '\\\\').replace(/ /g, '\\ ')}`).join(' ');

