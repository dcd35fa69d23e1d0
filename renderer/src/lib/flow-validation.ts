/**
 * What is wrong with a flow setup form, field by field: the form's own rules (names, dimensions,
 * index columns) and then the flow file's zod schema (core/flow/schema.ts flowSpec), whose issue
 * paths are mapped back onto the form's fields, so the screen and the CLI agree on what is valid.
 */
import { MAX_LOAD_STREAMS, flowSpec } from '../../../core/flow/schema';
import { flowFromForm, isVectorType, targetColumns, type FlowForm } from './flow-draft';

export interface FieldIssue { field: string; message: string }

/** Flow-file path of a zod issue → the form field that shows it. */
export function fieldOf(path: PropertyKey[]): string {
  const p = path.map(String);
  const [a, b, c, ...rest] = p;
  if (a === 'name') return 'name';
  if (a === 'load') return 'loadStreams';
  if (a === 'source') {
    if (b === 'ordinalColumn') return 'ordinalColumn';
    if (b === 'filter') return 'filter';
    if (b === 'notification') return 'channelName';
    return 'sourceTable';
  }
  if (a === 'target') {
    if (b === 'table') return 'targetTable';
    if (b === 'schema') return 'targetSchema';
    if (b === 'connection') return 'targetConnection';
    if (b === 'vectorIndexes') return ['vectorIndexes', c ?? '0', rest[0] ?? 'column'].join('.');
    if (b === 'sqlAttachments') return ['attachments', c ?? '0', rest[0] ?? 'name'].join('.');
    if (b === 'columns') return 'columns';
  }
  return 'root';
}

export function validateFlowForm(values: FlowForm): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const add = (field: string, message: string) => issues.push({ field, message });
  if (!values.name.trim()) add('name', 'A flow needs a name: it is its identity.');
  if (!values.targetTable.trim()) add('targetTable', 'Which table should the rows go to?');
  const targets = targetColumns(values);
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t.name)) add('columns', `Two columns would both be named “${t.name}” in the target.`);
    seen.add(t.name);
  }
  values.columns.forEach((c, i) => {
    const t = c.targetType.trim() || c.type;
    if (isVectorType(t) && c.dims.trim() && !(Number.isInteger(Number(c.dims)) && Number(c.dims) > 0 && Number(c.dims) <= 16000)) {
      add(`columns.${i}.dims`, 'Dimensions: a whole number from 1 to 16000.');
    }
  });
  values.vectorIndexes.forEach((v, i) => {
    const col = targets.find((t) => t.name === v.column);
    if (!col) add(`vectorIndexes.${i}.column`, 'Pick a target column.');
    else if (!isVectorType(col.type)) add(`vectorIndexes.${i}.column`, `“${col.name}” is ${col.type}, not a vector.`);
    for (const k of ['lists', 'm', 'efConstruction'] as const) {
      if (v[k].trim() && !(Number.isInteger(Number(v[k])) && Number(v[k]) > 0)) add(`vectorIndexes.${i}.${k}`, 'A positive whole number.');
    }
  });
  values.attachments.forEach((a, i) => {
    if (!a.name.trim()) add(`attachments.${i}.name`, 'An attachment needs a name (it is how TableSync knows it later).');
    if (!a.setupSql.trim()) add(`attachments.${i}.setupSql`, 'What SQL sets it up? For example CREATE INDEX …');
  });
  const parsed = flowSpec.safeParse(flowFromForm(values));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = fieldOf(issue.path);
      // The schema decides what is valid (and holds the limit); the words say it for the form.
      add(field, field === 'loadStreams' ? LOAD_STREAMS_WORDS : humanIssue(issue));
    }
  }
  return issues;
}

/** Any refusal of `load.streams` by the flow schema, in the form's words. */
export const LOAD_STREAMS_WORDS = `Streams: a whole number from 1 to ${MAX_LOAD_STREAMS}.`;

/**
 * A zod issue in words a user of the form reads (zod's own text, "Too small: expected string to
 * have >=1 characters", is for developers). The form's own rules above catch most cases first.
 */
export function humanIssue(issue: { code: string; message: string; minimum?: unknown; origin?: unknown }): string {
  if (issue.code === 'too_small' && issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'Required.' : `At least ${String(issue.minimum)} characters.`;
  if (issue.code === 'too_big' && issue.origin === 'string') return 'Too long.';
  if (issue.code === 'invalid_type') return 'Required.';
  return issue.message;
}
