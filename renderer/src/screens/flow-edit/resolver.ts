/**
 * react-hook-form's view of validateFlowForm (the form's rules, then the flow file's zod schema):
 * the first message per field, nested by its path with the resolvers package's own toNestErrors.
 * Used by the flow editor and by a set member's editor (the same form, validated the same way).
 */
import type { FieldError, Resolver } from 'react-hook-form';
import { toNestErrors } from '@hookform/resolvers';
import type { FlowForm } from '../../lib/flow-draft';
import { validateFlowForm } from '../../lib/flow-validation';

export const flowFormResolver: Resolver<FlowForm> = async (values, _context, options) => {
  const found = validateFlowForm(values);
  if (found.length === 0) return { values, errors: {} };
  const flat: Record<string, FieldError> = {};
  for (const { field, message } of found) flat[field] ??= { type: 'validate', message };
  return { values: {}, errors: toNestErrors(flat, options) };
};
