/**
 * react-hook-form's view of validateFlowForm (the form's rules, then the flow file's zod schema):
 * the first message per field, nested by its path with the resolvers package's own toNestErrors.
 * Used by the flow editor and by a set member's editor (the same form, validated the same way).
 */
import type { FieldError, Resolver } from 'react-hook-form';
import { toNestErrors } from '@hookform/resolvers';
import type { FlowForm } from '../../lib/flow-draft';
import { validateFlowForm, type FieldIssue } from '../../lib/flow-validation';

/** The first issue of each field, in the order found (what the fields show). */
function firstPerField(issues: FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    if (seen.has(i.field)) return false;
    seen.add(i.field);
    return true;
  });
}

/**
 * The resolver, also telling `onIssues` what it found each time it runs (react-hook-form runs it
 * on every change), so a screen can list the problems without validating the form again.
 */
export function reportingFlowFormResolver(onIssues?: (issues: FieldIssue[]) => void): Resolver<FlowForm> {
  return async (values, _context, options) => {
    const found = firstPerField(validateFlowForm(values));
    onIssues?.(found);
    if (found.length === 0) return { values, errors: {} };
    const flat: Record<string, FieldError> = {};
    for (const { field, message } of found) flat[field] = { type: 'validate', message };
    return { values: {}, errors: toNestErrors(flat, options) };
  };
}

export const flowFormResolver: Resolver<FlowForm> = reportingFlowFormResolver();
