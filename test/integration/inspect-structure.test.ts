import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, type TestDatabase } from '../support/db';
import { Engine } from '../../core/app/engine';
import { createDispatcher, type Dispatcher } from '../../core/api/dispatcher';
import { MemorySecretStore } from '../../core/settings/secret-store';
import type { SavedConnection } from '../../core/api/contract';
import type { DatabaseInfo, SchemaObjects, TableStructure } from '../../core/api/contract.inspect';
import { ensureCapture } from '../../core/live/capture';
import { captureNames } from '../../core/live/channel';
import { call } from '../support/api';

// The Structure tab's data through the API, against a real server: enums, domains, generated and
// identity columns, partitions, foreign keys both ways, indexes with sizes, TableSync's triggers,
// and DDL that recreates the table when run elsewhere.
describe('inspect.structure', () => {
  let db: TestDatabase;
  let replay: TestDatabase;
  let dataDir: string;
  let engine: Engine;
  let api: Dispatcher;
  let conn: SavedConnection;
  const structure = (table: string, schema = 'public') => call<TableStructure>(api, 'inspect.structure', { connectionId: conn.id, schema, table });

  beforeAll(async () => {
    db = await freshDatabase('insp');
    replay = await freshDatabase('insp_replay');
    await db.sql(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`);
    await db.sql(`CREATE DOMAIN positive AS numeric(12,2) CHECK (VALUE > 0)`);
    await db.sql(`CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE, "Display Name" text)`);
    await db.sql(`COMMENT ON TABLE customers IS 'people who buy'`);
    await db.sql(`COMMENT ON COLUMN customers.email IS 'login; unique'`);
    await db.sql(`CREATE TABLE orders (
      id serial PRIMARY KEY,
      customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
      feeling mood DEFAULT 'ok',
      price positive NOT NULL,
      qty integer NOT NULL DEFAULT 1 CONSTRAINT qty_positive CHECK (qty > 0),
      total numeric GENERATED ALWAYS AS (price * qty) STORED,
      note text COLLATE "C"
    )`);
    await db.sql(`CREATE INDEX orders_customer_idx ON orders (customer_id) WHERE qty > 1`);
    await db.sql(`INSERT INTO customers (email) SELECT 'c' || g || '@x' FROM generate_series(1, 50) g`);
    await db.sql(`INSERT INTO orders (customer_id, price, qty) SELECT 1 + g % 50, 9.5, 1 + g % 3 FROM generate_series(1, 300) g`);
    await db.sql(`ANALYZE customers`);
    await db.sql(`ANALYZE orders`);
    await db.sql(`CREATE TABLE events (id bigint, at date NOT NULL, body text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)`);
    await db.sql(`CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`);
    await db.sql(`CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')`);
    await db.sql(`INSERT INTO events SELECT g, date '2025-06-01' + (g % 400), 'e' FROM generate_series(1, 200) g`);
    await db.sql(`ANALYZE events`);
    await db.sql(`CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE qty > 1`);
    await db.sql(`CREATE MATERIALIZED VIEW order_totals AS SELECT customer_id, sum(total) AS total FROM orders GROUP BY customer_id`);
    await db.sql(`CREATE FUNCTION add_one(i integer) RETURNS integer LANGUAGE sql AS 'SELECT i + 1'`);
    await db.sql(`CREATE PROCEDURE noop() LANGUAGE sql AS 'SELECT 1'`);
    // Someone else's trigger named like ours: not ours (its function is not marked).
    await db.sql(`CREATE FUNCTION audit_n() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'`);
    await db.sql(`CREATE TRIGGER audit_t AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION audit_n()`);
    // TableSync's own capture, default channel and a custom one.
    await ensureCapture(db.pool, { flow: 'orders_search', schema: 'public', table: 'orders', keyColumns: ['id'] }, captureNames('orders_search', 'orders'));
    await ensureCapture(db.pool, { flow: 'crm', schema: 'public', table: 'customers', keyColumns: ['id'] }, captureNames('crm', 'customers', 'crm_changes'));

    dataDir = mkdtempSync(join(tmpdir(), 'tablesync-insp-'));
    engine = new Engine({ dataDir, mode: 'browser', secrets: new MemorySecretStore() });
    api = createDispatcher(engine);
    conn = await call<SavedConnection>(api, 'connections.save', { name: 'src', connection: { url: db.url } });
    engine.settings.putFlow({
      version: 1, name: 'crm',
      source: { connection: { saved: conn.id }, schema: 'public', table: 'customers', notification: { channelName: 'crm_changes' } },
      target: { connection: { saved: conn.id }, schema: 'public', table: 'crm_target', managedBy: 'system' },
    } as never);
  });
  afterAll(async () => {
    await engine?.close();
    await db?.drop();
    await replay?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('describes columns: exact types, nullability, defaults, identity, generated, enum, domain, collation, comments', async () => {
    const o = await structure('orders');
    const col = (n: string) => o.columns.find((c) => c.name === n)!;
    expect(col('id')).toMatchObject({ type: 'integer', nullable: false, keyPosition: 1 });
    expect(col('id').default).toMatch(/^nextval\('public\.orders_id_seq'::regclass\)$/);
    expect(col('feeling')).toMatchObject({ type: 'public.mood', category: 'enum', enumLabels: ['sad', 'ok', 'happy'], nullable: true });
    expect(col('price')).toMatchObject({ type: 'public.positive', category: 'domain', domainBaseType: 'numeric(12,2)' });
    expect(col('total')).toMatchObject({ generated: true, default: '((price)::numeric * (qty)::numeric)' });
    expect(col('note').collation).toBe('pg_catalog."C"');
    const c = await structure('customers');
    expect(c.columns.find((x) => x.name === 'id')).toMatchObject({ identity: 'always', generated: false });
    expect(c.columns.find((x) => x.name === 'email')?.comment).toBe('login; unique');
    expect(c.comment).toBe('people who buy');
  });

  it('lists constraints and foreign keys in both directions', async () => {
    const o = await structure('orders');
    expect(o.constraints.map((k) => [k.kind, k.name])).toEqual([
      ['primary key', 'orders_pkey'],
      ['check', 'qty_positive'],
      ['foreign key', 'orders_customer_id_fkey'],
    ]);
    expect(o.constraints.find((k) => k.kind === 'check')).toMatchObject({ columns: ['qty'], definition: 'CHECK ((qty > 0))' });
    expect(o.foreignKeys).toEqual([expect.objectContaining({
      name: 'orders_customer_id_fkey', fromTable: 'orders', fromColumns: ['customer_id'], toSchema: 'public', toTable: 'customers', toColumns: ['id'], onDelete: 'CASCADE', onUpdate: 'NO ACTION',
    })]);
    expect(o.referencedBy).toEqual([]);
    const c = await structure('customers');
    expect(c.referencedBy).toEqual([expect.objectContaining({ fromSchema: 'public', fromTable: 'orders', fromColumns: ['customer_id'], toTable: 'customers' })]);
    expect(c.constraints.map((k) => k.kind)).toEqual(['primary key', 'unique']);
  });

  it('lists indexes with definitions, the constraint they back and their size; table size and estimate', async () => {
    const o = await structure('orders');
    expect(o.indexes.map((i) => i.name)).toEqual(['orders_pkey', 'orders_customer_idx']);
    expect(o.indexes[0]).toMatchObject({ primary: true, unique: true, constraint: 'orders_pkey', method: 'btree', valid: true });
    expect(o.indexes[1]!.definition).toBe('CREATE INDEX orders_customer_idx ON public.orders USING btree (customer_id) WHERE (qty > 1)');
    expect(o.indexes[0]!.sizeBytes).toBeGreaterThan(0);
    expect(o.estimatedRows).toBe(300);
    expect(o.sizes.tableBytes).toBeGreaterThan(0);
    expect(o.sizes.totalBytes).toBe(o.sizes.tableBytes + o.sizes.indexBytes);
  });

  it("marks TableSync's capture triggers with their flow, and leaves look-alikes unmarked", async () => {
    const o = await structure('orders');
    const t = (n: string) => o.triggers.find((x) => x.name === n)!;
    expect(t('audit_t').tablesync).toBeUndefined();
    expect(t('orders_search__orders__tablesync_t').tablesync).toEqual({ role: 'row', channel: 'orders_search__orders__tablesync', flow: 'orders_search' });
    expect(t('orders_search__orders__tablesync_r').tablesync).toMatchObject({ role: 'truncate', flow: 'orders_search' });
    expect(t('orders_search__orders__tablesync_t').definition).toMatch(/^CREATE TRIGGER orders_search__orders__tablesync_t AFTER INSERT OR DELETE OR UPDATE ON public\.orders FOR EACH ROW/);
    // a custom channel: the saved flow that uses it owns it
    const c = await structure('customers');
    expect(c.triggers.find((x) => x.name === 'crm_changes_t')?.tablesync).toEqual({ role: 'row', channel: 'crm_changes', flow: 'crm' });
  });

  it('describes a partitioned table and a partition', async () => {
    const e = await structure('events');
    expect(e.kind).toBe('partitioned table');
    expect(e.partitionKey).toBe('RANGE (at)');
    expect(e.partitions.map((p) => [p.name, p.bound])).toEqual([
      ['events_2025', "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')"],
      ['events_2026', "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"],
    ]);
    expect(e.estimatedRows).toBe(200);
    expect(e.sizes.tableBytes).toBeGreaterThan(0);
    expect(e.ddl).toContain('PARTITION BY RANGE (at);');
    const p = await structure('events_2025');
    expect(p.partitionOf).toEqual({ schema: 'public', name: 'events', bound: "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')" });
    expect(p.constraints[0]).toMatchObject({ kind: 'primary key', inherited: true });
    expect(p.ddl).toContain("ALTER TABLE ONLY public.events ATTACH PARTITION public.events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');");
  });

  it('prints DDL as pg_dump does, and the DDL recreates the same structure elsewhere', async () => {
    const o = await structure('orders');
    expect(o.ddl).toContain([
      'CREATE TABLE public.orders (',
      "    id integer DEFAULT nextval('public.orders_id_seq'::regclass) NOT NULL,",
      '    customer_id bigint NOT NULL,',
      "    feeling public.mood DEFAULT 'ok'::public.mood,",
      '    price public.positive NOT NULL,',
      '    qty integer DEFAULT 1 NOT NULL,',
      '    total numeric GENERATED ALWAYS AS (((price)::numeric * (qty)::numeric)) STORED,',
      '    note text COLLATE pg_catalog."C",',
      '    CONSTRAINT qty_positive CHECK ((qty > 0))',
      ');',
    ].join('\n'));
    expect(o.ddl).toContain('ALTER TABLE ONLY public.orders\n    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);');
    expect(o.ddl).toContain('CREATE INDEX orders_customer_idx ON public.orders USING btree (customer_id) WHERE (qty > 1);');
    expect(o.ddl.indexOf('orders_customer_id_fkey')).toBeGreaterThan(o.ddl.indexOf('orders_customer_idx'));
    const c = await structure('customers');
    expect(c.ddl).toContain('ALTER TABLE public.customers ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (\n    SEQUENCE NAME public.customers_id_seq\n    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1\n);');
    expect(c.ddl).toContain(`COMMENT ON COLUMN public.customers.email IS 'login; unique';`);
    expect(c.ddl).toContain('    "Display Name" text');

    // Replayed in an empty database (types and sequence first, capture triggers aside), the same structure comes out.
    await replay.sql(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`);
    await replay.sql(`CREATE DOMAIN positive AS numeric(12,2) CHECK (VALUE > 0)`);
    await replay.sql(`CREATE SEQUENCE orders_id_seq`);
    await replay.sql(`CREATE FUNCTION audit_n() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'`);
    const strip = (ddl: string) => ddl.split('\n\n').filter((s) => !/tablesync|crm_changes/.test(s)).join('\n\n');
    await replay.sql(strip(c.ddl));
    await replay.sql(strip(o.ddl));
    const other = await call<SavedConnection>(api, 'connections.save', { name: 'replay', connection: { url: replay.url } });
    const again = await call<TableStructure>(api, 'inspect.structure', { connectionId: other.id, schema: 'public', table: 'orders' });
    expect(strip(again.ddl)).toBe(strip(o.ddl));
    expect(again.referencedBy).toEqual([]);
  });

  it('describes views and materialized views with their query', async () => {
    const v = await structure('big_orders');
    expect(v.kind).toBe('view');
    expect(v.viewDefinition).toMatch(/WHERE orders\.qty > 1|WHERE qty > 1/);
    expect(v.ddl).toMatch(/^CREATE VIEW public\.big_orders AS\n/);
    const m = await structure('order_totals');
    expect(m.kind).toBe('materialized view');
  });

  it('names a missing table and a missing schema', async () => {
    await expect(structure('nope')).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/"public"\."nope" does not exist/) });
    await expect(structure('x', 'no_such_schema')).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/schema "no_such_schema"/) });
  });

  it('lists sequences and functions (not usable as sources) and the other databases of the server', async () => {
    const objs = await call<SchemaObjects>(api, 'catalog.objects', { connectionId: conn.id, schema: 'public' });
    expect(objs.sequences.map((s) => [s.name, s.ownedBy])).toEqual([
      ['customers_id_seq', 'public.customers.id'],
      ['orders_id_seq', 'public.orders.id'],
    ]);
    expect(objs.sequences[0]!.unusableAsSource).toMatch(/^sequences cannot be sources/);
    const fn = objs.functions.find((f) => f.name === 'add_one')!;
    expect(fn).toMatchObject({ kind: 'function', arguments: 'i integer', returns: 'integer', language: 'sql' });
    expect(fn.unusableAsSource).toMatch(/^functions cannot be sources/);
    expect(objs.functions.find((f) => f.name === 'noop')).toMatchObject({ kind: 'procedure', returns: '' });
    expect(objs.functions.some((f) => f.name === 'orders_search__orders__tablesync_n')).toBe(true);

    const dbs = await call<DatabaseInfo[]>(api, 'catalog.databases', { connectionId: conn.id });
    expect(dbs[0]).toMatchObject({ name: db.name, current: true, canConnect: true });
    expect(dbs.find((d) => d.name === replay.name)).toMatchObject({ current: false });
    expect(dbs.some((d) => d.name === 'template1')).toBe(false);

    // Opening another database makes (once) a saved connection with the same server and credentials.
    const other = await call<SavedConnection>(api, 'connections.forDatabase', { id: conn.id, database: replay.name });
    expect(other).toMatchObject({ database: replay.name, host: conn.host, port: conn.port, user: conn.user });
    const again = await call<SavedConnection>(api, 'connections.forDatabase', { id: conn.id, database: replay.name });
    expect(again.id).toBe(other.id);
    const tables = await call<unknown[]>(api, 'catalog.tables', { connectionId: other.id, schema: 'public' });
    expect(tables.length).toBeGreaterThan(0);
  });
});
