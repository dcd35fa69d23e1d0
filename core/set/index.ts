/**
 * Sets of flows (DESIGN §2 "Set"): plan, apply and drop a whole set as one. Every member is a flow
 * (`{set}.{table}`, its own tracking, state and lock) run by core/target's own machinery; what the
 * set adds is that all members share ONE target connection and ONE transaction (all or nothing for
 * the whole set), that foreign keys among members are copied (./foreign-keys.ts), and that
 * members that left the set are noticed.
 *
 * @example
 * const ctx = await openSet(await loadSetFile('shop.set.json'), dataFolderResolver());
 * const plan = await planSet(ctx);
 * const result = await applySet(ctx, { allowDestructive: false, onProgress: (p) => console.log(p) });
 */
import type pg from 'pg';
import { createHash } from 'node:crypto';
import type { ApplyResult, PlanStep, RowCounts } from '../api/model';
import type { SetApplyProgress, SetApplyResult, SetMemberPlan, SetPlan, SetVerifyResult } from '../api/model.set';
import { TableSyncError, toTableSyncError } from '../errors';
import { destructiveRefusalDetail } from '../api/errors.destructive';
import type { Flow } from '../flow/schema';
import { memberFlowName, type SetSpec } from '../flow/schema.set';
import { flowsTableSql, readFlowState, stateSchemaExists } from '../state/store';
import { beginPhasedApply, type PhasedApply } from '../target/apply';
import { prepareDrop } from '../target/drop';
import { dropPartsFor } from '../app/drop-parts';
import { jobFromFlow } from '../target/flow-job';
import type { FlowContext, SyncJob } from '../target/job';
import { planOn } from '../target/plan';
import { verifyOn } from '../target/verify';
import { tuneSession, tuneTransaction } from '../target/rows';
import { expandSet, type ExpandedSet, type SetMember } from './expand';
import { desiredForeignKeys, existingForeignKeys, foreignKeySteps, dropForeignKeyStep, TABLE_CHANGING_STEPS } from './foreign-keys';
import type { SetContext } from './load';
import { lockFlows } from './locks';

export { expandSet, type ExpandedSet, type SetMember } from './expand';
export { loadSetFile, openSet, parseSet, type SetContext } from './load';

const zero = (): RowCounts => ({ insert: 0, update: 0, delete: 0, unchanged: 0, foreign: 0 });
const add = (a: RowCounts, b: RowCounts) => { a.insert += b.insert; a.update += b.update; a.delete += b.delete; a.unchanged += b.unchanged; a.foreign += b.foreign; };

/** A member as a flow context on the set's pools (and, when given, the set's one target connection). */
export function memberContext(ctx: SetContext, flow: Flow, client?: pg.PoolClient): FlowContext {
  return { flow, sourcePool: ctx.sourcePool, targetPool: ctx.targetPool, sourceUrl: ctx.sourceUrl, targetUrl: ctx.targetUrl, ...(client ? { targetClient: client } : {}) };
}

async function withClient<T>(ctx: SetContext, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await ctx.targetPool.connect();
  let broken = false;
  try {
    return await fn(client);
  } catch (e) {
    broken = true;
    throw e;
  } finally {
    client.release(broken ? true : undefined);
  }
}

/** Flows recorded in the target under this set's prefix that the set no longer has. */
async function departedMembers(client: pg.ClientBase, set: SetSpec, members: SetMember[]): Promise<string[]> {
  if (!(await stateSchemaExists(client))) return [];
  const prefix = `${set.set}.`;
  const { rows } = await client.query<{ flow: string }>(`SELECT flow FROM ${flowsTableSql} WHERE left(flow, length($1)) = $1 ORDER BY flow`, [prefix]);
  const current = new Set(members.map((m) => m.flow.name));
  return rows.map((r) => r.flow).filter((f) => !current.has(f));
}

/**
 * A flow standing for a member recorded in the target (one that left the set, or one the set cannot
 * expand any more): enough for its drop (state says what it created; the source names its capture).
 */
async function recordedMemberFlow(client: pg.ClientBase, set: SetSpec, name: string): Promise<Flow> {
  const state = await readFlowState(client, name);
  const live = state?.live as { schema?: string; table?: string } | null | undefined;
  const table = name.slice(set.set.length + 1);
  return {
    version: 1,
    name,
    source: { connection: set.source.connection, schema: live?.schema ?? set.source.schema, table: live?.table ?? table },
    target: { connection: set.target.connection, schema: state?.setup.target.schema ?? set.target.schema, table: state?.setup.target.table ?? table, managedBy: state?.setup.target.managedBy ?? 'system' },
  };
}

function departedTables(client: pg.ClientBase, set: SetSpec, names: string[]): Promise<string[]> {
  return Promise.all(names.map(async (n) => (await recordedMemberFlow(client, set, n)).target.table));
}

/** What applying the set would do now, member by member and set-wide; writes nothing anywhere. */
export async function planSet(ctx: SetContext): Promise<SetPlan> {
  const x = await expandSet(ctx.sourcePool, ctx.set);
  return withClient(ctx, (client) => planSetOn(ctx, x, client));
}

/** planSet on a given target connection. */
async function planSetOn(ctx: SetContext, x: ExpandedSet, client: pg.PoolClient): Promise<SetPlan> {
  const members: SetMemberPlan[] = [];
  const blockers: SetPlan['blockers'] = [];
  const warnings: string[] = [];
  const totals = zero();
  const changing = new Set<string>();
  for (const m of x.members) {
    try {
      const job = await jobFromFlow(memberContext(ctx, m.flow, client));
      const plan = await planOn(client, job);
      members.push({ table: m.table, flow: m.flow.name, applied: m.applied, plan });
      add(totals, plan.rows);
      for (const b of plan.blockers) blockers.push({ table: m.table, ...b });
      for (const w of plan.warnings) warnings.push(`${m.table}: ${w}`);
      if (plan.steps.some((s) => TABLE_CHANGING_STEPS.has(s.kind))) changing.add(m.flow.target.table);
    } catch (e) {
      const err = toTableSyncError(e, `table "${m.table}"`);
      members.push({ table: m.table, flow: m.flow.name, applied: m.applied, error: { code: err.code, message: err.message } });
      blockers.push({ table: m.table, code: err.code, message: err.message });
    }
  }
  const departed = await departedMembers(client, ctx.set, x.members);
  for (const t of await departedTables(client, ctx.set, departed)) changing.add(t);
  if (departed.length) warnings.push(`${departed.map((d) => `"${d}"`).join(', ')} left the set: apply keeps ${departed.length === 1 ? 'its target table' : 'their target tables'} unless destructive steps are allowed (then they are dropped like \`tablesync drop\`)`);
  const desired = desiredForeignKeys(x);
  const existing = await existingForeignKeys(client, ctx.set.set, ctx.set.target.schema);
  const fk = foreignKeySteps({ schema: ctx.set.target.schema, desired, existing, changing });
  warnings.push(...fk.warnings);
  for (const m of x.members) {
    if (m.flow.source.filter && desired.some((d) => !d.skipped && d.references === m.flow.target.table)) {
      warnings.push(`"${m.table}" has a filter and other members reference it: a row of theirs that points at a filtered-out row makes the apply fail at commit (foreign key violation)`);
    }
  }
  const steps = [...fk.before, ...fk.after];
  const allSteps = members.flatMap((m) => m.plan?.steps ?? []).concat(steps);
  const plan: Omit<SetPlan, 'fingerprint'> = {
    set: ctx.set.set,
    computedAt: new Date().toISOString(),
    source: { schema: ctx.set.source.schema },
    target: { schema: ctx.set.target.schema },
    members,
    refused: x.refused,
    departed,
    foreignKeys: desired.map(({ hash: _h, addSql: _s, ...f }) => f),
    steps,
    totals: { ...totals, members: members.length, steps: allSteps.length, destructiveSteps: allSteps.filter((s) => s.destructive).length },
    blockers,
    warnings,
  };
  return { ...plan, fingerprint: setPlanFingerprint(plan) };
}

/** A digest of a set plan (members' fingerprints and the set-wide steps), for "is this the plan I saw?". */
export function setPlanFingerprint(p: FreshSetPlan): string {
  return createHash('sha256').update(JSON.stringify([p.members.map((m) => [m.flow, m.plan?.fingerprint ?? m.error?.message]), p.steps.map((s) => s.sql), p.departed])).digest('hex');
}

/** The plan a user reviewed, as apply checks it: the set's fingerprint and each member's. */
export interface ExpectedSetPlan {
  fingerprint: string;
  /** table → that member's plan fingerprint ('' for a member whose plan could not be computed). */
  members: Record<string, string>;
}

/** What the staleness check reads of the set's plan as it is now: each member's fingerprint, rows and steps, and the set-wide steps. */
type FreshMember = Pick<SetMemberPlan, 'table' | 'flow' | 'error'> & { plan?: Pick<NonNullable<SetMemberPlan['plan']>, 'fingerprint' | 'rows' | 'steps'> };
export type FreshSetPlan = Pick<SetPlan, 'steps' | 'departed'> & { members: FreshMember[] };

function countsText(m: FreshMember): string {
  if (!m.plan) return `its plan cannot be computed now (${m.error?.message ?? 'unknown error'})`;
  const r = m.plan.rows;
  return `now ${r.insert} to insert, ${r.update} to update, ${r.delete} to delete, ${m.plan.steps.length} step(s)${m.plan.steps.some((s) => s.destructive) ? ` (destructive: ${m.plan.steps.filter((s) => s.destructive).map((s) => s.summary).join('; ')})` : ''}`;
}

/**
 * What changed since the reviewed plan, member by member, with the reason: the set's plan is
 * recomputed on the apply's locked connection and compared with the fingerprints the user saw.
 * `destructive` marks a change whose new plan deletes data (the apply then refuses, as a flow's does).
 */
export function staleMembers(expected: ExpectedSetPlan, fresh: FreshSetPlan, allowDestructive: boolean): Array<{ table?: string; reason: string; destructive: boolean }> {
  const out: Array<{ table?: string; reason: string; destructive: boolean }> = [];
  const destructiveNow = (m: FreshMember) => m.plan?.steps.some((s) => s.destructive) ?? false;
  for (const m of fresh.members) {
    const was = expected.members[m.table];
    if (was === undefined) out.push({ table: m.table, reason: `it was not a member when the plan was computed (the set now matches it); ${countsText(m)}`, destructive: destructiveNow(m) });
    else if (was !== (m.plan?.fingerprint ?? '')) out.push({ table: m.table, reason: `the source rows, the target table or the member's settings changed since the plan was computed; ${countsText(m)}`, destructive: destructiveNow(m) });
  }
  for (const t of Object.keys(expected.members)) {
    if (!fresh.members.some((m) => m.table === t)) out.push({ table: t, reason: 'it is no longer a member (gone from the source, no longer matching the set, or refused now)', destructive: false });
  }
  if (out.length === 0 && setPlanFingerprint(fresh) !== expected.fingerprint) {
    out.push({
      reason: `the set-wide steps changed since the plan was computed (foreign keys among members${fresh.departed.length ? `, or members that left the set: ${fresh.departed.join(', ')}` : ''})`,
      destructive: allowDestructive && fresh.departed.length > 0,
    });
  }
  return out;
}

/**
 * Compare every member's target with what it should hold (core/target/verify.ts, member by member
 * on the set's one target connection); writes nothing. A member that was never applied is reported
 * with its error, and makes the set unequal.
 */
export async function verifySet(ctx: SetContext, opts: { signal?: AbortSignal; listLimit?: number } = {}): Promise<SetVerifyResult> {
  const started = performance.now();
  const x = await expandSet(ctx.sourcePool, ctx.set);
  return withClient(ctx, async (client) => {
    const members: SetVerifyResult['members'] = [];
    for (const m of x.members) {
      try {
        const job = await jobFromFlow(memberContext(ctx, m.flow, client));
        members.push({ table: m.table, result: await verifyOn(client, job, opts) });
      } catch (e) {
        const err = toTableSyncError(e, `table "${m.table}"`);
        members.push({ table: m.table, error: { code: err.code, message: err.message } });
      }
    }
    return { set: ctx.set.set, equal: members.every((m) => m.result?.equal === true), members, refused: x.refused, durationMs: Math.round(performance.now() - started) };
  });
}

export interface ApplySetOptions {
  /**
   * The plan the user reviewed (the app's "apply this plan"). When the world changed since: a member
   * whose new plan has destructive steps makes the apply fail with PLAN_STALE, naming each changed
   * member and why (review again); otherwise the set is applied as recomputed and the result lists
   * the changed members in `replanned`. As flows.apply does with `expectedFingerprint`.
   */
  expectedPlan?: ExpectedSetPlan;
  allowDestructive?: boolean;
  /** Also rewrite the rows verify finds drifted, member by member (apply --repair). */
  repair?: boolean;
  /** managedBy "user" members: take over the rows you wrote whose key the source has (apply --take-over). */
  takeOver?: boolean;
  /** Catch-up of a live set: refuse anything destructive, keep departed members. */
  safeOnly?: boolean;
  onProgress?: (p: SetApplyProgress) => void;
  signal?: AbortSignal;
  /** Wait for member locks instead of failing with LOCKED. */
  waitForLock?: boolean;
  /** Already expanded (the watcher expands once per connection cycle). */
  expanded?: ExpandedSet;
  /** Run on this connection (it holds the members' locks already); otherwise one is checked out and locked. */
  client?: pg.PoolClient;
  /** Runs first in the set's transaction (its text settings set): the live watcher's rescan applies its batch's keys here (see ApplyOptions.before). */
  before?: (client: pg.ClientBase) => Promise<void>;
}

/**
 * Converge the target to the whole set in ONE transaction: every member's DDL, rows and state, the
 * foreign keys among members, and (when destructive steps are allowed) the removal of members that
 * left the set. Any failure, a cancel or a crash before COMMIT leaves the target exactly as it was.
 */
export async function applySet(ctx: SetContext, opts: ApplySetOptions = {}): Promise<SetApplyResult> {
  const started = performance.now();
  const x = opts.expanded ?? (await expandSet(ctx.sourcePool, ctx.set));
  const setName = ctx.set.set;
  const n = x.members.length;
  const progress = (p: Omit<SetApplyProgress, 'set' | 'members'>) => opts.onProgress?.({ set: setName, members: n, ...p });
  const cancelled = () => new TableSyncError('CANCELLED', `apply of set "${setName}" was cancelled; the target is unchanged`);
  const memberError = (table: string, e: unknown) => {
    const err = toTableSyncError(e);
    return new TableSyncError(err.code, `set "${setName}", table "${table}": ${err.message}`, { ...err.detail, table }, { cause: e });
  };
  let staleRefusal: TableSyncError | undefined;
  const run = async (client: pg.PoolClient): Promise<SetApplyResult> => {
    const departed = await departedMembers(client, ctx.set, x.members);
    const dropDeparted = Boolean(opts.allowDestructive) && !opts.safeOnly;
    const departedFlows = await Promise.all(departed.map((d) => recordedMemberFlow(client, ctx.set, d)));
    const drops = dropDeparted ? await Promise.all(departedFlows.map((f) => prepareDrop(client, memberContext(ctx, f, client), dropPartsFor(f)))) : [];
    const jobs: SyncJob[] = [];
    for (const m of x.members) {
      try {
        jobs.push(await jobFromFlow(memberContext(ctx, m.flow, client)));
      } catch (e) {
        const err = toTableSyncError(e);
        throw new TableSyncError(err.code, `set "${setName}", table "${m.table}": ${err.message}`, { ...err.detail, table: m.table, target: 'unchanged (nothing was written)' }, { cause: e });
      }
    }
    await tuneSession(client);
    await client.query('BEGIN');
    try {
      await tuneTransaction(client);
      if (opts.before) await opts.before(client);
      const phases: PhasedApply[] = [];
      for (const [i, job] of jobs.entries()) {
        const m = x.members[i]!;
        progress({ table: m.table, memberIndex: i, phase: 'members' });
        try {
          phases.push(await beginPhasedApply(client, job, {
            allowDestructive: Boolean(opts.allowDestructive), safeOnly: Boolean(opts.safeOnly), repair: Boolean(opts.repair), takeOver: Boolean(opts.takeOver),
            // The reviewed plan is checked member by member from the apply's own scans (below), not planned again.
            ...(opts.expectedPlan ? { checkPlan: true } : {}),
            ...(opts.signal ? { signal: opts.signal } : {}),
            onProgress: (p) => progress({ table: m.table, memberIndex: i, phase: 'members', member: p }),
          }));
        } catch (e) {
          throw memberError(m.table, e);
        }
      }
      const changing = new Set<string>(departedFlows.map((f) => f.target.table));
      phases.forEach((p, i) => { if ([...p.prepared.preSteps, ...p.prepared.postSteps].some((s) => TABLE_CHANGING_STEPS.has(s.kind))) changing.add(x.members[i]!.flow.target.table); });
      const existing = await existingForeignKeys(client, setName, ctx.set.target.schema);
      const fk = foreignKeySteps({ schema: ctx.set.target.schema, desired: desiredForeignKeys(x), existing, changing });
      progress({ memberIndex: 0, phase: 'foreign-keys' });
      for (const s of fk.before) for (const sql of s.sql) await client.query(sql);
      const memberStep = async (i: number, what: string, fn: () => Promise<unknown>) => {
        if (opts.signal?.aborted) throw cancelled();
        try {
          await fn();
        } catch (e) {
          const err = toTableSyncError(e);
          throw new TableSyncError(err.code, `set "${setName}", table "${x.members[i]!.table}" (${what}): ${err.message}`, { ...err.detail, table: x.members[i]!.table }, { cause: e });
        }
      };
      for (const [i, p] of phases.entries()) await memberStep(i, 'table setup', () => p.ddl());
      for (const [i, p] of phases.entries()) {
        progress({ table: x.members[i]!.table, memberIndex: i, phase: 'members' });
        await memberStep(i, 'rows', () => p.rows());
      }
      // The plan the user reviewed, against each member's fingerprint as this apply found it (all
      // of it still rolled back on a refusal). A stale plan is said before a destructive refusal.
      let replanned: SetApplyResult['replanned'];
      if (opts.expectedPlan) {
        const fresh: FreshSetPlan = {
          members: phases.map((p, i) => ({ table: x.members[i]!.table, flow: x.members[i]!.flow.name, plan: { ...p.planned!, steps: [...p.prepared.preSteps, ...p.prepared.postSteps] } })),
          steps: [...fk.before, ...fk.after],
          departed,
        };
        const stale = staleMembers(opts.expectedPlan, fresh, Boolean(opts.allowDestructive));
        if (stale.some((s) => s.destructive)) {
          throw staleRefusal = new TableSyncError('PLAN_STALE', `the plan of set "${setName}" is out of date and the new plan has destructive steps: ${stale.map((s) => `${s.table ? `"${s.table}"` : 'set-wide'}: ${s.reason}`).join('; ')}; review the plan again`, { stale: stale.map(({ table, reason }) => ({ ...(table ? { table } : {}), reason })), target: 'unchanged (nothing was written)' });
        }
        const refused = phases.findIndex((p) => p.refusal);
        if (refused >= 0) throw memberError(x.members[refused]!.table, phases[refused]!.refusal!);
        replanned = stale.map(({ table, reason }) => ({ ...(table ? { table } : {}), reason }));
      }
      // Kept foreign keys have checked the changed rows as they moved (deferred): settle them now,
      // because DDL below (indexes, new constraints, drops) refuses a table with pending checks.
      if (existing.ours.length) await client.query('SET CONSTRAINTS ALL IMMEDIATE');
      const results: (ApplyResult & { table: string })[] = [];
      for (const [i, p] of phases.entries()) {
        let r: ApplyResult | undefined;
        await memberStep(i, 'indexes, attachments and state', async () => { r = await p.finish(); });
        results.push({ ...r!, table: x.members[i]!.table });
      }
      for (const d of drops) await d.runTarget(client);
      for (const s of fk.after) {
        if (opts.signal?.aborted) throw cancelled();
        try {
          for (const sql of s.sql) await client.query(sql);
        } catch (e) {
          throw toTableSyncError(e, `set "${setName}": ${s.summary}`);
        }
      }
      if (opts.signal?.aborted) throw cancelled();
      // The source side of departed members' drops (their capture triggers) runs last, just before
      // the COMMIT, as for a flow's drop: a failure above leaves their capture in place.
      for (const d of drops) await d.runHooks();
      progress({ memberIndex: n, phase: 'committing' });
      try {
        await client.query('COMMIT');
      } catch (e) {
        throw toTableSyncError(e, `set "${setName}": commit (deferred foreign-key checks run here)`);
      }
      const totals = zero();
      for (const r of results) add(totals, r.rows);
      progress({ memberIndex: n, phase: 'done' });
      return {
        set: setName,
        members: results,
        refused: x.refused,
        foreignKeysAdded: fk.after.length,
        foreignKeysDropped: fk.before.length,
        departedDropped: dropDeparted ? departed : [],
        departedKept: dropDeparted ? [] : departed,
        totals,
        durationMs: Math.round(performance.now() - started),
        ...(replanned?.length ? { replanned } : {}),
      };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      if (e === staleRefusal) throw e; // it says what the target is: nothing was written
      const err = toTableSyncError(e, `apply of set "${setName}"`);
      const target = 'unchanged (the set\'s one transaction was rolled back)';
      if (err.code === 'CANCELLED') {
        // however it stopped (our signal between steps, or the server cancelling a running statement), say it the same way
        const at = typeof err.detail?.['table'] === 'string' ? ` while at table "${err.detail['table']}"` : '';
        throw new TableSyncError('CANCELLED', `apply of set "${setName}" was cancelled${at}; the target is unchanged`, { ...err.detail, target }, { cause: e });
      }
      throw new TableSyncError(err.code, err.message, { ...err.detail, target }, { cause: e });
    }
  };
  if (opts.client) return run(opts.client);
  return withClient(ctx, async (client) => {
    progress({ memberIndex: 0, phase: 'locking' });
    const names = x.members.map((m) => m.flow.name);
    const release = await lockFlows(client, names, { wait: Boolean(opts.waitForLock) });
    try {
      // Departed members are written too (dropped): lock them after we know them.
      const departed = await departedMembers(client, ctx.set, x.members);
      const releaseDeparted = departed.length ? await lockFlows(client, departed) : async () => {};
      try {
        return await run(client);
      } finally {
        await releaseDeparted();
      }
    } finally {
      await release();
    }
  });
}

/**
 * Remove what the set created, or only some members (`tables`): their foreign keys, then each
 * member as `tablesync drop` would (the target side in ONE transaction; the source capture removed
 * just before it commits, so a refused drop leaves the source as it was).
 */
export async function dropSet(ctx: SetContext, opts: { tables?: string[]; dryRun?: boolean; allowDestructive?: boolean } = {}): Promise<{ steps: PlanStep[]; members: string[] }> {
  const setName = ctx.set.set;
  let expanded: SetMember[] = [];
  try {
    expanded = (await expandSet(ctx.sourcePool, ctx.set)).members;
  } catch {
    // the source may be gone or changed: what the target recorded is enough to drop
  }
  return withClient(ctx, async (client) => {
    const recorded = (await stateSchemaExists(client))
      ? (await client.query<{ flow: string }>(`SELECT flow FROM ${flowsTableSql} WHERE left(flow, length($1)) = $1 ORDER BY flow`, [`${setName}.`])).rows.map((r) => r.flow)
      : [];
    const flows = new Map<string, Flow>();
    for (const m of expanded) flows.set(m.flow.name, m.flow);
    for (const r of recorded) if (!flows.has(r)) flows.set(r, await recordedMemberFlow(client, ctx.set, r));
    let names = [...flows.keys()].sort();
    if (opts.tables) {
      const wanted = opts.tables.map((t) => memberFlowName(setName, t));
      const unknown = wanted.filter((w) => !flows.has(w));
      if (unknown.length) throw new TableSyncError('NOT_FOUND', `set "${setName}" has no member ${unknown.map((u) => `"${u.slice(setName.length + 1)}"`).join(', ')} (members: ${names.map((m) => m.slice(setName.length + 1)).join(', ') || 'none'})`);
      names = wanted;
    }
    const release = opts.dryRun ? async () => {} : await lockFlows(client, names);
    try {
      const tables = new Set(names.map((nm) => flows.get(nm)!.target.table));
      const existing = await existingForeignKeys(client, setName, ctx.set.target.schema);
      // Constraints from or to a dropped table go with it (a kept member must not point at nothing).
      const { rows: refs } = await client.query<{ name: string; table: string; references: string }>(
        `SELECT con.conname AS name, c.relname AS "table", r.relname AS "references" FROM pg_constraint con
           JOIN pg_class c ON c.oid = con.conrelid JOIN pg_class r ON r.oid = con.confrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE con.contype = 'f' AND n.nspname = $1`, [ctx.set.target.schema]);
      const fkDrops = existing.ours
        .filter((e) => { const ref = refs.find((r) => r.name === e.name && r.table === e.table); return tables.has(e.table) || (ref !== undefined && tables.has(ref.references)); })
        .map((e) => dropForeignKeyStep(ctx.set.target.schema, e, 'its table is dropped'));
      const prepared = [];
      for (const nm of names) prepared.push(await prepareDrop(client, memberContext(ctx, flows.get(nm)!, client), dropPartsFor(flows.get(nm)!)));
      const steps = [...fkDrops, ...prepared.flatMap((p) => p.steps)];
      if (opts.dryRun) return { steps, members: names };
      const destructive = prepared.flatMap((p) => p.destructive);
      if (destructive.length && !opts.allowDestructive) {
        throw new TableSyncError('DESTRUCTIVE_NOT_ALLOWED', `dropping ${opts.tables ? `${names.join(', ')} of ` : ''}set "${setName}" would delete data, which runs only when allowed: ${destructive.map((s) => s.summary).join('; ')}; target: unchanged`, destructiveRefusalDetail('drop', `set "${setName}"`, destructive));
      }
      // The target's part runs first and commits last (as a flow's drop): when it fails (an object of
      // someone else's depends on a member's table) nothing has been dropped anywhere, the source's
      // capture triggers included; they are removed just before the target commits.
      await client.query('BEGIN');
      try {
        for (const s of fkDrops) for (const sql of s.sql) await client.query(sql);
        for (const p of prepared) if (p.state) await p.runTarget(client);
        for (const p of prepared) await p.runHooks();
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw toTableSyncError(e, `drop of set "${setName}" failed; the target is unchanged`);
      }
      return { steps, members: names };
    } finally {
      await release();
    }
  });
}
