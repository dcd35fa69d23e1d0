/**
 * Peak resident memory of this process. Linux keeps the high-water mark (VmHWM) and lets a
 * process reset it (`echo 5 > /proc/self/clear_refs`), so a phase's peak is measured exactly;
 * elsewhere we fall back to sampling process.memoryUsage().rss.
 */
import { readFileSync, writeFileSync } from 'node:fs';

function vmHwmBytes(): number | undefined {
  try {
    const m = readFileSync('/proc/self/status', 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export class PeakRss {
  private sampled = 0;
  private timer: NodeJS.Timeout | undefined;
  private hwmReset = false;

  /** Start a measurement phase. */
  start(): void {
    try {
      writeFileSync('/proc/self/clear_refs', '5');
      this.hwmReset = true;
    } catch {
      this.hwmReset = false;
    }
    this.sampled = process.memoryUsage().rss;
    this.timer = setInterval(() => { this.sampled = Math.max(this.sampled, process.memoryUsage().rss); }, 20);
    this.timer.unref();
  }

  /** End the phase; the peak in bytes, and how it was measured. */
  stop(): { bytes: number; method: 'VmHWM' | 'sampled rss' } {
    clearInterval(this.timer);
    this.sampled = Math.max(this.sampled, process.memoryUsage().rss);
    const hwm = this.hwmReset ? vmHwmBytes() : undefined;
    return hwm !== undefined ? { bytes: hwm, method: 'VmHWM' } : { bytes: this.sampled, method: 'sampled rss' };
  }
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
