/** A set's plan and apply result as text for a terminal: per table counts and steps, totals, refusals. */
import { ROW_PHASES, type PlanStep } from '../api/model';
import type { SetApplyProgress, SetApplyResult, SetPlan, SetVerifyResult } from '../api/model.set';
import { formatSteps, formatVerifyResult } from '../target/plan-text';

const stepsLine = (steps: PlanStep[]) => {
  const d = steps.filter((s) => s.destructive).length;
  return steps.length ? `${steps.length} step(s)${d ? `, ${d} DESTRUCTIVE` : ''}` : 'no steps';
};

export function formatSetPlan(p: SetPlan, opts: { verbose?: boolean } = {}): string {
  let out = `Plan for set "${p.set}": ${p.members.length} table(s) from schema "${p.source.schema}" into "${p.target.schema}"\n\n`;
  const w = Math.max(5, ...p.members.map((m) => m.table.length));
  out += `  ${'table'.padEnd(w)}  ${'insert'.padStart(8)} ${'update'.padStart(8)} ${'delete'.padStart(8)} ${'same'.padStart(8)}  steps\n`;
  for (const m of p.members) {
    if (!m.plan) {
      out += `  ${m.table.padEnd(w)}  cannot be planned: [${m.error?.code}] ${m.error?.message}\n`;
      continue;
    }
    const r = m.plan.rows;
    out += `  ${m.table.padEnd(w)}  ${String(r.insert).padStart(8)} ${String(r.update).padStart(8)} ${String(r.delete).padStart(8)} ${String(r.unchanged).padStart(8)}  ${stepsLine(m.plan.steps)}${m.plan.blockers.length ? '  BLOCKED' : ''}\n`;
  }
  const t = p.totals;
  out += `  ${'total'.padEnd(w)}  ${String(t.insert).padStart(8)} ${String(t.update).padStart(8)} ${String(t.delete).padStart(8)} ${String(t.unchanged).padStart(8)}  ${t.steps} step(s), ${t.destructiveSteps} destructive\n`;
  const applied = p.members.filter((m) => m.applied.length);
  if (applied.length) out += `\nSet defaults applied:\n${applied.map((m) => `  ${m.table}: ${m.applied.join('; ')}\n`).join('')}`;
  if (p.refused.length) out += `\nRefused (not members):\n${p.refused.map((r) => `  ${r.table}${r.kind ? ` (${r.kind})` : ''}: ${r.reason}\n`).join('')}`;
  if (p.departed.length) out += `\nLeft the set (recorded in the target):\n${p.departed.map((d) => `  ${d}\n`).join('')}`;
  const fks = p.foreignKeys.filter((f) => !f.skipped);
  if (fks.length) out += `\nForeign keys among members: ${fks.length}\n`;
  if (p.steps.length) out += `\nSet-wide steps:\n${formatSteps(p.steps)}`;
  for (const m of p.members) {
    const steps = m.plan?.steps ?? [];
    if (!steps.length) continue;
    if (opts.verbose || steps.some((s) => s.destructive)) out += `\n${m.table}:\n${formatSteps(steps)}`;
  }
  if (p.warnings.length) out += `\nWarnings:\n${p.warnings.map((x) => `  - ${x}\n`).join('')}`;
  if (p.blockers.length) out += `\nCannot apply until fixed:\n${p.blockers.map((b) => `  - ${b.table ? `${b.table}: ` : ''}[${b.code}] ${b.message}\n`).join('')}`;
  if (t.destructiveSteps) out += `\n${t.destructiveSteps} destructive step(s): apply needs --allow-destructive.\n`;
  return out;
}

export function formatSetApplyResult(r: SetApplyResult): string {
  const t = r.totals;
  let out = `Applied set "${r.set}" in ${(r.durationMs / 1000).toFixed(1)} s, one transaction: ${r.members.length} table(s); rows ${t.insert} inserted, ${t.update} updated, ${t.delete} deleted, ${t.unchanged} unchanged`;
  out += `; foreign keys ${r.foreignKeysAdded} added, ${r.foreignKeysDropped} dropped.\n`;
  for (const m of r.members) {
    const x = m.rows;
    out += `  ${m.table}: ${x.insert} inserted, ${x.update} updated, ${x.delete} deleted, ${x.unchanged} unchanged${m.stepsRun ? `, ${m.stepsRun} step(s)` : ''}\n`;
  }
  if (r.refused.length) out += `Refused: ${r.refused.map((x) => `${x.table} (${x.reason})`).join('; ')}\n`;
  if (r.departedDropped.length) out += `Dropped members that left the set: ${r.departedDropped.join(', ')}\n`;
  if (r.departedKept.length) out += `Kept members that left the set (their tables stay; --allow-destructive drops them): ${r.departedKept.join(', ')}\n`;
  return out;
}

export function formatSetProgress(p: SetApplyProgress): string | undefined {
  if (p.phase === 'members' && p.table && p.member && ROW_PHASES.has(p.member.phase) && p.member.rowsDone === 0) {
    return `[${p.memberIndex + 1}/${p.members}] ${p.table}: ${p.member.phase}\n`;
  }
  if (p.phase === 'foreign-keys' || p.phase === 'committing') return `[set] ${p.phase}\n`;
  return undefined;
}

export function formatSetVerifyResult(r: SetVerifyResult): string {
  let out = `Verify of set "${r.set}": ${r.equal ? 'every member holds exactly what it should' : 'DIFFERENCES FOUND'} (${(r.durationMs / 1000).toFixed(1)} s)\n`;
  for (const m of r.members) {
    if (m.error) out += `\n${m.table}: cannot verify: [${m.error.code}] ${m.error.message}\n`;
    else if (m.result && !m.result.equal) out += `\n${m.table}:\n${formatVerifyResult(m.result)}`;
    else if (m.result) out += `  ${m.table}: equal (${m.result.sourceRows} rows)\n`;
  }
  if (!r.equal) out += `\nRepair with: tablesync apply SET.json --repair\n`;
  return out;
}
