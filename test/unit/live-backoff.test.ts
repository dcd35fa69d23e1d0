import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../core/live/backoff';

describe('reconnect backoff', () => {
  it('doubles the ceiling per attempt up to the maximum, with jitter inside [25%, 100%]', () => {
    const opts = { initialMs: 100, maxMs: 1000 };
    expect(backoffDelay(1, opts, () => 1)).toBe(100);
    expect(backoffDelay(3, opts, () => 1)).toBe(400);
    expect(backoffDelay(10, opts, () => 1)).toBe(1000);
    expect(backoffDelay(10, opts, () => 0)).toBe(250);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(2, opts);
      expect(d).toBeGreaterThanOrEqual(50);
      expect(d).toBeLessThanOrEqual(200);
    }
  });
});
