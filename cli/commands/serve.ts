/**
 * `tablesync serve [--host 127.0.0.1] [--port N] [--demo]`: the app in a browser. Prints the one URL
 * to open (it carries the access token) and serves until SIGINT/SIGTERM or until its parent
 * process goes away.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { openEngine, packageRoot } from '../../core/app/open';
import { startWsServer } from '../../core/api/transport.ws';
import { TableSyncError } from '../../core/errors';
import type { Command } from '../command';
import { forceExitIfStuck, watchForStop } from '../stop';
import { prepareRenderer } from '../../scripts/renderer-build.mjs';

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
  // Build the UI on a fresh clone, rebuild it when its sources changed since (a pull): never serve a stale one.
  try {
    prepareRenderer(root);
  } catch (e) {
    throw new TableSyncError('INTERNAL', (e as Error).message);
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
