/**
 * Appending a run's output to bench/RESULTS.md (the committed record), under the benchmark's own
 * heading with the date, so each benchmark keeps its section. Opt-in: `npm run bench:x -- --record`.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const RESULTS_PATH = fileURLToPath(new URL('../RESULTS.md', import.meta.url));

export function shouldRecord(argv = process.argv): boolean {
  return argv.includes('--record');
}

/** Append `## {heading}` with today's date and the output lines in a code block. */
export function recordResults(heading: string, lines: readonly string[]): void {
  if (!existsSync(RESULTS_PATH)) writeFileSync(RESULTS_PATH, '# Benchmark results\n\nLatest runs of `npm run bench:*`, appended by the benchmarks with `--record`.\n');
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  appendFileSync(RESULTS_PATH, `\n## ${heading}\n\n${date}\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n`);
}
