/**
 * Calling the API dispatcher the way a client would, in tests: `call` returns the result, or throws
 * an Error carrying the envelope's stable `code` (tests assert on it).
 */
import type { Dispatcher } from '../../core/api/dispatcher';

export async function call<T = unknown>(api: Dispatcher, method: string, input?: unknown): Promise<T> {
  const env = await api.dispatch(method, input);
  if (!env.ok) throw Object.assign(new Error(`${method}: ${env.error.code} ${env.error.message}`), { code: env.error.code });
  return env.result as T;
}
