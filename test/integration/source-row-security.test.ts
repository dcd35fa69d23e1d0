import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { freshDatabase, serverUrl, withDatabase, type TestDatabase } from '../support/db';
import { createPool } from '../../core/connections/pool';
import { resolveSource } from '../../core/source';
import { runCli } from '../support/cli';

// Row-level security on a source table decides which rows the connecting role may read: every read
// (the load, the catch-ups, the live re-reads) would see only those, and a sync would copy part of
// the table and never say so. Refused before anything is written, as pg_dump refuses
// (row_security = off); a role that sees every row syncs it all.
describe('a source table with row-level security', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  const suffix = randomBytes(4).toString('hex');
  const limited = `rls_lim_${suffix}`;
  const bypass = `rls_byp_${suffix}`;
  const pools: pg.Pool[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ts-rls-'));
  const as = (role: string) => { const u = new URL(withDatabase(src.url, src.name)); u.username = role; return u.toString(); };

  beforeAll(async () => {
    src = await freshDatabase('rls_src');
    tgt = await freshDatabase('rls_tgt');
    await src.sql(`CREATE ROLE ${limited} LOGIN`);
    await src.sql(`CREATE ROLE ${bypass} LOGIN BYPASSRLS`);
    await src.sql(`CREATE TABLE accounts (id int PRIMARY KEY, tenant int NOT NULL, v text)`);
    await src.sql(`INSERT INTO accounts SELECT g, 1 + g % 3, 'v' || g FROM generate_series(1, 30) g`);
    await src.sql(`ALTER TABLE accounts ENABLE ROW LEVEL SECURITY`);
    await src.sql(`CREATE POLICY tenant_one ON accounts USING (tenant = 1)`);
    await src.sql(`GRANT SELECT ON accounts TO ${limited}, ${bypass}`);
  });
  afterAll(async () => {
    for (const p of pools) await p.end().catch(() => {});
    await src?.drop();
    await tgt?.drop();
    const admin = new pg.Client({ connectionString: serverUrl() });
    await admin.connect();
    try {
      for (const r of [limited, bypass]) await admin.query(`DROP ROLE IF EXISTS ${r}`);
    } finally {
      await admin.end();
    }
  });

  const flowFile = (name: string, sourceUrl: string) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ version: 1, name, source: { connection: { url: sourceUrl }, table: 'accounts' }, target: { connection: { url: tgt.url }, table: name } }));
    return file;
  };
  const targetExists = async (table: string) => (await tgt.sql(`SELECT to_regclass($1) IS NOT NULL AS t`, [table])).rows[0].t === 't';

  it('a role the policies limit: refused with what to do, naming the table and the role; apply exits 2 and writes nothing', async () => {
    const pool = createPool(as(limited), { max: 1 });
    pools.push(pool);
    await expect(resolveSource(pool, { table: 'accounts' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringMatching(new RegExp(`row-level security on "?public"?\\."?accounts"? .*role "${limited}".*BYPASSRLS.*source\\.filter`)) });
    const r = await runCli(['apply', flowFile('rls_limited', as(limited))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/row-level security/);
    expect(await targetExists('rls_limited')).toBe(false);
  });

  it('the owner forced under its own policies (FORCE ROW LEVEL SECURITY): refused too', async () => {
    await src.sql(`ALTER TABLE accounts FORCE ROW LEVEL SECURITY`);
    try {
      // the test database's owner (the server's superuser bypasses policies: a plain owner role is needed)
      const owner = `rls_own_${suffix}`;
      await src.sql(`CREATE ROLE ${owner} LOGIN`);
      try {
        await src.sql(`CREATE TABLE owned (id int PRIMARY KEY, tenant int)`);
        await src.sql(`ALTER TABLE owned OWNER TO ${owner}`);
        await src.sql(`ALTER TABLE owned ENABLE ROW LEVEL SECURITY`);
        await src.sql(`ALTER TABLE owned FORCE ROW LEVEL SECURITY`);
        const pool = createPool(as(owner), { max: 1 });
        pools.push(pool);
        await expect(resolveSource(pool, { table: 'owned' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringMatching(/row-level security/) });
        await src.sql(`ALTER TABLE owned NO FORCE ROW LEVEL SECURITY`);
        await expect(resolveSource(pool, { table: 'owned' })).resolves.toMatchObject({ table: 'owned' });
        await src.sql(`DROP TABLE owned`);
      } finally {
        await endPoolsAndDrop(owner);
      }
    } finally {
      await src.sql(`ALTER TABLE accounts NO FORCE ROW LEVEL SECURITY`);
    }
  });

  it('a role WITH BYPASSRLS syncs every row', async () => {
    const r = await runCli(['apply', flowFile('rls_bypass', as(bypass))]);
    expect(r.code, r.stderr).toBe(0);
    expect(Number((await tgt.sql(`SELECT count(*) AS n FROM rls_bypass`)).rows[0].n)).toBe(30);
  });

  async function endPoolsAndDrop(role: string) {
    for (const p of pools.splice(0)) await p.end().catch(() => {});
    await src.sql(`DROP OWNED BY ${role}`).catch(() => {});
    await src.sql(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
  }
});
