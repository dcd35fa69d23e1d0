import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { freshDatabase, type TestDatabase } from '../support/db';
import { runCli } from '../support/cli';

// A database that is read-only for TableSync's sessions (default_transaction_read_only, as a DBA
// sets it to keep writers out, or a standby in recovery): what must be written there fails at once
// with exit 2 and what to do, not a reconnect loop; reading from it still works.
describe('a read-only database', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  let ro: TestDatabase;
  const dir = mkdtempSync(join(tmpdir(), 'ts-ro-'));
  beforeAll(async () => {
    src = await freshDatabase('ro_src');
    tgt = await freshDatabase('ro_tgt');
    ro = await freshDatabase('ro_tgt_ro');
    await src.sql(`CREATE TABLE t (id int PRIMARY KEY, v text)`);
    await src.sql(`INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 10) g`);
    for (const d of [src, ro]) await d.sql(`ALTER DATABASE ${d.name} SET default_transaction_read_only = on`);
  });
  afterAll(async () => {
    await src?.drop();
    await tgt?.drop();
    await ro?.drop();
  });
  const flow = (name: string, target: TestDatabase, capture: Record<string, unknown> = {}) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ version: 1, name, source: { connection: { url: src.url }, table: 't', ...capture }, target: { connection: { url: target.url }, table: name } }));
    return file;
  };

  it('a read-only source: apply reads it; trigger capture fails at once (exit 2), naming the setting and logical capture; nothing is created', async () => {
    const file = flow('ro_watch', tgt, { notification: {} });
    expect((await runCli(['apply', file])).code).toBe(0);
    const r = await runCli(['watch', file], {}, { timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/read-only.*default_transaction_read_only.*logical replication/s);
    expect((await src.sql(`SELECT count(*) AS n FROM pg_trigger WHERE tgrelid = 't'::regclass`)).rows[0].n).toBe('0');
  });

  it('a read-only target: apply fails (exit 2), naming the setting', async () => {
    const r = await runCli(['apply', flow('ro_apply', ro)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/read-only.*default_transaction_read_only/s);
  });
});
