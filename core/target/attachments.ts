/**
 * SQL command attachments: user SQL that lives and dies with the flow. Setup runs when an attachment
 * is new or its SQL changed (after the old teardown, where there is one); teardown runs when it is
 * removed. It is the user's SQL run on the target, so every such step carries `runs-user-sql`.
 */
import type { PlanStep } from '../api/model';
import type { StateAttachment } from '../state/store';

export function setupStep(a: StateAttachment, why: 'new' | 'changed' | 'table recreated'): PlanStep {
  return {
    kind: 'attachment-setup',
    summary: `set up attachment "${a.name}" (${why})`,
    sql: [a.setupSql],
    destructive: false,
    hazards: ['runs-user-sql'],
  };
}

export function teardownStep(a: StateAttachment, why: 'removed' | 'changed' | 'table recreated'): PlanStep {
  return {
    kind: 'attachment-teardown',
    summary: `tear down attachment "${a.name}" (${why})`,
    sql: [a.teardownSql!],
    destructive: false,
    hazards: ['runs-user-sql'],
  };
}

export function sameAttachment(a: StateAttachment, b: StateAttachment): boolean {
  return a.setupSql === b.setupSql && (a.teardownSql ?? null) === (b.teardownSql ?? null);
}

/** Teardowns before the table DDL, setups after the rows are in. */
export function planAttachments(
  desired: StateAttachment[],
  previous: StateAttachment[],
  tableRecreated: boolean,
): { teardown: PlanStep[]; setup: PlanStep[] } {
  const teardown: PlanStep[] = [];
  const setup: PlanStep[] = [];
  const prev = new Map(previous.map((a) => [a.name, a]));
  for (const old of previous) {
    if (!desired.some((d) => d.name === old.name) && old.teardownSql) teardown.push(teardownStep(old, 'removed'));
  }
  for (const d of desired) {
    const old = prev.get(d.name);
    if (!old) setup.push(setupStep(d, 'new'));
    else if (!sameAttachment(d, old)) {
      if (old.teardownSql) teardown.push(teardownStep(old, 'changed'));
      setup.push(setupStep(d, 'changed'));
    } else if (tableRecreated) {
      // The table goes away under it: tear down what it made (a function, a trigger) and set it up again.
      if (old.teardownSql) teardown.push(teardownStep(old, 'table recreated'));
      setup.push(setupStep(d, 'table recreated'));
    }
  }
  return { teardown, setup };
}
