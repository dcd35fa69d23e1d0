/** A level-free wake-up: `wait()` resolves on the next `wake()` or after `ms`, whichever is first. */
export class Wakeup {
  private waiters: Array<() => void> = [];

  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  wait(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => { if (timer) clearTimeout(timer); resolve(); };
      this.waiters.push(done);
      if (ms !== undefined) timer = setTimeout(() => { this.waiters = this.waiters.filter((w) => w !== done); resolve(); }, Math.max(0, ms));
    });
  }
}
