import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourceAndTarget, type Pair } from './target-fixture';
import { runCli } from '../support/cli';

// The CLI over real databases: `node bin/tablesync.mjs plan|apply|drop FLOW.json`, its output and
// its exit status (0 done; 2 invalid input, nothing written; 1 anything else, saying the target's state).

const run = runCli;

describe('tablesync plan | apply | drop', () => {
  let t: Pair;
  let dir: string;
  const file = (name: string, content: unknown) => {
    const p = join(dir, name);
    writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
    return p;
  };
  const flow = (over: { source?: object; target?: object } = {}) => ({
    version: 1,
    name: 'cli_flow',
    source: { connection: { env: 'CLI_SOURCE_URL' }, table: 'items', ...over.source },
    target: { connection: { url: t.tgt.url }, table: 'items', ...over.target },
  });
  const env = () => ({ CLI_SOURCE_URL: t.src.url });
  beforeAll(async () => {
    t = await sourceAndTarget();
    dir = mkdtempSync(join(tmpdir(), 'tablesync-cli-'));
    await t.src.sql(`CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(8,2))`);
    await t.src.sql(`INSERT INTO items SELECT g, 'n' || g, g FROM generate_series(1, 30) g`);
    await t.src.sql(`CREATE TYPE mood AS ENUM ('a'); CREATE TABLE moods (id int PRIMARY KEY, m mood)`);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('exit 2 for invalid input, naming the problem', async () => {
    const notJson = await run(['plan', file('bad.json', '{ nope')]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('is not JSON');
    const invalid = await run(['plan', file('invalid.json', { version: 1, name: 'x', source: { connection: { url: 'postgres://h/db' } }, target: { connection: { url: 'postgres://h/db' }, table: 't', managedBy: 'nobody' } })]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/source\.table: .*;.*target\.managedBy/);
    const opt = await run(['apply', file('ok.json', flow()), '--force']);
    expect(opt).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown option --force') });
    const noEnv = await run(['plan', file('ok.json', flow())]);
    expect(noEnv).toMatchObject({ code: 2, stderr: expect.stringContaining('CLI_SOURCE_URL is not set') });
    const noTable = await run(['plan', file('nt.json', flow({ source: { table: 'missing' } }))], env());
    expect(noTable.code).toBe(2);
    const blocked = await run(['plan', file('enum.json', flow({ source: { table: 'moods' }, target: { table: 'moods' } }))], env());
    expect(blocked.code).toBe(2);
    expect(blocked.stdout).toContain('Cannot apply until fixed');
    expect(blocked.stderr).toContain('column "m" has type mood');
    expect((await t.tgt.sql(`SELECT to_regnamespace('tablesync') AS s`)).rows[0].s).toBeNull();
  });

  it('plan, apply, plan again, drop', async () => {
    const f = file('flow.json', flow());
    const plan = await run(['plan', f], env());
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('Plan for flow "cli_flow"');
    expect(plan.stdout).toContain('CREATE TABLE "public"."items"');
    expect(plan.stdout).toContain('Rows: 30 to insert');
    const json = await run(['plan', f, '--json'], env());
    expect(JSON.parse(json.stdout).rows).toMatchObject({ insert: 30 });
    const apply = await run(['apply', f, '--json'], env());
    expect(apply.code).toBe(0);
    expect(JSON.parse(apply.stdout)).toMatchObject({ flow: 'cli_flow', rows: { insert: 30 } });
    const human = await run(['apply', f], env());
    expect(human.stdout).toContain('30 unchanged');

    const narrower = file('narrow.json', flow({ source: { includedColumns: ['name'] } }));
    const refused = await run(['apply', narrower], env());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('which run only when allowed');
    expect(refused.stderr).toContain('to allow it: rerun with --allow-destructive');
    expect(refused.stderr).toContain('target: unchanged');
    expect((await run(['apply', narrower, '--allow-destructive'], env())).code).toBe(0);

    // the table holds rows: like apply, drop deletes data only when allowed (no TTY here to ask)
    const keep = await run(['drop', narrower, '--json'], env());
    expect(keep.code).toBe(2);
    expect(keep.stderr).toContain('to allow it: rerun with --allow-destructive');
    expect(keep.stderr).toContain('target: unchanged');
    // the engine's refusal is neutral and structured: the CLI adds its flag, the JSON carries the permission
    const keepJson = JSON.parse(keep.stdout).error;
    expect(keepJson.code).toBe('DESTRUCTIVE_NOT_ALLOWED');
    expect(keepJson.message).toContain('would delete data, which runs only when allowed');
    expect(keepJson.message).not.toContain('--allow-destructive');
    expect(keepJson.detail).toMatchObject({ allow: 'allowDestructive', action: 'drop', subject: 'flow "cli_flow"' });
    expect((await t.tgt.sql(`SELECT count(*) AS n FROM items`)).rows[0].n).not.toBe('0');
    const drop = await run(['drop', narrower, '--allow-destructive', '--json'], env());
    expect(drop.code).toBe(0);
    expect(JSON.parse(drop.stdout).steps.map((s: { kind: string }) => s.kind)).toEqual(['drop-table', 'state']);
    expect((await t.tgt.sql(`SELECT to_regclass('public.items') AS r`)).rows[0].r).toBeNull();
  });

  it('exit 1 when a server cannot be reached, saying the target is unchanged', async () => {
    const f = file('down.json', { ...flow(), target: { connection: { url: 'postgres://nobody@127.0.0.1:1/x?connect_timeout=2' }, table: 'items' } });
    const r = await run(['apply', f], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/target: unchanged/);
  });
});
