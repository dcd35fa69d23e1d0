/**
 * The error half of the API envelope. Errors cross every transport as data, never as thrown
 * objects: Electron's IPC keeps only an Error's message, and a WebSocket carries only JSON.
 *
 * The codes are core/errors.ts's stable codes plus two that only the transport produces. They are
 * listed here again (not imported) because this file is shared with the renderer and may import
 * only zod; the dispatcher has a compile-time check that the two lists agree.
 *
 * Part of the contract: zod only, no Node.
 */
import { z } from 'zod';

export const ENGINE_ERROR_CODES = [
  'INVALID_INPUT', 'NOT_FOUND', 'NO_PRIMARY_KEY', 'UNSUPPORTED', 'FILTER_INVALID', 'PERMISSION_DENIED',
  'PGVECTOR_MISSING', 'INCOMPATIBLE_TARGET', 'DESTRUCTIVE_NOT_ALLOWED', 'PLAN_STALE', 'LOCKED',
  'CONNECTION_FAILED', 'CANCELLED', 'INTERNAL',
] as const;

/** Produced by the dispatcher/transport, not the engine: the request itself is malformed. */
export const TRANSPORT_ERROR_CODES = [
  'INVALID_REQUEST', // input failed the method's schema (zod issues in `detail.issues`), or a malformed frame
  'UNKNOWN_METHOD', // no such method in the contract
] as const;

export const apiErrorCode = z.enum([...ENGINE_ERROR_CODES, ...TRANSPORT_ERROR_CODES]);
export type ApiErrorCode = z.infer<typeof apiErrorCode>;

export const apiError = z.object({
  code: apiErrorCode,
  /** Written for a person: names the table/column/position. */
  message: z.string(),
  /** Structured extras: zod issues, SQLSTATE, filter position, lock holder... */
  detail: z.record(z.string(), z.unknown()).optional(),
});
export type ApiError = z.infer<typeof apiError>;

export type Envelope<T> = { ok: true; result: T } | { ok: false; error: ApiError };

/** Schema of an envelope around a given result schema (used by tests and the WS client). */
export function envelopeOf<T extends z.ZodType>(result: T) {
  return z.union([
    z.object({ ok: z.literal(true), result }),
    z.object({ ok: z.literal(false), error: apiError }),
  ]);
}

/** Thrown by API clients that prefer exceptions to envelopes; keeps the stable code. */
export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';
  constructor(readonly code: ApiErrorCode, message: string, readonly detail?: Record<string, unknown>) {
    super(message);
  }
}
