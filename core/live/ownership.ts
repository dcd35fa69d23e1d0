/**
 * Whose are the capture objects? Pure judgement over what capture.ts read from the catalog, so the
 * rules can be read (and unit-tested) in one place:
 *
 * - A function `{channel}_n` is ours when its marker names this flow. A marker of another flow, or
 *   no marker at all (the user's own `audit_n()`), refuses the watch: replacing it would rewrite
 *   someone else's trigger function and break their writes.
 * - A function from TableSync before owner markers (legacy) is adopted only when every trigger that
 *   calls it sits on this flow's table (tree); otherwise another flow shares it, refuse.
 * - A trigger `{channel}_t` / `{channel}_r` on the table (or a partition) is ours when its marker
 *   names this flow, or, unmarked, when it calls our function (a legacy installation). Anything
 *   else of that name is the user's: refuse.
 * - Any other trigger calling our function: ours on another table (the flow moved) is retired before
 *   the function is replaced; anything else refuses, for the same reason as above.
 * - Another function whose marker claims the same channel for another flow refuses: two flows on one
 *   channel would hear each other's notifications.
 *
 * Drop uses the same rules and removes only what is ours, triggers before the function, and the
 * function only when no trigger that is not ours still calls it.
 */
import { qualifiedName, quoteIdent } from '../sql/ident';
import type { CaptureNames } from './channel';
import { parseMarker, ROW_TRIGGER_TYPE, TRUNCATE_TRIGGER_TYPE, type CaptureMarker, type CaptureOwner, type Relation } from './capture-sql';

/** A trigger as the catalog query reports it (clones of a partitioned table's triggers are left out). */
export interface TriggerRow {
  schema: string;
  table: string;
  name: string;
  /** regprocedure text of the function it calls. */
  calls: string;
  /** It calls the function `{schema}.{channel}_n()` of this flow's names. */
  callsOurFunction: boolean;
  type: number;
  /** It fires always (ENABLE ALWAYS TRIGGER: also for sessions in replica mode); not when disabled or firing for origin only. */
  always: boolean;
  comment: string | null;
}

export interface CaptureCatalog {
  /** The source table; undefined when it does not exist (any more). */
  table?: { oid: string; relkind: string; owner: string; isOwner: boolean };
  currentUser: string;
  /** The table and each of its partitions (at any depth), the table first. */
  relations: Array<Relation & { oid: string; root: boolean }>;
  fn?: { oid: string; signature: string; comment: string | null };
  triggers: TriggerRow[];
  /** Clones of our row trigger on partitions that do not fire always. */
  clonesNotAlways?: number;
  /** The server's max_prepared_transactions (> 0: two-phase commit is possible). */
  maxPreparedTransactions?: number;
  /** Other functions in the database that carry a capture marker. */
  otherCaptureFunctions: Array<{ signature: string; comment: string | null }>;
  /** Key and ordinal columns → [type name, typtype] (a domain's base type, an array's element type). */
  payloadTypes?: Record<string, [string, string]>;
  /** Key columns with a nondeterministic collation (see captureSql's `keyBytes`). */
  nondeterministicKeys?: string[];
  /** Key columns → their type as format_type spells it (see captureSql's `keyText`). */
  keyTypes?: Record<string, string>;
}

const rel = (r: Relation) => qualifiedName(r.schema, r.table);
const sameRel = (a: Relation, b: Relation) => a.schema === b.schema && a.table === b.table;
const describeOwner = (o: CaptureOwner) => `TableSync flow "${o.flow}" (capturing ${rel(o)})`;

function markerOwner(m: CaptureMarker): CaptureOwner | undefined {
  return m.kind === 'owned' ? m.owner : undefined;
}

export interface CaptureJudgement {
  /** Reasons to refuse, each naming the object and its owner. Empty when we may proceed. */
  conflicts: string[];
  /** Triggers of this flow on tables it no longer captures, to drop before the function is replaced. */
  retire: TriggerRow[];
  /** Everything is installed, current (hash), marked and enabled. */
  current: boolean;
}

/**
 * Judge the catalog before installing capture for `flow` on `t` (its relations from the catalog).
 * @param hash the definition hash this version would install.
 */
export function judgeInstall(c: CaptureCatalog, flow: string, t: Relation, names: CaptureNames, hash: string): CaptureJudgement {
  const conflicts: string[] = [];
  const retire: TriggerRow[] = [];
  const onTree = (g: TriggerRow) => c.relations.some((r) => sameRel(r, g));
  const fnName = `${qualifiedName(t.schema, names.functionName)}()`;
  const fnMarker = parseMarker(c.fn?.comment);
  let fnOurs = false;
  if (c.fn) {
    const owner = markerOwner(fnMarker);
    if (fnMarker.kind === 'none') {
      conflicts.push(`function ${fnName} already exists and is not TableSync's (it has no TableSync marker); TableSync will not replace it. Give the flow another notification.channelName`);
    } else if (owner && owner.flow !== flow) {
      conflicts.push(`function ${fnName} belongs to ${describeOwner(owner)}; two flows cannot share the channel "${names.channel}". Give one of them its own notification.channelName`);
    } else if (fnMarker.kind === 'legacy') {
      const elsewhere = c.triggers.filter((g) => g.callsOurFunction && !onTree(g));
      if (elsewhere.length > 0) {
        conflicts.push(`function ${fnName} was made by an earlier TableSync for ${rel(elsewhere[0]!)} (trigger "${elsewhere[0]!.name}"), not for ${rel(t)}; two flows cannot share the channel "${names.channel}". Drop the other flow or give this one another notification.channelName`);
      } else fnOurs = true;
    } else fnOurs = true;
  }
  for (const g of c.triggers) {
    const m = parseMarker(g.comment);
    const owner = markerOwner(m);
    const named = onTree(g) && (g.name === names.rowTrigger || g.name === names.truncateTrigger);
    // Unmarked: ours only as an earlier TableSync left it (our name, on this table, calling our function).
    const mine = owner ? owner.flow === flow : m.kind === 'none' && named && g.callsOurFunction && fnOurs;
    if (mine) {
      // A trigger of this flow on a table it no longer reads (the flow moved): it goes first.
      if (!onTree(g)) retire.push(g);
      continue;
    }
    if (named) {
      conflicts.push(`trigger "${g.name}" on ${rel(g)} already exists and ${owner ? `belongs to ${describeOwner(owner)}` : `is not TableSync's (it calls ${g.calls})`}; TableSync will not replace it. Give the flow another notification.channelName`);
    } else if (g.callsOurFunction) {
      conflicts.push(`trigger "${g.name}" on ${rel(g)} ${owner ? `of ${describeOwner(owner)}` : '(not TableSync\'s)'} calls ${fnName}; replacing that function would break its writes. Drop that trigger or give the flow another notification.channelName`);
    }
  }
  for (const o of c.otherCaptureFunctions) {
    const m = parseMarker(o.comment);
    const owner = markerOwner(m);
    if (owner && owner.channel === names.channel && owner.flow !== flow) {
      conflicts.push(`the channel "${names.channel}" is already used by ${describeOwner(owner)} (function ${o.signature}); two flows on one channel would hear each other's changes. Give one of them its own notification.channelName`);
    } else if (m.kind === 'legacy' && m.channel === names.channel) {
      conflicts.push(`the channel "${names.channel}" is already used by an earlier TableSync's function ${o.signature}; drop that flow or give this one another notification.channelName`);
    }
  }
  const root = c.relations.find((r) => r.root);
  const hasTrigger = (r: Relation, name: string, type: number) =>
    c.triggers.some((g) => sameRel(g, r) && g.name === name && g.callsOurFunction && g.type === type && g.always && markerOwner(parseMarker(g.comment))?.flow === flow);
  const current = conflicts.length === 0 && retire.length === 0 && !!root && fnOurs &&
    fnMarker.kind === 'owned' && fnMarker.hash === hash &&
    hasTrigger(root, names.rowTrigger, ROW_TRIGGER_TYPE) && (c.clonesNotAlways ?? 0) === 0 &&
    c.relations.every((r) => hasTrigger(r, names.truncateTrigger, TRUNCATE_TRIGGER_TYPE));
  return { conflicts, retire, current };
}

export interface DropPlan {
  /** Statements, triggers before the function, each only for an object that is ours. */
  statements: string[];
  /** Objects of the capture names that are not ours, left alone (for the step's summary). */
  leftAlone: string[];
}

/**
 * What dropping `flow`'s capture on `t` removes, and what it leaves alone.
 * @param opts.onlyTable retire the capture of `t` only (the flow moved to another table or channel):
 *   its triggers marked for another table of the same flow stay, and so does a function they call.
 */
export function planDrop(c: CaptureCatalog, flow: string, t: Relation, names: CaptureNames, opts: { onlyTable?: boolean } = {}): DropPlan {
  const statements: string[] = [];
  const leftAlone: string[] = [];
  const fnName = `${qualifiedName(t.schema, names.functionName)}()`;
  const fnMarker = parseMarker(c.fn?.comment);
  const fnOwner = markerOwner(fnMarker);
  // A legacy function is ours to drop when every trigger calling it is one we drop too (checked below).
  let fnOurs = !!c.fn && (fnMarker.kind === 'legacy' || fnOwner?.flow === flow);
  let remainingCallers = 0;
  for (const g of c.triggers) {
    const owner = markerOwner(parseMarker(g.comment));
    // Unmarked: ours only as an earlier TableSync left it (our name, on this table, calling our function).
    const named = c.relations.some((r) => sameRel(r, g)) && (g.name === names.rowTrigger || g.name === names.truncateTrigger);
    const mine = owner ? owner.flow === flow : parseMarker(g.comment).kind === 'none' && named && g.callsOurFunction && fnOurs;
    if (mine && opts.onlyTable && owner && !sameRel(owner, t)) {
      if (g.callsOurFunction) remainingCallers++; // the flow's capture of its current table
    } else if (mine) {
      statements.push(`DROP TRIGGER IF EXISTS ${quoteIdent(g.name)} ON ${rel(g)}`);
    } else {
      leftAlone.push(`trigger "${g.name}" on ${rel(g)} (${owner ? describeOwner(owner) : 'not TableSync\'s'})`);
      if (g.callsOurFunction) remainingCallers++;
    }
  }
  if (c.fn) {
    if (fnOurs && remainingCallers > 0) {
      fnOurs = false;
      leftAlone.push(`function ${fnName} (still called by ${remainingCallers} other trigger${remainingCallers === 1 ? '' : 's'})`);
    } else if (!fnOurs) {
      leftAlone.push(`function ${fnName} (${fnOwner ? describeOwner(fnOwner) : 'not TableSync\'s'})`);
    }
    if (fnOurs) statements.push(`DROP FUNCTION IF EXISTS ${fnName}`);
  }
  return { statements, leftAlone };
}
