// Types of scripts/build-cli.mjs (plain JS: bin/tablesync.mjs loads it before any TypeScript runs).
export function cliDistDir(root?: string): string;
export function currentCliBuild(root?: string): string | null;
export function buildCli(root?: string): Promise<string>;
