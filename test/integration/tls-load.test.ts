import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianBinaries, embeddedBinaries, startPostgres, type RunningPg } from '../../core/embedded/pg-server';
import { createPool } from '../../core/connections/pool';
import { openFlow, parseFlow } from '../../core/flow/load';
import { connectionResolver } from '../../core/flow/resolver';
import { applyFlow } from '../../core/target';
import { waitForSameRows, watch } from '../support/live';

// Users' production servers speak TLS. The initial load relays the source's COPY messages to the
// target without parsing them (core/sql/copy-relay.ts, on the connections' sockets): over TLS
// (sslmode=require on both sides, a server of this project's version with a self-signed
// certificate), a parallel binary load and a text one land exactly the source's rows, and every
// connection the flow opened was encrypted; and a logical-replication watch streams over TLS.
describe('initial load and logical capture over TLS', () => {
  let server: RunningPg;
  let dir: string;
  const url = (db: string) => `${server.url(db)}${server.url(db).includes('?') ? '&' : '?'}sslmode=require`;

  beforeAll(async () => {
    const binaries = inject('pgLabel').includes('PostgreSQL 15') ? debianBinaries(15) : await embeddedBinaries();
    if (!binaries) throw new Error('PostgreSQL binaries not found');
    server = await startPostgres({ binaries, fast: true, settings: { wal_level: 'logical', max_replication_slots: 4, max_wal_senders: 4 } });
    dir = mkdtempSync(join(tmpdir(), 'tablesync-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.crt')], { stdio: 'ignore' });
    // the server reads its key only when owned by its own account with no group/other access
    const owner = statSync(server.dataDir);
    for (const f of ['server.key', 'server.crt']) {
      copyFileSync(join(dir, f), join(server.dataDir, f));
      chownSync(join(server.dataDir, f), owner.uid, owner.gid);
      chmodSync(join(server.dataDir, f), 0o600);
    }
    const admin = createPool(server.url(), { max: 1 });
    try {
      await admin.query(`ALTER SYSTEM SET ssl = on`);
      await admin.query(`SELECT pg_reload_conf()`);
      await admin.query('CREATE DATABASE src');
      await admin.query('CREATE DATABASE tgt');
    } finally {
      await admin.end();
    }
    const src = createPool(url('src'), { max: 1 });
    try {
      const { rows } = await src.query<{ ssl: string }>(`SELECT ssl::text AS ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`);
      expect(rows[0]!.ssl).toBe('true');
      await src.query(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`);
      await src.query(`CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(12,2), at timestamptz, tags text[], m mood, doc jsonb)`);
      await src.query(`INSERT INTO items SELECT g, 'item ' || g || repeat('·', g % 50), g / 7.0, '2026-01-01 00:00:00.123456+00'::timestamptz + g * interval '1 second',
        ARRAY['a' || g, NULL], (ARRAY['sad','ok','happy'])[1 + g % 3]::mood, jsonb_build_object('g', g) FROM generate_series(1, 20000) g`);
      // a domain column makes the load go as text COPY
      await src.query(`CREATE DOMAIN posint AS integer CHECK (VALUE > 0)`);
      await src.query(`CREATE TABLE items_dom AS SELECT id, name, price, at, tags, m, doc, (id % 9 + 1)::posint AS p FROM items`);
      await src.query(`ALTER TABLE items_dom ADD PRIMARY KEY (id)`);
      await src.query('ANALYZE');
    } finally {
      await src.end();
    }
    const tgt = createPool(url('tgt'), { max: 1 });
    try {
      await tgt.query(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE DOMAIN posint AS integer CHECK (VALUE > 0)`);
    } finally {
      await tgt.end();
    }
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const digest = async (u: string, table: string) => {
    const p = createPool(u, { max: 1 });
    try {
      return (await p.query(`SELECT count(*)::text AS n, md5(string_agg(ROW(id, name, price, at, tags, m::text, doc)::text, ',' ORDER BY id)) AS h FROM ${table}`)).rows[0];
    } finally {
      await p.end();
    }
  };

  it.each([
    ['binary', 'items', 'items_bin'],
    ['text', 'items_dom', 'items_text'],
  ] as const)('a 3-stream %s load lands exactly, over encrypted connections only', async (format, source, table) => {
    const flow = parseFlow({ version: 1, name: `tls_${format}`, source: { connection: { url: url('src') }, table: source }, target: { connection: { url: url('tgt') }, table }, load: { streams: 3 } });
    const ctx = await openFlow(flow, connectionResolver());
    try {
      const r = await applyFlow(ctx);
      expect(r.initialLoad).toEqual({ how: `3 streams, ${format} COPY` });
      expect(r.rows.insert).toBe(20000);
      expect(await digest(url('tgt'), table)).toEqual(await digest(url('src'), source));
      const admin = createPool(server.url(), { max: 1 });
      try {
        const { rows } = await admin.query<{ plain: string }>(`SELECT count(*)::text AS plain FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname IN ('src', 'tgt') AND NOT s.ssl`);
        expect(rows[0]!.plain).toBe('0');
      } finally {
        await admin.end();
      }
    } finally {
      await ctx.close();
    }
  });

  it('a logical-replication watch streams changes over an encrypted replication connection', async () => {
    const flow = parseFlow({ version: 1, name: 'tls_logical', source: { connection: { url: url('src') }, table: 'items', replication: {} }, target: { connection: { url: url('tgt') }, table: 'items_logical' } });
    const ctx = await openFlow(flow, connectionResolver());
    const w = watch(ctx);
    const src = createPool(url('src'), { max: 1 });
    const tgt = createPool(url('tgt'), { max: 1 });
    const admin = createPool(server.url(), { max: 1 });
    try {
      await w.live();
      const { rows } = await admin.query<{ ssl: string }>(`SELECT s.ssl::text AS ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid)`);
      expect(rows.map((r) => r.ssl)).toEqual(['true']);
      await src.query(`UPDATE items SET name = name || ' (tls)' WHERE id % 100 = 0; DELETE FROM items WHERE id % 250 = 1; INSERT INTO items (id, name) VALUES (30001, 'new')`);
      await waitForSameRows('target = source over TLS', src, `SELECT id, name, price, at::text, tags, m::text, doc::text FROM items`, tgt, `SELECT id, name, price, at::text, tags, m::text, doc::text FROM items_logical`);
    } finally {
      await w.stop();
      await src.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active`).catch(() => {});
      for (const p of [src, tgt, admin]) await p.end();
      await ctx.close();
    }
  });
});
