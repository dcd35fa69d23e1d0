/**
 * The servers a benchmark runs on and the lines it prints, one way for every bench that compares
 * Debian's PostgreSQL 15 (a user's durable defaults: fsync and synchronous_commit on) with the
 * embedded PostgreSQL 18 (the test settings: fsync off). `SERVERS=pg15`, `SERVERS=pg18` or both.
 */
import { cpus, loadavg } from 'node:os';
import { debianBinaries, embeddedBinaries, type PgBinaries } from '../../core/embedded/pg-server';
import { psqlPath } from './psql';
import { recordResults, shouldRecord } from './results';

export interface BenchServerChoice {
  label: string;
  binaries: PgBinaries;
  /** True for Debian's 15 with its durable defaults; false for the embedded server's test settings. */
  durable: boolean;
}

/** Output lines, echoed as they are pushed and kept for `--record`. */
export function benchOutput(): string[] {
  const out: string[] = [];
  const push = out.push.bind(out);
  out.push = (...lines: string[]) => {
    for (const l of lines) console.log(l);
    return push(...lines);
  };
  return out;
}

/** What the figures were measured on: the ratios are within one run, the absolute times depend on this. */
export function machineLine(): string {
  const [one, five] = loadavg();
  return `(node ${process.version}, ${cpus().length} cores, load average ${one!.toFixed(1)} (1 min) / ${five!.toFixed(1)} (5 min) at the start: ratios are within one run, absolute times depend on the machine's other work)`;
}

/** The servers SERVERS names (default `fallback`), in that order; a missing Debian 15 is said in `out` and skipped. */
export async function chosenServers(fallback: string, out: string[]): Promise<BenchServerChoice[]> {
  const want = (process.env.SERVERS ?? fallback).split(',').map((x) => x.trim());
  const chosen: BenchServerChoice[] = [];
  for (const w of want) {
    if (w === 'pg15') {
      const b = debianBinaries(15);
      if (b) chosen.push({ label: 'PostgreSQL 15 (Debian)', binaries: b, durable: true });
      else out.push("PostgreSQL 15 (Debian): not installed (/usr/lib/postgresql/15/bin), skipped");
    } else if (w === 'pg18') {
      chosen.push({ label: 'PostgreSQL 18 (embedded)', binaries: await embeddedBinaries(), durable: false });
    } else {
      throw new Error(`SERVERS: unknown server "${w}" (pg15, pg18)`);
    }
  }
  return chosen;
}

/**
 * A bench's main: the machine line, then `runServer` on each chosen server (default `fallback`),
 * then, with `--record`, the lines into bench/RESULTS.md under `heading`.
 */
export async function runOnServers(
  heading: string,
  fallback: string,
  runServer: (label: string, binaries: PgBinaries, durable: boolean, out: string[]) => Promise<void>,
): Promise<void> {
  if (!psqlPath()) throw new Error('psql is missing: install postgresql-client');
  const out = benchOutput();
  out.push(machineLine());
  for (const s of await chosenServers(fallback, out)) await runServer(s.label, s.binaries, s.durable, out);
  if (shouldRecord()) recordResults(heading, out);
}
