/**
 * What the engine says about a set (DESIGN §2 "Set"): the expansion (members, refused tables with
 * reasons), the plan of the whole set, apply progress and results. Part of the contract: zod only.
 */
import { z } from 'zod';
import { applyProgress, applyResult, plan, planStep, rowCounts, verifyResult } from './model';

export const refusedTable = z.object({
  table: z.string(),
  /** What kind of relation it is (`view`, `table`, `partitioned table`…), when it exists. */
  kind: z.string().optional(),
  reason: z.string(),
});
export type RefusedTable = z.infer<typeof refusedTable>;

/** A foreign key among members, as the target gets it (target names), or why it does not. */
export const setForeignKey = z.object({
  name: z.string(),
  table: z.string(),
  columns: z.array(z.string()),
  references: z.string(),
  referencedColumns: z.array(z.string()),
  /** Why it is not copied (a column not synced, a user-managed member…); absent when it is. */
  skipped: z.string().optional(),
});
export type SetForeignKey = z.infer<typeof setForeignKey>;

export const setMemberPlan = z.object({
  table: z.string(),
  flow: z.string(),
  /** What the set's defaults did for this table (`ordinalColumn "last_update"`, `column "rating": mpaa_rating → text`). */
  applied: z.array(z.string()),
  /** The member's own plan; absent when it could not be computed (see `error`). */
  plan: plan.optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type SetMemberPlan = z.infer<typeof setMemberPlan>;

export const setPlan = z.object({
  set: z.string(),
  computedAt: z.string(),
  source: z.object({ schema: z.string() }),
  target: z.object({ schema: z.string() }),
  members: z.array(setMemberPlan),
  refused: z.array(refusedTable),
  /** Members recorded in the target that the set no longer has (their tables are dropped only when allowed). */
  departed: z.array(z.string()),
  foreignKeys: z.array(setForeignKey),
  /** Set-wide steps (foreign keys dropped before and added after the members' own steps). */
  steps: z.array(planStep),
  totals: rowCounts.extend({ members: z.number().int(), steps: z.number().int(), destructiveSteps: z.number().int() }),
  blockers: z.array(z.object({ table: z.string().optional(), code: z.string(), message: z.string() })),
  warnings: z.array(z.string()),
  /** Digest of the members' fingerprints and the set-wide steps: with them, what sets.apply's `expectedPlan` checks. */
  fingerprint: z.string(),
});
export type SetPlan = z.infer<typeof setPlan>;

export const setApplyProgress = z.object({
  set: z.string(),
  /** The member at work (absent for set-wide phases: locking, foreign keys, committing). */
  table: z.string().optional(),
  /** 0-based index of that member, and how many there are: overall progress. */
  memberIndex: z.number().int(),
  members: z.number().int(),
  /** The member's own progress, when a member is at work. */
  member: applyProgress.optional(),
  phase: z.enum(['locking', 'members', 'foreign-keys', 'committing', 'done']),
});
export type SetApplyProgress = z.infer<typeof setApplyProgress>;

/** A member (or the set-wide steps, without `table`) whose plan changed since the reviewed one, and why. */
export const staleSetMember = z.object({ table: z.string().optional(), reason: z.string() });
export type StaleSetMember = z.infer<typeof staleSetMember>;

export const setApplyResult = z.object({
  set: z.string(),
  members: z.array(applyResult.extend({ table: z.string() })),
  refused: z.array(refusedTable),
  foreignKeysAdded: z.number().int(),
  foreignKeysDropped: z.number().int(),
  departedDropped: z.array(z.string()),
  departedKept: z.array(z.string()),
  /** With `expectedPlan`: what had changed since that plan (applied as recomputed: nothing destructive in it). */
  replanned: z.array(staleSetMember).optional(),
  totals: rowCounts,
  durationMs: z.number(),
});
export type SetApplyResult = z.infer<typeof setApplyResult>;

export const setVerifyResult = z.object({
  set: z.string(),
  /** Every member holds exactly what it should. */
  equal: z.boolean(),
  members: z.array(z.object({ table: z.string(), result: verifyResult.optional(), error: z.object({ code: z.string(), message: z.string() }).optional() })),
  refused: z.array(refusedTable),
  durationMs: z.number(),
});
export type SetVerifyResult = z.infer<typeof setVerifyResult>;
