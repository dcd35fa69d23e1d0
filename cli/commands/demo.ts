/**
 * `tablesync demo [--reset] [--activity]`: start the built-in demo databases (created and seeded on
 * first run, kept in the data folder), register them as saved connections with a ready-made flow,
 * print their URLs, and keep them running until Ctrl+C. `--reset` starts from fresh data.
 */
import { parseArgs } from 'node:util';
import { openEngine } from '../../core/app/open';
import { DEMO_FLOW_NAME } from '../../core/demo/demo-flow';
import { TableSyncError } from '../../core/errors';
import type { Command } from '../command';
import { forceExitIfStuck, watchForStop } from '../stop';

const command: Command = async (argv) => {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { reset: { type: 'boolean', default: false }, activity: { type: 'boolean', default: false } }, strict: true }));
  } catch (e) {
    throw new TableSyncError('INVALID_INPUT', (e as Error).message);
  }
  const engine = openEngine({ mode: 'browser' });
  try {
    process.stderr.write(values.reset ? 'Resetting the demo databases...\n' : 'Starting the demo databases (the first start seeds them)...\n');
    if (values.reset) await engine.demo.reset();
    else await engine.demo.start();
    const urls = engine.demo.urls()!;
    process.stdout.write(`Demo source (PostgreSQL 18):       ${urls.source}\nDemo target (PGlite + pgvector):   ${urls.target}\n`);
    process.stderr.write(`Saved as connections "Demo source" and "Demo target (pgvector)", with the flow "${DEMO_FLOW_NAME}".\n`);
    process.stderr.write('The target serves one connection at a time. Data folder: ' + engine.demo.dir + '\n');
    if (values.activity) {
      engine.demo.activityStart(3);
      process.stderr.write('Simulated activity: about 3 writes per second on the source.\n');
    }
    process.stderr.write('Press Ctrl+C to stop (the data is kept).\n');
    await watchForStop().requested;
    return 0;
  } finally {
    const unguard = forceExitIfStuck();
    await engine.close();
    unguard();
  }
};
export default command;
