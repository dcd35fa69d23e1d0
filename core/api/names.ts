/**
 * Names and lists that the engine computes and the UI shows, in one place (DESIGN §1 "every rule
 * lives once"). Node-free (no Buffer, no node:crypto) so the renderer imports exactly the code the
 * engine runs: the flow editor's "Default: …" channel is the channel `watch` creates.
 *
 * @example
 * captureNames('products_search', 'source_products').rowTrigger // 'products_search__source_products__tablesync_t'
 * vectorIndexName('products', { column: 'embedding' })          // 'products__vector__embedding'
 */

/** PostgreSQL truncates identifiers to NAMEDATALEN-1 = 63 bytes (UTF-8), not characters. */
export const MAX_IDENTIFIER_BYTES = 63;

const utf8 = new TextEncoder();

export function identifierByteLength(name: string): number {
  return utf8.encode(name).length;
}

/**
 * 32-bit FNV-1a of the UTF-8 bytes, as 8 hex digits: a short stable hash for fitted names (not a
 * security hash; it only has to make two long names that share a prefix different).
 */
export function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (const b of utf8.encode(s)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * Shorten `name` to at most `maxBytes` UTF-8 bytes without splitting a character. When it had to
 * shorten, it appends `_` and the short hash of the full name, so two long names that share a
 * prefix do not collide (PostgreSQL itself would silently cut both to the same 63 bytes).
 */
export function fitIdentifier(name: string, maxBytes = MAX_IDENTIFIER_BYTES): string {
  if (identifierByteLength(name) <= maxBytes) return name;
  const suffix = `_${shortHash(name)}`;
  const budget = maxBytes - suffix.length;
  let out = '';
  let bytes = 0;
  for (const ch of name) {
    const n = identifierByteLength(ch);
    if (bytes + n > budget) break;
    out += ch;
    bytes += n;
  }
  return out + suffix;
}

// ---------------------------------------------------------------- live capture (DESIGN §3 Live)

/**
 * Names of the capture objects of a flow. The function is `{channel}_n`, the row trigger
 * `{channel}_t`, and the TRUNCATE trigger `{channel}_r` ("rescan"): a trigger is either row-level
 * or statement-level, and TRUNCATE fires only statement-level triggers, so it needs its own.
 */
export interface CaptureNames {
  channel: string;
  /** `{channel}_n`: the plpgsql function both triggers call. */
  functionName: string;
  /** `{channel}_t`: AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW. */
  rowTrigger: string;
  /** `{channel}_r`: AFTER TRUNCATE FOR EACH STATEMENT (asks for a rescan). */
  truncateTrigger: string;
}

/** Room for the two-byte suffixes `_n`, `_t`, `_r` within 63 bytes. */
const CAPTURE_SUFFIX_BYTES = 2;

/** The channel as written by a person or defaulted, before fitting: `{flow}__{source table}__tablesync`. */
export function unfittedDefaultChannel(flowName: string, sourceTable: string): string {
  return `${flowName}__${sourceTable}__tablesync`;
}

/**
 * The channel a flow listens on: `channelName` when given, else `{flow}__{source table}__tablesync`,
 * fitted to 61 bytes (with a stable hash when shortened) so LISTEN, pg_notify and every derived
 * object name agree. Case is kept: the channel is always quoted.
 */
export function fitChannel(channel: string): string {
  return fitIdentifier(channel, MAX_IDENTIFIER_BYTES - CAPTURE_SUFFIX_BYTES);
}

/** The default channel of a flow reading `sourceTable`, exactly as watch creates it. */
export function defaultChannel(flowName: string, sourceTable: string): string {
  return fitChannel(unfittedDefaultChannel(flowName, sourceTable));
}

/** @example captureNames('f', 'items', 'audit').functionName // 'audit_n' */
export function captureNames(flowName: string, sourceTable: string, channelName?: string): CaptureNames {
  const channel = channelName !== undefined ? fitChannel(channelName) : defaultChannel(flowName, sourceTable);
  return {
    channel,
    functionName: `${channel}_n`,
    rowTrigger: `${channel}_t`,
    truncateTrigger: `${channel}_r`,
  };
}

// ---------------------------------------------------------------- target

/** A pgvector index: `{table}__vector__{name}`, name defaulting to the column, fitted to 63 bytes. */
export function vectorIndexName(table: string, spec: { name?: string | undefined; column: string }): string {
  return fitIdentifier(`${table}__vector__${spec.name ?? spec.column}`);
}

// ---------------------------------------------------------------- source

/**
 * Type OIDs an `ordinalColumn` may have (reference doc 000): smallint 21, integer 23, bigint 20,
 * timestamp 1114, timestamptz 1184. By OID, so a domain over integer is not taken for an integer.
 */
export const ORDINAL_TYPE_OIDS: ReadonlySet<number> = new Set([21, 23, 20, 1114, 1184]);

/** Whether the engine accepts this column as `ordinalColumn`: not a key column, and of an ordinal type. */
export function isOrdinalEligible(c: { typeOid: number; keyPosition: number | null }): boolean {
  return c.keyPosition === null && ORDINAL_TYPE_OIDS.has(c.typeOid);
}

// ---------------------------------------------------------------- connections

/** libpq's sslmode values, weakest first. */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];
