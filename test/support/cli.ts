/** Running the CLI as a user does: `node bin/tablesync.mjs …` in a child process, its exit status and output. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const CLI_BIN = join(__dirname, '..', '..', 'bin', 'tablesync.mjs');

/** `tablesync ARGS` with `env` over this process's environment; exit code (1 when killed), stdout, stderr. */
export function runCli(args: string[], env: Record<string, string> = {}, opts: { timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_BIN, ...args], { env: { ...process.env, ...env }, timeout: opts.timeoutMs ?? 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
