/**
 * How a failed command reports itself, the same for plan, apply and drop: the message on stderr
 * (with the target's state), and with `--json` the same error as one JSON object on stdout, so a
 * script reading stdout always gets JSON. Messages are redacted once more here: no password leaves
 * the process in an error, whatever built the message.
 */
import { redactDeep, redactSecrets } from '../core/connections/redact';
import { destructiveRefusalOf } from '../core/api/errors.destructive';
import { INPUT_ERROR_CODES, toTableSyncError, type TableSyncError } from '../core/errors';

/** The CLI's flag for the engine's `allowDestructive` permission. */
export const ALLOW_DESTRUCTIVE_FLAG = '--allow-destructive';

/**
 * An error's message in the CLI's words: a destructive refusal (neutral in the engine) says which
 * flag allows it: rerun with it, or, from another command (watch), run that action with it.
 */
export function cliErrorMessage(command: string, err: TableSyncError): string {
  const message = redactSecrets(err.message);
  const refusal = err.code === 'DESTRUCTIVE_NOT_ALLOWED' ? destructiveRefusalOf(err.detail) : undefined;
  if (!refusal) return message;
  return `${message}\nto allow it: ${command === refusal.action ? `rerun with ${ALLOW_DESTRUCTIVE_FLAG}` : `tablesync ${refusal.action} … ${ALLOW_DESTRUCTIVE_FLAG}`}`;
}

export function reportFailure(command: string, e: unknown, json: boolean): number {
  const err = toTableSyncError(e);
  const message = redactSecrets(err.message);
  const state = (err.detail?.target as string | undefined)
    ?? (INPUT_ERROR_CODES.has(err.code) ? 'unchanged (nothing was written)' : 'unchanged unless the error says otherwise (every change runs in one transaction)');
  process.stderr.write(`tablesync ${command}: ${cliErrorMessage(command, err)}\ntarget: ${state}\n`);
  if (json) {
    const detail = err.detail ? redactDeep(JSON.parse(JSON.stringify(err.detail, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as Record<string, unknown>) : undefined;
    process.stdout.write(`${JSON.stringify({ ok: false, error: { code: err.code, message, target: state, ...(detail ? { detail } : {}) } })}\n`);
  }
  return INPUT_ERROR_CODES.has(err.code) ? 2 : 1;
}
