/**
 * A destructive refusal (DESTRUCTIVE_NOT_ALLOWED) in the app's words. The engine's message is
 * neutral ("runs only when allowed"); each screen says what to tick or click there, never the CLI's
 * flag. The refusal is recognised by its structured detail (core/api/destructive.ts).
 */
import { destructiveRefusalOf, type DestructiveRefusal } from '../../../core/api/errors.destructive';
import { ApiCallError, errorMessage } from '../api/client';

/** The refusal a call failed with, when it is a destructive one. */
export function destructiveRefusal(e: unknown): DestructiveRefusal | undefined {
  return e instanceof ApiCallError && e.code === 'DESTRUCTIVE_NOT_ALLOWED' ? destructiveRefusalOf(e.detail) : undefined;
}

/** The error's message; for a destructive refusal followed by how to allow it on this screen. */
export function messageWithHowToAllow(e: unknown, howToAllow: string): string {
  return destructiveRefusal(e) ? `${errorMessage(e)}. ${howToAllow}` : errorMessage(e);
}
