/**
 * Which types print every value one way: equal values (by the type's own equality and hash) have
 * identical text. The one rule of three places that depend on it:
 * - verify hashes a column typed only when its hash is exactly its text identity (else its text);
 * - a KEY column whose equal values can print differently (numeric 1.0 = 1.00, interval '2 days' =
 *   '48 hours', float8 0 = -0, a nondeterministic collation's 'A' = 'a') can be updated in the
 *   source to an equal value of another text: the target's primary key sees the same key, so the
 *   live upserts, the apply's merge and the tracking must also set the key column, and the diff
 *   must compare its text (`looseKeys`). Keys of the other types pay nothing for it.
 * - the "nothing changed?" summaries hash such key columns by their text (see summary.ts).
 *
 * Types are as format_type spells them (the canonical names prepare resolves). Anything not listed
 * (numeric, real, double precision, interval, money, json(b), citext, enums, domains, arrays,
 * composites, ranges, extension types, bpchar whose trailing blanks compare equal) is treated as
 * "may print differently": a rarer key type costs a little more, never a silent drift.
 */
import type { TargetColumn } from './target-columns';

const TEXT_IS_IDENTITY = /^(boolean|bytea|"char"|bigint|smallint|integer|oid|text|uuid|date|timestamp(\(\d\))? with(out)? time zone|character varying(\(\d+\))?)$/;
const TEXT_LIKE = /^(text|character varying(\(\d+\))?)$/;

/** Equal values of `type` always have the same text (collation aside: see `equalMeansSameText`). */
export function textIsIdentity(type: string): boolean {
  return TEXT_IS_IDENTITY.test(type);
}

/** text or varchar: compared by collation, so only a deterministic one keeps text identity. */
export function isTextLike(type: string): boolean {
  return TEXT_LIKE.test(type);
}

/** Equal values of a column of `type` (with a nondeterministic collation or not) always print alike. */
export function equalMeansSameText(type: string, nondeterministic = false): boolean {
  return textIsIdentity(type) && !(nondeterministic && isTextLike(type));
}

/**
 * The target's key columns whose equal values may print differently (key order): the statements
 * that write or compare keys also set / compare these columns' text. Empty for the usual keys
 * (integers, uuid, text, dates…), whose statements are then exactly as without this rule.
 */
export function looseKeys(p: { keyColumns: TargetColumn[] }): TargetColumn[] {
  return p.keyColumns.filter((k) => !equalMeansSameText(k.type, k.nondeterministic === true));
}
