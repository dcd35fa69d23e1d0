/**
 * The SQL of the capture objects: the function `{channel}_n` and its two triggers. Pure builders, so
 * the same text is installed, fingerprinted (to notice an outdated definition) and offered to an
 * administrator when the connecting user may not create triggers.
 *
 * The payload is a hint, never the data: `{op, key, old_key?, ordinal?, ts, tx}` with every key value as
 * PostgreSQL text (so bigint and numeric keys survive JSON). `old_key` appears only when an update
 * changes the key, or its text (numeric 1.0 → 1.00: see captureSql's `keyText`). `ts` is
 * `clock_timestamp()` in epoch milliseconds at the time the trigger fires: the trigger cannot know
 * its transaction's commit time, and for the short transactions that live
 * capture is about, the row change and the commit are microseconds apart. `tx` is the source
 * transaction's id (pg_current_xact_id(), as text): PostgreSQL delivers a committed transaction's
 * notifications together and in commit order, so the set watcher applies each source transaction
 * in one target transaction without guessing its end from arrival gaps. A payload that would hit
 * PostgreSQL's 8000-byte NOTIFY limit becomes `{op: "rescan"}` instead of failing the user's write,
 * and so does a row whose key or ordinal column was renamed or dropped since the install (the
 * error caught, `{op: "rescan", reason}`): a schema change of the source table must never make the
 * applications' own writes to it fail (an exception block per row: about 0.25 µs, 3 % of an UPDATE's
 * time with the trigger, measured on PostgreSQL 15).
 *
 * Every object carries a marker in its COMMENT: `tablesync live capture [hash] {"flow":…,"schema":…,
 * "table":…,"channel":…}` on the function, the same without the hash on each trigger. It says that
 * TableSync made the object and which flow and source table own it; core/live/ownership.ts reads it
 * before anything is created, replaced or dropped, so an object that is not ours is never touched.
 *
 * A partitioned source gets the TRUNCATE trigger on the partitioned table AND on every partition:
 * row triggers are cloned onto partitions by PostgreSQL, statement triggers are not, and a
 * `TRUNCATE one_partition` fires only that partition's own statement triggers.
 */
import { createHash } from 'node:crypto';
import { qualifiedName, quoteIdent, quoteLiteral } from '../sql/ident';
import type { CaptureNames } from './channel';
import { OUTPUT_SETTINGS } from '../sql/text-settings';

/**
 * Session settings the function runs with, so key and ordinal text is the same whatever the writing
 * session set (a timestamptz key written under TimeZone 'Europe/Berlin' must read back as the text
 * the source's re-read produces, or the key would look gone). Must match core/source's
 * SOURCE_SETTINGS_SQL: both come from core/sql/text-settings.ts (a function only prints, so it needs
 * the output settings, not xmloption).
 */
export const CAPTURE_SETTINGS = OUTPUT_SETTINGS;

/**
 * Which of CAPTURE_SETTINGS a type's text output depends on. A function's SET clauses are paid on
 * every call (each setting is saved, set and restored per row: half the trigger's cost), so the
 * function carries only those its payload columns need: none for integer, text or uuid keys.
 * A type not listed here (a composite, a range, money, an extension's type) gets them all.
 */
const SETTINGS_BY_TYPE: Record<string, readonly string[]> = {
  timestamptz: ['TimeZone', 'DateStyle'], timestamp: ['DateStyle'], date: ['DateStyle'], time: ['DateStyle'], timetz: ['DateStyle'],
  interval: ['IntervalStyle'], bytea: ['bytea_output'], float4: ['extra_float_digits'], float8: ['extra_float_digits'],
  ...Object.fromEntries(['int2', 'int4', 'int8', 'numeric', 'text', 'varchar', 'bpchar', 'name', 'char', 'uuid', 'bool', 'oid', 'inet', 'cidr', 'macaddr', 'macaddr8', 'bit', 'varbit', 'citext'].map((t) => [t, []])),
};

/**
 * The settings a function must run with for payload columns of these types ([type name, typtype]
 * from the catalog; undefined when unknown): all of them unless every type is known.
 */
export function payloadSettings(types: ReadonlyArray<readonly [string, string] | undefined>): ReadonlyArray<readonly [string, string]> {
  const need = new Set<string>();
  for (const t of types) {
    if (!t) return CAPTURE_SETTINGS;
    if (t[1] === 'e') continue; // an enum prints its label
    const s = SETTINGS_BY_TYPE[t[0]];
    if (!s) return CAPTURE_SETTINGS;
    for (const x of s) need.add(x);
  }
  return CAPTURE_SETTINGS.filter(([k]) => need.has(k));
}

/** Bump when the generated function changes shape in a way the hash alone should not decide. 2: owner markers; 3: `tx`; 4: a renamed or dropped column never fails the write. */
export const CAPTURE_VERSION = 4;

/** pg_notify fails for payloads of 8000 bytes or more (BLCKSZ - NAMEDATALEN - 128). */
export const NOTIFY_PAYLOAD_LIMIT = 8000;

export interface CaptureTable {
  /** The flow that owns the capture objects (written into their markers). */
  flow: string;
  schema: string;
  table: string;
  /** Primary-key columns in key order. */
  keyColumns: string[];
  ordinalColumn?: string;
  /** The flow accepts that a transaction writing the table cannot be PREPAREd (notification.acceptPrepareFailures). */
  acceptPrepareFailures?: boolean;
}

export interface CaptureSql {
  /** Fingerprint of the definition; stored in the function's comment. */
  hash: string;
  /** Statements that (re)create function, both triggers, the partitions' TRUNCATE triggers and their markers; run in one transaction. */
  install: string[];
  /** Statements that remove both triggers and the function. */
  drop: string[];
  /** The install statements as one script an administrator can run. */
  script: string;
}

/** pg_trigger.tgtype bits: ROW 1, INSERT 4, DELETE 8, UPDATE 16, TRUNCATE 32 (AFTER = no BEFORE/INSTEAD bit). */
export const ROW_TRIGGER_TYPE = 1 | 4 | 8 | 16;
export const TRUNCATE_TRIGGER_TYPE = 32;

function keyObject(record: 'NEW' | 'OLD', columns: string[]): string {
  const args = columns.map((c) => `${quoteLiteral(c)}, ${record}.${quoteIdent(c)}::text`);
  return `json_build_object(${args.join(', ')})`;
}

function rowOf(record: 'NEW' | 'OLD', columns: string[], bytes: readonly string[] = [], text: readonly string[] = []): string {
  return `ROW(${columns.map((c) => `${record}.${quoteIdent(c)}${bytes.includes(c) ? ' COLLATE "C"' : text.includes(c) ? '::text' : ''}`).join(', ')})`;
}

/** A dollar-quote tag that does not occur in the body, so no identifier can end the function early. */
function dollarTag(body: string): string {
  for (let i = 0; ; i++) {
    const tag = i === 0 ? '$tablesync$' : `$tablesync${i}$`;
    if (!body.includes(tag)) return tag;
  }
}

/** Who owns a capture object, as its marker records it. */
export interface CaptureOwner {
  flow: string;
  schema: string;
  table: string;
  channel: string;
}

export interface Relation {
  schema: string;
  table: string;
}

/**
 * @param partitions every partition (at any depth) of a partitioned source table: each gets its own
 *   `{channel}_r` TRUNCATE trigger.
 * @param keyBytes key columns with a nondeterministic collation: an UPDATE changes the key when
 *   their text differs (compared in collation "C"), not only when they are unequal, so 'abc' →
 *   'ABC' under a case-insensitive collation reports the old key, which a target that tells the two
 *   apart (TableSync's own tables use the default collation) must remove.
 * @param keyText key columns of a type whose equal values may print differently (numeric 1.0 =
 *   1.00, interval, float8 -0, citext, arrays, ranges: core/target/text-identity.ts): compared by
 *   their text, so 1.0 → 1.00 reports the old key too, as pgoutput does (it compares bytes). A
 *   target that tells the two apart (a key type overridden to text) removes the old row; one that
 *   does not keeps it, written under the new text (the batch's guard). The other keys compare by
 *   equality, and their function's text is as before.
 */
export function captureSql(t: CaptureTable, names: CaptureNames, partitions: readonly Relation[] = [], settings: ReadonlyArray<readonly [string, string]> = CAPTURE_SETTINGS, keyBytes: readonly string[] = [], keyText: readonly string[] = []): CaptureSql {
  const table = qualifiedName(t.schema, t.table);
  const fn = qualifiedName(t.schema, names.functionName);
  const ord = (record: 'NEW' | 'OLD') => (t.ordinalColumn ? `, 'ordinal', ${record}.${quoteIdent(t.ordinalColumn)}::text` : '');
  const body = `
DECLARE
  ts numeric := round(extract(epoch FROM clock_timestamp()) * 1000, 3);
  tx text := pg_current_xact_id()::text;
  payload text;
BEGIN
  BEGIN
    IF TG_OP = 'TRUNCATE' THEN
      payload := json_build_object('op', 'truncate', 'ts', ts, 'tx', tx)::text;
    ELSIF TG_OP = 'DELETE' THEN
      payload := json_build_object('op', 'delete', 'key', ${keyObject('OLD', t.keyColumns)}${ord('OLD')}, 'ts', ts, 'tx', tx)::text;
    ELSIF TG_OP = 'UPDATE' AND ${rowOf('OLD', t.keyColumns, keyBytes, keyText)} IS DISTINCT FROM ${rowOf('NEW', t.keyColumns, keyBytes, keyText)} THEN
      payload := json_build_object('op', 'update', 'key', ${keyObject('NEW', t.keyColumns)}, 'old_key', ${keyObject('OLD', t.keyColumns)}${ord('NEW')}, 'ts', ts, 'tx', tx)::text;
    ELSE
      payload := json_build_object('op', lower(TG_OP), 'key', ${keyObject('NEW', t.keyColumns)}${ord('NEW')}, 'ts', ts, 'tx', tx)::text;
    END IF;
  EXCEPTION WHEN undefined_column THEN
    -- a key or ordinal column renamed or dropped since this was installed: never fail the write
    payload := json_build_object('op', 'rescan', 'reason', 'the capture trigger cannot read the source table: ' || SQLERRM, 'ts', ts, 'tx', tx)::text;
  END;
  IF octet_length(payload) >= ${NOTIFY_PAYLOAD_LIMIT} THEN
    payload := json_build_object('op', 'rescan', 'ts', ts, 'tx', tx)::text;
  END IF;
  PERFORM pg_notify(${quoteLiteral(names.channel)}, payload);
  RETURN NULL;
END
`;
  const tag = dollarTag(body);
  const sets = settings.map(([k, v]) => ` SET ${k} = ${quoteLiteral(v)}`).join('');
  const createFunction = `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql${sets} AS ${tag}${body}${tag}`;
  const rowTrigger = `CREATE TRIGGER ${quoteIdent(names.rowTrigger)} AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${fn}()`;
  const truncateTrigger = `CREATE TRIGGER ${quoteIdent(names.truncateTrigger)} AFTER TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`;
  const hash = createHash('sha256')
    .update(JSON.stringify([CAPTURE_VERSION, t.flow, createFunction, rowTrigger, truncateTrigger]))
    .digest('hex')
    .slice(0, 16);
  const owner: CaptureOwner = { flow: t.flow, schema: t.schema, table: t.table, channel: names.channel };
  const comment = `COMMENT ON FUNCTION ${fn}() IS ${quoteLiteral(functionComment(hash, owner))}`;
  const markTrigger = (trigger: string, on: string) => `COMMENT ON TRIGGER ${quoteIdent(trigger)} ON ${on} IS ${quoteLiteral(triggerComment(owner))}`;
  // A trigger fires by default only for changes of origin: not for a session in replica mode
  // (session_replication_role = replica: a logical subscription's apply worker writing the source
  // table, pg_restore --disable-triggers, a bulk fix run that way), whose changes would then reach
  // the target only at the next catch-up. Ours fire always. (On a partitioned table this reaches the
  // row trigger's clones on the partitions too.)
  const always = (trigger: string, on: string) => `ALTER TABLE ${on} ENABLE ALWAYS TRIGGER ${quoteIdent(trigger)}`;
  const [dropRow, dropTruncate, dropFunction] = captureDropSql(t, names);
  const install = [
    createFunction, comment,
    dropRow!, rowTrigger, markTrigger(names.rowTrigger, table), always(names.rowTrigger, table),
    dropTruncate!, truncateTrigger, markTrigger(names.truncateTrigger, table), always(names.truncateTrigger, table),
  ];
  for (const p of partitions) {
    const on = qualifiedName(p.schema, p.table);
    install.push(
      `DROP TRIGGER IF EXISTS ${quoteIdent(names.truncateTrigger)} ON ${on}`,
      `CREATE TRIGGER ${quoteIdent(names.truncateTrigger)} AFTER TRUNCATE ON ${on} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
      markTrigger(names.truncateTrigger, on),
      always(names.truncateTrigger, on),
    );
  }
  return {
    hash,
    install,
    drop: [dropRow!, dropTruncate!, dropFunction!],
    script: ['BEGIN;', ...install.map((s) => `${s};`), 'COMMIT;'].join('\n'),
  };
}

/** DROP statements for both triggers and the function; the key is not needed to remove them. */
export function captureDropSql(t: Pick<CaptureTable, 'schema' | 'table'>, names: CaptureNames): string[] {
  const table = qualifiedName(t.schema, t.table);
  return [
    `DROP TRIGGER IF EXISTS ${quoteIdent(names.rowTrigger)} ON ${table}`,
    `DROP TRIGGER IF EXISTS ${quoteIdent(names.truncateTrigger)} ON ${table}`,
    `DROP FUNCTION IF EXISTS ${qualifiedName(t.schema, names.functionName)}()`,
  ];
}

const MARKER_PREFIX = 'tablesync live capture';

/** The comment that marks a function as ours: definition hash and owner. */
export function functionComment(hash: string, owner: CaptureOwner): string {
  return `${MARKER_PREFIX} [${hash}] ${JSON.stringify(owner)}`;
}

/** The comment that marks a trigger as ours. */
export function triggerComment(owner: CaptureOwner): string {
  return `${MARKER_PREFIX} ${JSON.stringify(owner)}`;
}

/** What an object's comment says about who made it. */
export type CaptureMarker =
  /** No comment, or not ours: a person (or another tool) made this object. */
  | { kind: 'none' }
  /** Made by TableSync before owner markers (CAPTURE_VERSION 1): `… [hash]: notifies channel X`. */
  | { kind: 'legacy'; hash: string; channel: string }
  | { kind: 'owned'; hash?: string; owner: CaptureOwner };

export function parseMarker(comment: string | null | undefined): CaptureMarker {
  if (!comment?.startsWith(MARKER_PREFIX)) return { kind: 'none' };
  const legacy = /^tablesync live capture \[([0-9a-f]+)\]: notifies channel (.*)$/s.exec(comment);
  if (legacy) return { kind: 'legacy', hash: legacy[1]!, channel: legacy[2]! };
  const m = /^tablesync live capture (?:\[([0-9a-f]+)\] )?(\{.*\})$/s.exec(comment);
  if (!m) return { kind: 'none' };
  try {
    const o = JSON.parse(m[2]!) as Record<string, unknown>;
    if (['flow', 'schema', 'table', 'channel'].every((k) => typeof o[k] === 'string')) {
      const owner = { flow: o.flow as string, schema: o.schema as string, table: o.table as string, channel: o.channel as string };
      return m[1] ? { kind: 'owned', hash: m[1], owner } : { kind: 'owned', owner };
    }
  } catch { /* a comment that only looks like ours */ }
  return { kind: 'none' };
}

/** The definition hash recorded in a function comment, if it is one of ours. */
export function hashFromComment(comment: string | null | undefined): string | undefined {
  const m = parseMarker(comment);
  return m.kind === 'none' ? undefined : m.hash;
}
