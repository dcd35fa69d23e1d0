import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toApiError } from '../../core/api/dispatcher';
import { TableSyncError } from '../../core/errors';

// Errors cross the transports as plain data with a stable code, whatever was thrown.
describe('dispatcher: errors as data', () => {
  it('keeps a TableSyncError code, message and detail, made JSON-safe', () => {
    const e = new TableSyncError('LOCKED', 'flow "f" is being applied by tablesync on host x since 10:00', { holder: { pid: 42 }, big: 2n ** 64n as unknown as number, fn: () => 1 });
    const api = toApiError(e);
    expect(api).toEqual({ code: 'LOCKED', message: e.message, detail: { holder: { pid: 42 }, big: '18446744073709551616' } });
    expect(JSON.parse(JSON.stringify(api))).toEqual(api);
  });

  it('maps PostgreSQL errors by SQLSTATE and anything else to INTERNAL', () => {
    const pgErr = Object.assign(new Error('permission denied for table t'), { code: '42501', table: 't' });
    expect(toApiError(pgErr)).toMatchObject({ code: 'PERMISSION_DENIED', detail: { sqlstate: '42501', table: 't' } });
    expect(toApiError(Object.assign(new Error('canceling statement due to user request'), { code: '57014' }))).toMatchObject({ code: 'CANCELLED' });
    expect(toApiError(new Error('boom'))).toEqual({ code: 'INTERNAL', message: 'boom' });
    expect(toApiError('a string')).toEqual({ code: 'INTERNAL', message: 'a string' });
  });

  it('turns a zod error thrown inside the engine into INVALID_INPUT with the issues', () => {
    const r = z.object({ name: z.string() }).safeParse({ name: 1 });
    const api = toApiError(r.error);
    expect(api.code).toBe('INVALID_INPUT');
    expect(api.message).toMatch(/name/);
    expect(Array.isArray(api.detail?.['issues'])).toBe(true);
  });
});
