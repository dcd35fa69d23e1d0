/**
 * The baseline: Debian's `psql` running `\copy (select …) to stdout` into /dev/null, i.e. the
 * fastest a stock client reads the same rows. Timed from spawn to exit.
 */
import { spawn, execFileSync } from 'node:child_process';

export function psqlPath(): string | undefined {
  for (const p of ['/usr/bin/psql', '/usr/lib/postgresql/15/bin/psql']) {
    try {
      execFileSync(p, ['--version'], { stdio: 'ignore' });
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Run `\copy (query) to stdout` and return the wall time in ms. */
export function timePsqlCopy(url: string, query: string): Promise<number> {
  const psql = psqlPath();
  if (!psql) throw new Error('psql is missing (install postgresql-client): the read benchmark needs it as its baseline');
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', `\\copy (${query}) to stdout`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`psql exited with ${code}: ${err}`))));
  });
}

/** Run a bash command line (pipefail), timed from spawn to exit; rejects with its stderr when it fails. */
export function timeShell(cmd: string, env: Record<string, string> = {}): Promise<{ ms: number; out: string }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', cmd], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve({ ms: performance.now() - start, out }) : reject(new Error(`${cmd.slice(0, 80)}… failed: ${err}`))));
  });
}

/**
 * The initial-load baseline: `psql \copy (SELECT * FROM sourceTable) to stdout` piped into
 * `psql \copy targetTable from stdin`, both in binary format; wall time in ms.
 */
export async function timeBinaryPipe(sourceUrl: string, sourceTable: string, targetUrl: string, targetTable: string): Promise<number> {
  const psql = psqlPath();
  if (!psql) throw new Error('psql is missing (install postgresql-client): the load benchmarks need it as their baseline');
  const r = await timeShell(
    `${psql} -X -q -v ON_ERROR_STOP=1 -d "$SRC" -c "\\copy (SELECT * FROM ${sourceTable}) to stdout with (format binary)" | ${psql} -X -q -v ON_ERROR_STOP=1 -d "$TGT" -c "\\copy ${targetTable} from stdin with (format binary)"`,
    { SRC: sourceUrl, TGT: targetUrl },
  );
  return r.ms;
}

/**
 * The initial-sync comparison both load benchmarks make, by the method: `rounds` interleaved
 * rounds of the pipe (into a fresh `base` table of `ddl`) and a whole `tablesync apply FLOW` command,
 * a CHECKPOINT before each, so neither pays for the other's dirty buffers. Every round's apply is an
 * initial load: the flow is dropped after it, except after the last when `keepLast` (the caller goes
 * on with the flow). `check` runs after each apply, before any drop. Times in ms, in round order.
 */
export async function pipeAndApplyRounds(o: {
  sourceUrl: string; sourceTable: string; targetUrl: string; ddl: string; flowFile: string; rounds: number;
  checkpoint: () => Promise<unknown>; targetSql: (sql: string) => Promise<unknown>; keepLast: boolean; check?: () => Promise<void>;
}): Promise<{ pipe: number[]; apply: number[] }> {
  const pipe: number[] = [];
  const apply: number[] = [];
  for (let r = 0; r < o.rounds; r++) {
    await o.targetSql(`DROP TABLE IF EXISTS base; CREATE TABLE base ${o.ddl}`);
    await o.checkpoint();
    pipe.push(await timeBinaryPipe(o.sourceUrl, o.sourceTable, o.targetUrl, 'base'));
    await o.targetSql('DROP TABLE base');
    await o.checkpoint();
    apply.push((await timeShell(`node bin/tablesync.mjs apply "${o.flowFile}"`, {})).ms);
    await o.check?.();
    if (r < o.rounds - 1 || !o.keepLast) {
      await timeShell(`node bin/tablesync.mjs drop "${o.flowFile}" --allow-destructive`, {});
      await o.checkpoint();
    }
  }
  return { pipe, apply };
}
