#!/usr/bin/env node
// `npx tablesync …`: runs the TypeScript CLI through tsx, so no build step stands between
// `npm install` and the first command.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

register();
const here = dirname(fileURLToPath(import.meta.url));
const { main } = await import(join(here, '..', 'cli', 'main.ts'));
process.exitCode = await main(process.argv.slice(2));
