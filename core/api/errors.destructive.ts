/**
 * A refusal to run destructive steps (DESTRUCTIVE_NOT_ALLOWED), as data. The engine's message says
 * what would be lost and that it runs "only when allowed", in no surface's words; `detail` carries
 * which permission is missing (`allow`, the API's own input field) and for which action, so each
 * surface says how to give it: the CLI names its flag (cli/report.ts), the app names the box to
 * tick or the button to click on the screen the user is on.
 *
 * Part of the contract: Node-free, no imports.
 */

/** The API input field that allows destructive steps (flows.apply, flows.drop, sets.apply, sets.drop). */
export const ALLOW_DESTRUCTIVE = 'allowDestructive' as const;

export type DestructiveAction = 'apply' | 'drop';

export interface DestructiveRefusal {
  allow: typeof ALLOW_DESTRUCTIVE;
  action: DestructiveAction;
  /** The flow or set refused (`flow "x"`, `set "s"`), for a surface's sentence. */
  subject: string;
  /** The destructive steps' summaries (the full steps are in `detail.steps`). */
  summaries: string[];
}

/** The detail of a destructive refusal: the steps, and what allows them. */
export function destructiveRefusalDetail(action: DestructiveAction, subject: string, steps: ReadonlyArray<{ summary: string }>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const refusal: DestructiveRefusal = { allow: ALLOW_DESTRUCTIVE, action, subject, summaries: steps.map((s) => s.summary) };
  return { ...extra, steps, ...refusal };
}

/** The refusal an error's detail describes, when it is one. */
export function destructiveRefusalOf(detail: unknown): DestructiveRefusal | undefined {
  if (!detail || typeof detail !== 'object') return undefined;
  const d = detail as Partial<DestructiveRefusal>;
  if (d.allow !== ALLOW_DESTRUCTIVE || (d.action !== 'apply' && d.action !== 'drop')) return undefined;
  return { allow: d.allow, action: d.action, subject: typeof d.subject === 'string' ? d.subject : '', summaries: Array.isArray(d.summaries) ? d.summaries.map(String) : [] };
}
