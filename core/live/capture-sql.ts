/**
 * The SQL of the capture objects: the function `{channel}_n` and its two triggers. Pure builders, so
 * the same text is installed, fingerprinted (to notice an outdated definition) and offered to an
 * administrator when the connecting user may not create triggers.
 *
 * The payload is a hint, never the data: `{op, key, old_key?, ordinal?, ts}` with every key value as
 * PostgreSQL text (so bigint and numeric keys survive JSON). `old_key` appears only when an update
 * changes the key. `ts` is `clock_timestamp()` in epoch milliseconds at the time the trigger fires:
 * the trigger cannot know its transaction's commit time, and for the short transactions that live
 * capture is about, the row change and the commit are microseconds apart. A payload that would hit
 * PostgreSQL's 8000-byte NOTIFY limit becomes `{op: "rescan"}` instead of failing the user's write.
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

/** Bump when the generated function changes shape in a way the hash alone should not decide. */
export const CAPTURE_VERSION = 1;

/** pg_notify fails for payloads of 8000 bytes or more (BLCKSZ - NAMEDATALEN - 128). */
export const NOTIFY_PAYLOAD_LIMIT = 8000;

export interface CaptureTable {
  schema: string;
  table: string;
  /** Primary-key columns in key order. */
  keyColumns: string[];
  ordinalColumn?: string;
}

export interface CaptureSql {
  /** Fingerprint of the definition; stored in the function's comment. */
  hash: string;
  /** Statements that (re)create function, comment and both triggers; run in one transaction. */
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

function rowOf(record: 'NEW' | 'OLD', columns: string[]): string {
  return `ROW(${columns.map((c) => `${record}.${quoteIdent(c)}`).join(', ')})`;
}

/** A dollar-quote tag that does not occur in the body, so no identifier can end the function early. */
function dollarTag(body: string): string {
  for (let i = 0; ; i++) {
    const tag = i === 0 ? '$tablesync$' : `$tablesync${i}$`;
    if (!body.includes(tag)) return tag;
  }
}

export function captureSql(t: CaptureTable, names: CaptureNames): CaptureSql {
  const table = qualifiedName(t.schema, t.table);
  const fn = qualifiedName(t.schema, names.functionName);
  const ord = (record: 'NEW' | 'OLD') => (t.ordinalColumn ? `, 'ordinal', ${record}.${quoteIdent(t.ordinalColumn)}::text` : '');
  const body = `
DECLARE
  ts numeric := round(extract(epoch FROM clock_timestamp()) * 1000, 3);
  payload text;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    payload := json_build_object('op', 'truncate', 'ts', ts)::text;
  ELSIF TG_OP = 'DELETE' THEN
    payload := json_build_object('op', 'delete', 'key', ${keyObject('OLD', t.keyColumns)}${ord('OLD')}, 'ts', ts)::text;
  ELSIF TG_OP = 'UPDATE' AND ${rowOf('OLD', t.keyColumns)} IS DISTINCT FROM ${rowOf('NEW', t.keyColumns)} THEN
    payload := json_build_object('op', 'update', 'key', ${keyObject('NEW', t.keyColumns)}, 'old_key', ${keyObject('OLD', t.keyColumns)}${ord('NEW')}, 'ts', ts)::text;
  ELSE
    payload := json_build_object('op', lower(TG_OP), 'key', ${keyObject('NEW', t.keyColumns)}${ord('NEW')}, 'ts', ts)::text;
  END IF;
  IF octet_length(payload) >= ${NOTIFY_PAYLOAD_LIMIT} THEN
    payload := json_build_object('op', 'rescan', 'ts', ts)::text;
  END IF;
  PERFORM pg_notify(${quoteLiteral(names.channel)}, payload);
  RETURN NULL;
END
`;
  const tag = dollarTag(body);
  const settings = CAPTURE_SETTINGS.map(([k, v]) => `SET ${k} = ${quoteLiteral(v)}`).join(' ');
  const createFunction = `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql ${settings} AS ${tag}${body}${tag}`;
  const rowTrigger = `CREATE TRIGGER ${quoteIdent(names.rowTrigger)} AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${fn}()`;
  const truncateTrigger = `CREATE TRIGGER ${quoteIdent(names.truncateTrigger)} AFTER TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`;
  const hash = createHash('sha256')
    .update(JSON.stringify([CAPTURE_VERSION, createFunction, rowTrigger, truncateTrigger]))
    .digest('hex')
    .slice(0, 16);
  const comment = `COMMENT ON FUNCTION ${fn}() IS ${quoteLiteral(functionComment(hash, names.channel))}`;
  const [dropRow, dropTruncate, dropFunction] = captureDropSql(t, names);
  const install = [createFunction, comment, dropRow!, rowTrigger, dropTruncate!, truncateTrigger];
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

/** The comment that marks a function as ours and records which definition it has. */
export function functionComment(hash: string, channel: string): string {
  return `tablesync live capture [${hash}]: notifies channel ${channel}`;
}

/** The definition hash recorded in a function comment, if it is one of ours. */
export function hashFromComment(comment: string | null | undefined): string | undefined {
  return comment?.match(/^tablesync live capture \[([0-9a-f]+)\]/)?.[1];
}
