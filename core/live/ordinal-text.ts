/**
 * Comparing two ordinal texts as the watch sees them (a capture payload's ordinal against its
 * catch-up's window bound), without turning them into JS numbers or Dates: both are printed in the
 * output settings (core/sql/text-settings.ts: UTC, ISO), integers as digits.
 */

const ISO_TIMESTAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?(\+00)?$/;

/**
 * `a < b` for two ordinal texts of `type` in the output settings (UTC, ISO; integers as digits);
 * undefined when they cannot be compared as text (infinity, BC dates, another type).
 */
export function ordinalBelow(type: string, a: string, b: string): boolean | undefined {
  if (/^(smallint|integer|bigint)$/i.test(type)) return /^-?\d+$/.test(a) && /^-?\d+$/.test(b) ? BigInt(a) < BigInt(b) : undefined;
  // ISO text of years 1000–9999 orders as the values do ('…:00+00' < '…:00.5+00', '…:00' < '…:00.5')
  if (/^timestamp/i.test(type)) return ISO_TIMESTAMP.test(a) && ISO_TIMESTAMP.test(b) && a[0] !== '0' && b[0] !== '0' ? a < b : undefined;
  return undefined;
}
