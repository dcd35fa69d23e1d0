/**
 * `tablesync serve [--host 127.0.0.1] [--port N] [--demo]`: the app in a browser. Prints the one URL
 * to open (it carries the access token) and serves until SIGINT/SIGTERM or until its parent
 * process goes away.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { openEngine, packageRoot } from '../../core/app/open';
import { startWsServer } from '../../core/api/transport.ws';
import { TableSyncError } from '../../core/errors';
import type { Command } from '../command';
import { forceExitIfStuck, watchForStop } from '../stop';

const command: Command = async (argv) => {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' }, demo: { type: 'boolean', default: false } },
      strict: true,
    }));
  } catch (e) {
    throw new TableSyncError('INVALID_INPUT', (e as Error).message);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TableSyncError('INVALID_INPUT', `--port must be a port number, not "${values.port}"`);

  const root = packageRoot();
  const staticDir = join(root, 'dist', 'renderer');
  // First run from a fresh clone: build the UI once (vite is a dev dependency; without it the page
  // served says how to build).
  if (!existsSync(join(staticDir, 'index.html')) && existsSync(join(root, 'renderer', 'vite.config.ts'))) {
    process.stderr.write('Building the user interface (first run only)...\n');
    const r = spawnSync('npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) process.stderr.write('Building the user interface failed; the page will say how to build it by hand.\n');
  }
  const engine = openEngine({ mode: 'browser' });
  let server;
  try {
    server = await startWsServer({ engine, host: values.host, port, staticDir });
    if (values.demo) {
      process.stderr.write('Starting the demo databases (the first start creates and seeds them)...\n');
      const status = await engine.demo.start();
      process.stderr.write(`Demo ready: connections "Demo source" and "Demo target (pgvector)", flow "${status.flowName ?? ''}".\n`);
    }
  } catch (e) {
    await server?.close();
    await engine.close();
    throw e;
  }
  const secrets = engine.secrets.status();
  process.stdout.write(`TableSync is running. Open:\n\n  ${server.url}\n\n`);
  process.stderr.write(`Data folder: ${engine.dataDir}\n`);
  if (secrets.warning) process.stderr.write(`Note: ${secrets.warning}\n`);
  process.stderr.write('Press Ctrl+C to stop.\n');

  const why = await watchForStop().requested;
  process.stderr.write(`Stopping (${why})...\n`);
  // A second Ctrl+C, or a shutdown that hangs (a server that stopped answering), exits with 130.
  const unguard = forceExitIfStuck();
  await server.close();
  await engine.close();
  unguard();
  return 0;
};
export default command;
