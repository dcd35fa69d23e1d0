import { describe, expect, it } from 'vitest';
import { watchForStop } from '../../cli/stop';

// Why a long-running command stops: a signal, or its parent changing (npm exec died without passing
// the signal on). A process started by init has no parent to watch.
describe('watchForStop', () => {
  it('resolves when the parent pid changes', async () => {
    let parent = 4242;
    const w = watchForStop({ pollMs: 5, ppid: () => parent });
    parent = 1;
    await expect(w.requested).resolves.toBe('parent exited');
  });

  it('resolves on SIGTERM, and stops listening afterwards', async () => {
    const before = process.listenerCount('SIGTERM');
    const w = watchForStop({ pollMs: 5, ppid: () => 4242 });
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    process.emit('SIGTERM', 'SIGTERM');
    await expect(w.requested).resolves.toBe('SIGTERM');
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('does not watch a parent that is init', async () => {
    let parent = 1;
    const w = watchForStop({ pollMs: 5, ppid: () => parent });
    parent = 77;
    const raced = await Promise.race([w.requested, new Promise((r) => setTimeout(() => r('still running'), 50))]);
    expect(raced).toBe('still running');
    w.dispose();
  });
});
