/**
 * The form's error for a field path (react-hook-form's own getFieldState), for the flow setup's
 * sections. A row just added with "+ Add" is empty: its errors show once the user has been there,
 * or tried to save, not the moment it appears.
 */
import { useFormContext, type FieldPath, type UseFormReturn } from 'react-hook-form';
import type { FlowForm } from '../../lib/flow-draft';

export function fieldErrorOf(form: Pick<UseFormReturn<FlowForm>, 'getFieldState' | 'formState'>): (name: string) => string | undefined {
  const { getFieldState, formState } = form;
  return (name) => {
    const fs = getFieldState(name as FieldPath<FlowForm>, formState);
    if (/^(attachments|vectorIndexes)\./.test(name) && !formState.isSubmitted && !fs.isTouched) return undefined; // (an appended row is "dirty" at once: only touch counts)
    return fs.error?.message;
  };
}

/** Inside the form's FormProvider. */
export function useFieldError(): (name: string) => string | undefined {
  return fieldErrorOf(useFormContext<FlowForm>());
}
