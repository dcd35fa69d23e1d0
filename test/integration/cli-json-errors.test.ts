import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourceAndTarget, type Pair } from './target-fixture';
import { runCli } from '../support/cli';

// Issue 9 C2/D3/E2 through the CLI: `plan --json` on a refused flow prints the error as JSON on
// stdout (as apply --json does), exit 2; no password or environment value in any output; a filter
// that ends its own session is exit 2, blamed on the filter.

const run = runCli;

describe('CLI: errors as JSON, nothing secret', () => {
  let t: Pair;
  let dir: string;
  const file = (name: string, content: unknown) => {
    const p = join(dir, name);
    writeFileSync(p, JSON.stringify(content));
    return p;
  };
  const flow = (source: object, target: object = {}) => ({
    version: 1, name: 'cli_json',
    source: { connection: { url: t.src.url }, table: 'items', ...source },
    target: { connection: { url: t.tgt.url }, table: 'items', ...target },
  });
  beforeAll(async () => {
    t = await sourceAndTarget('cj');
    dir = mkdtempSync(join(tmpdir(), 'tablesync-clijson-'));
    await t.src.sql(`CREATE TABLE items (id int PRIMARY KEY, name text)`);
    await t.src.sql(`INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 10) g`);
    await t.src.sql(`CREATE SEQUENCE items_seq`);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('plan --json on a refused flow prints the JSON error on stdout, exit 2', async () => {
    const r = await run(['plan', file('missing.json', flow({ table: 'nope' })), '--json']);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; message: string; target: string } };
    expect(out).toMatchObject({ ok: false, error: { code: 'NOT_FOUND', target: 'unchanged (nothing was written)' } });
    expect(out.error.message).toContain('"public"."nope" does not exist');
    expect(r.stderr).toContain('does not exist');

    const seq = await run(['plan', file('seq.json', flow({ table: 'items_seq' })), '--json']);
    expect(seq.code).toBe(2);
    expect(JSON.parse(seq.stdout).error.message).toContain('is a sequence, not a table');
  });

  it('a filter that ends its own session: exit 2, blamed on the filter', async () => {
    for (const cmd of ['plan', 'apply']) {
      const r = await run([cmd, file('kill.json', flow({ filter: 'pg_terminate_backend(pg_backend_pid())' })), '--json']);
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'FILTER_INVALID', message: expect.stringContaining('the filter ended its own database session') });
    }
    expect((await t.tgt.sql(`SELECT to_regnamespace('tablesync') AS s`)).rows[0].s).toBeNull();
  });

  it('no password or environment value in any output', async () => {
    const dsn = await run(['plan', file('dsn.json', { ...flow({}), source: { connection: { env: 'SRC_DSN' }, table: 'items' } }), '--json'], { SRC_DSN: 'host=127.0.0.1 password=envSecret42 dbname=x' });
    expect(dsn.code).toBe(2);
    expect(dsn.stdout + dsn.stderr).not.toContain('envSecret42');
    expect(dsn.stderr).toContain('environment variable SRC_DSN');
    const path = await run(['plan', file('path.json', { ...flow({}), source: { connection: { env: 'PATH' }, table: 'items' } })]);
    expect(path.code).toBe(2);
    expect(path.stderr).not.toContain(process.env.PATH!);
    const typo = await run(['apply', file('typo.json', { ...flow({}), target: { connection: { url: 'postgress://app:typoSecret9@127.0.0.1/x' }, table: 'items' } }), '--json']);
    expect(typo.code).toBe(2);
    expect(typo.stdout + typo.stderr).not.toContain('typoSecret9');
  });
});
