/**
 * A plan (and apply/drop results) as text a person reads in a terminal: what changes in the
 * schema with the exact SQL and hazards, row counts, a few sample rows, and what blocks apply.
 */
import type { ApplyResult, Plan, PlanStep, SampleRow, VerifyResult, VerifyRow } from '../api/model';
import { displayIdent } from '../sql/ident';
import { conflictResultText, conflictText, initialLoadText, withoutOrdinalText } from '../api/model.words';

const HAZARD_WORDS: Record<string, string> = {
  'deletes-data': 'DELETES DATA',
  'rewrites-table': 'rewrites the table',
  'exclusive-lock': 'takes an exclusive lock',
  'runs-user-sql': 'runs your SQL',
};

export function formatSteps(steps: PlanStep[]): string {
  if (steps.length === 0) return '  (none)\n';
  let out = '';
  steps.forEach((s, i) => {
    const flags = [s.destructive ? 'DESTRUCTIVE' : '', ...s.hazards.map((h) => HAZARD_WORDS[h] ?? h)].filter(Boolean);
    out += `  ${i + 1}. ${s.summary}${flags.length ? `  [${flags.join(', ')}]` : ''}\n`;
    if (s.reason) out += `     why: ${s.reason}\n`;
    for (const sql of s.sql) out += sql.split('\n').map((l) => `       ${l}`).join('\n') + '\n';
  });
  return out;
}

const cell = (v: string | null | undefined) => (v === null || v === undefined ? 'NULL' : v.length > 60 ? `${JSON.stringify(v.slice(0, 57))}…` : JSON.stringify(v));
const keyText = (k: Record<string, string | null>) => Object.entries(k).map(([n, v]) => `${n}=${cell(v)}`).join(', ');

function formatSample(s: SampleRow): string {
  if ((s.op === 'update' || s.op === 'conflict') && s.changed && s.before && s.after) {
    const diffs = s.changed.map((c) => `${c}: ${cell(s.before![c])} → ${cell(s.after![c])}`).join('; ');
    return `    ${s.op.padEnd(7)} ${keyText(s.key)}  ${diffs || (s.op === 'update' ? '(re-checked, no value differs)' : '(yours; the same values as the source)')}\n`;
  }
  const row = s.after ?? s.before;
  const cols = row ? Object.entries(row).filter(([n]) => !(n in s.key)).slice(0, 4).map(([n, v]) => `${n}=${cell(v)}`).join(', ') : '';
  return `    ${s.op.padEnd(7)} ${keyText(s.key)}${cols ? `  ${cols}` : ''}\n`;
}

export function formatPlan(plan: Plan): string {
  let out = `Plan for flow "${plan.flow}"\n`;
  out += `  source ${displayIdent(plan.source.schema)}.${displayIdent(plan.source.table)}${plan.source.filter ? ` where ${plan.source.filter}` : ''}  (changes found by ${plan.rowMode === 'ordinal' ? `ordinal column ${displayIdent(plan.source.ordinalColumn ?? '')}` : 'row fingerprints'})\n`;
  out += `  target ${displayIdent(plan.target.schema)}.${displayIdent(plan.target.table)}  (managed by ${plan.target.managedBy}${plan.target.exists ? '' : ', does not exist yet'})\n\n`;
  out += `Schema and setup steps:\n${formatSteps(plan.steps)}\n`;
  const r = plan.rows;
  out += `Rows: ${r.insert} to insert, ${r.update} to update, ${r.delete} to delete, ${r.unchanged} unchanged, ${r.foreign} in the target not owned by this flow (left alone)\n`;
  if (plan.withoutOrdinal) out += `  ${withoutOrdinalText(plan.withoutOrdinal)}\n`;
  if (r.conflict) out += `  Conflicts: ${conflictText(r.conflict)} (apply --take-over)\n`;
  if (plan.initialLoad) out += `  Initial load: ${initialLoadText(plan.initialLoad)}; apply --streams N to choose\n`;
  if (plan.samples.length) out += `Samples:\n${plan.samples.map(formatSample).join('')}`;
  if (plan.warnings.length) out += `\nWarnings:\n${plan.warnings.map((w) => `  - ${w}\n`).join('')}`;
  if (plan.blockers.length) out += `\nCannot apply until fixed:\n${plan.blockers.map((b) => `  - [${b.code}] ${b.message}\n`).join('')}`;
  const destructive = plan.steps.filter((s) => s.destructive).length;
  if (destructive) out += `\n${destructive} destructive step(s): apply needs --allow-destructive.\n`;
  out += `\nfingerprint ${plan.fingerprint}\n`;
  return out;
}

export function formatApplyResult(r: ApplyResult): string {
  const x = r.rows;
  const con = x.conflict ? ` ${conflictResultText(x.conflict, (r.tookOver ?? 0) > 0)}${r.tookOver ? '' : ' (--take-over to take them over)'}.` : '';
  const rep = r.repaired ? ` Repair: ${r.repaired.changed} changed, ${r.repaired.missing} missing, ${r.repaired.extra} extra row(s) found and rewritten.` : '';
  const load = r.initialLoad ? ` Initial load: ${r.initialLoad.how}.` : '';
  return `Applied flow "${r.flow}" in ${(r.durationMs / 1000).toFixed(1)} s${r.replanned ? ' (the plan was recomputed: the world had changed)' : ''}: ${r.stepsRun} step(s); rows ${x.insert} inserted, ${x.update} updated, ${x.delete} deleted, ${x.unchanged} unchanged, ${x.foreign} not owned (left alone).${con}${rep}${load}\n`;
}

/** Rows listed per kind in the terminal (the JSON carries up to VERIFY_LIST_LIMIT). */
const VERIFY_SHOWN = 20;

function formatVerifyRow(kind: string, r: VerifyRow): string {
  if (r.changed && r.before && r.after) {
    return `    ${kind.padEnd(8)} ${keyText(r.key)}  ${r.changed.map((c) => `${c}: ${cell(r.before![c])} → ${cell(r.after![c])}`).join('; ') || '(the hashes differ, the text does not)'}\n`;
  }
  return `    ${kind.padEnd(8)} ${keyText(r.key)}\n`;
}

export function formatVerifyResult(r: VerifyResult): string {
  const c = r.counts;
  let out = r.equal
    ? `Flow "${r.flow}": the target holds exactly what the flow says (${r.sourceRows} source row(s), ${r.targetRows} target row(s)) in ${(r.durationMs / 1000).toFixed(1)} s.\n`
    : `Flow "${r.flow}": DRIFT: ${c.changed} changed, ${c.missing} missing, ${c.extra} extra (${r.sourceRows} source row(s), ${r.targetRows} target row(s), ${(r.durationMs / 1000).toFixed(1)} s).\n`;
  for (const [kind, rows, n] of [['changed', r.changed, c.changed], ['missing', r.missing, c.missing], ['extra', r.extra, c.extra]] as const) {
    if (n === 0) continue;
    out += rows.slice(0, VERIFY_SHOWN).map((x) => formatVerifyRow(kind, x)).join('');
    if (n > VERIFY_SHOWN) out += `    … and ${n - VERIFY_SHOWN} more ${kind} (--json lists up to ${rows.length})\n`;
  }
  if (c.notOwned) out += `  ${c.notOwned} source row(s) have a key held by a target row this flow did not write (not owned: left alone, not drift).\n`;
  if (r.buckets) out += `  compared ${r.buckets.differing} of ${r.buckets.total} key buckets row by row.\n`;
  for (const w of r.warnings) out += `  warning: ${w}\n`;
  if (!r.equal) out += `\napply --repair rewrites exactly these rows.\n`;
  return out;
}
