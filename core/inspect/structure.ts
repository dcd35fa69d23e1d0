/**
 * A table's structure, from the catalog, for the Structure tab: columns, constraints, foreign keys
 * both ways, indexes with sizes, triggers (TableSync's own capture triggers recognised), sizes,
 * estimate, partitions, and the DDL as pg_dump prints it.
 *
 * Everything is read in one READ ONLY transaction with `search_path = ''`, as pg_dump does, so
 * format_type, pg_get_expr, pg_get_constraintdef and pg_get_indexdef schema-qualify every name
 * exactly as a dump would (`public.mood`, `ON public.orders USING btree (id)`), and one snapshot
 * serves every query.
 */
import type pg from 'pg';
import type { ConstraintInfo, ForeignKeyInfo, IndexInfo, TableStructure, TriggerInfo } from '../api/contract.inspect';
import { TableSyncError } from '../errors';
import { describeTable } from '../introspect/describe-table';
import { hashFromComment, parseMarker } from '../live/capture-sql';
import { RAW_TYPES } from '../connections/pool';
import { qualifiedName } from '../sql/ident';

type Client = Pick<pg.PoolClient, 'query'>;

const q = async <T extends pg.QueryResultRow>(c: Client, text: string, values: unknown[]): Promise<T[]> =>
  (await c.query<T>({ text, values, types: RAW_TYPES })).rows;
const bool = (v: string | boolean | null): boolean => v === true || v === 't';
const num = (v: string | null): number => (v === null ? 0 : Number(v));

const REL_SQL = `
SELECT c.oid::int8 AS oid, c.relkind, pg_get_userbyid(c.relowner) AS owner,
       obj_description(c.oid, 'pg_class') AS comment,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS qname,
       c.relispartition,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partkey,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS bound,
       (SELECT json_build_object('schema', pn.nspname, 'name', pc.relname, 'qname', quote_ident(pn.nspname) || '.' || quote_ident(pc.relname))::text
          FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
         WHERE i.inhrelid = c.oid AND c.relispartition) AS parent,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS viewdef,
       CASE WHEN c.relkind = 'p'
            THEN (SELECT sum(x.reltuples) FILTER (WHERE x.reltuples >= 0)::float8 FROM pg_partition_tree(c.oid) t JOIN pg_class x ON x.oid = t.relid WHERE t.isleaf)
            WHEN c.reltuples >= 0 THEN c.reltuples::float8 END AS estimate,
       CASE WHEN c.relkind = 'p'
            THEN (SELECT coalesce(sum(pg_table_size(t.relid)), 0)::int8 FROM pg_partition_tree(c.oid) t)
            WHEN c.relkind IN ('r', 'm', 't') THEN pg_table_size(c.oid) ELSE 0 END AS table_bytes,
       CASE WHEN c.relkind = 'p'
            THEN (SELECT coalesce(sum(pg_indexes_size(t.relid)), 0)::int8 FROM pg_partition_tree(c.oid) t)
            WHEN c.relkind IN ('r', 'm', 't') THEN pg_indexes_size(c.oid) ELSE 0 END AS index_bytes
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`;

interface RelRow {
  oid: string; relkind: string; owner: string; comment: string | null; qname: string; relispartition: string;
  partkey: string | null; bound: string | null; parent: string | null; viewdef: string | null;
  estimate: string | null; table_bytes: string; index_bytes: string;
}

const COLS_SQL = `
SELECT a.attnum, quote_ident(a.attname) AS qname, format_type(a.atttypid, a.atttypmod) AS type,
       a.attgenerated::text AS generated, a.attidentity::text AS identity, a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid) AS expr,
       col_description(a.attrelid, a.attnum) AS comment,
       CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0
            THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END AS collation,
       CASE WHEN a.attidentity <> '' THEN
         (SELECT json_build_object('name', pg_get_serial_sequence(a.attrelid::regclass::text, a.attname)::regclass::text,
                 'start', s.seqstart::text, 'increment', s.seqincrement::text, 'min', s.seqmin::text, 'max', s.seqmax::text,
                 'cache', s.seqcache::text, 'cycle', s.seqcycle, 'type', format_type(s.seqtypid, NULL))::text
            FROM pg_sequence s WHERE s.seqrelid = pg_get_serial_sequence(a.attrelid::regclass::text, a.attname)::regclass) END AS identity_seq
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum`;

interface ColRow {
  attnum: string; qname: string; type: string; generated: string; identity: string; attnotnull: string;
  expr: string | null; comment: string | null; collation: string | null; identity_seq: string | null;
}

const CONSTRAINTS_SQL = `
SELECT con.conname, quote_ident(con.conname) AS qname, con.contype::text AS contype, pg_get_constraintdef(con.oid) AS def,
       (con.conislocal AND con.conparentid = 0) AS local, con.convalidated,
       (SELECT coalesce(json_agg(a.attname ORDER BY k.ord), '[]')::text
          FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS cols
  FROM pg_constraint con
 WHERE con.conrelid = $1::oid AND con.contype IN ('p', 'u', 'c', 'f', 'x')
 ORDER BY CASE con.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'x' THEN 2 WHEN 'c' THEN 3 ELSE 4 END, con.conname`;

const FK_SQL = `
SELECT con.conname, pg_get_constraintdef(con.oid) AS def,
       fn.nspname AS from_schema, fc.relname AS from_table, tn.nspname AS to_schema, tc.relname AS to_table,
       con.confupdtype::text AS upd, con.confdeltype::text AS del,
       (SELECT json_agg(a.attname ORDER BY k.ord)::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS from_cols,
       (SELECT json_agg(a.attname ORDER BY k.ord)::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS to_cols
  FROM pg_constraint con
  JOIN pg_class fc ON fc.oid = con.conrelid JOIN pg_namespace fn ON fn.oid = fc.relnamespace
  JOIN pg_class tc ON tc.oid = con.confrelid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
 WHERE con.contype = 'f' AND con.conparentid = 0 AND %WHERE%
 ORDER BY fn.nspname, fc.relname, con.conname`;

interface FkRow {
  conname: string; def: string; from_schema: string; from_table: string; to_schema: string; to_table: string;
  upd: string; del: string; from_cols: string; to_cols: string;
}

const INDEXES_SQL = `
SELECT ic.relname, pg_get_indexdef(i.indexrelid) AS def, am.amname, i.indisprimary, i.indisunique, i.indisvalid,
       (SELECT con.conname FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x') LIMIT 1) AS constraint,
       CASE WHEN ic.relkind = 'I'
            THEN (SELECT coalesce(sum(pg_relation_size(t.relid)), 0)::int8 FROM pg_partition_tree(i.indexrelid) t)
            ELSE pg_relation_size(i.indexrelid) END AS size,
       EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid) AS attached
  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
 WHERE i.indrelid = $1::oid
 ORDER BY i.indisprimary DESC, ic.relname`;

const TRIGGERS_SQL = `
SELECT t.tgname, pg_get_triggerdef(t.oid) AS def, (t.tgenabled <> 'D') AS enabled,
       quote_ident(pn.nspname) || '.' || quote_ident(p.proname) AS fn, p.proname,
       obj_description(p.oid, 'pg_proc') AS fn_comment, obj_description(t.oid, 'pg_trigger') AS tg_comment,
       t.tgtype::int AS tgtype, (t.tgparentid = 0) AS local
  FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
 WHERE t.tgrelid = $1::oid AND NOT t.tgisinternal
 ORDER BY t.tgname`;

interface TriggerRow {
  tgname: string; def: string; enabled: string; fn: string; proname: string;
  fn_comment: string | null; tg_comment: string | null; tgtype: string; local: string;
}

const PARTITIONS_SQL = `
SELECT n.nspname AS schema, c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound,
       CASE WHEN c.reltuples >= 0 THEN c.reltuples::float8 END AS estimate
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE i.inhparent = $1::oid
 ORDER BY c.relname`;

const FK_ACTIONS: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };
const KINDS = { r: 'table', p: 'partitioned table', v: 'view', m: 'materialized view', f: 'foreign table' } as const;
const CONSTRAINT_KINDS = { p: 'primary key', u: 'unique', c: 'check', f: 'foreign key', x: 'exclusion' } as const;
/** pg_trigger.tgtype bit for a ROW trigger (else statement). */
const TRIGGER_ROW = 1;

/**
 * The structure of `schema.table` (a table, partitioned table, view, materialized view or foreign
 * table). NOT_FOUND when there is no such relation.
 * @example const s = await readStructure(pool, 'public', 'orders'); s.referencedBy // FKs pointing here
 */
export async function readStructure(pool: pg.Pool, schema: string, table: string): Promise<TableStructure> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN READ ONLY');
    await client.query("SET LOCAL search_path = ''");
    try {
      return await readIn(client, schema, table);
    } finally {
      await client.query('ROLLBACK').catch(() => {});
    }
  } finally {
    client.release();
  }
}

async function readIn(c: Client, schema: string, table: string): Promise<TableStructure> {
  const [rel] = await q<RelRow>(c, REL_SQL, [schema, table]);
  if (!rel) {
    // describeTable words a missing schema and a missing table differently; reuse it.
    await describeTable(c, schema, table);
    throw new TableSyncError('NOT_FOUND', `table ${qualifiedName(schema, table)} does not exist`, { schema, table });
  }
  const desc = await describeTable(c, schema, table);
  const oid = rel.oid;
  const [cols, cons, fkOut, fkIn, idx, trg, parts] = await Promise.all([
    q<ColRow>(c, COLS_SQL, [oid]),
    q<{ conname: string; qname: string; contype: string; def: string; local: string; convalidated: string; cols: string }>(c, CONSTRAINTS_SQL, [oid]),
    q<FkRow>(c, FK_SQL.replace('%WHERE%', 'con.conrelid = $1::oid'), [oid]),
    q<FkRow>(c, FK_SQL.replace('%WHERE%', 'con.confrelid = $1::oid'), [oid]),
    q<{ relname: string; def: string; amname: string; indisprimary: string; indisunique: string; indisvalid: string; constraint: string | null; size: string; attached: string }>(c, INDEXES_SQL, [oid]),
    q<TriggerRow>(c, TRIGGERS_SQL, [oid]),
    rel.relkind === 'p' ? q<{ schema: string; name: string; bound: string; estimate: string | null }>(c, PARTITIONS_SQL, [oid]) : Promise.resolve([]),
  ]);
  // Pooled queries on one client run one after another; Promise.all only saves round-trip waits.

  const colByNum = new Map(cols.map((r) => [Number(r.attnum), r]));
  const constraints: DumpConstraint[] = cons.map((r) => ({
    name: r.conname,
    kind: CONSTRAINT_KINDS[r.contype as keyof typeof CONSTRAINT_KINDS],
    columns: JSON.parse(r.cols) as string[],
    definition: r.def,
    inherited: !bool(r.local),
    validated: bool(r.convalidated),
    local: bool(r.local),
    qname: r.qname,
  }));
  const fk = (r: FkRow): ForeignKeyInfo => ({
    name: r.conname,
    fromSchema: r.from_schema,
    fromTable: r.from_table,
    fromColumns: JSON.parse(r.from_cols) as string[],
    toSchema: r.to_schema,
    toTable: r.to_table,
    toColumns: JSON.parse(r.to_cols) as string[],
    onUpdate: FK_ACTIONS[r.upd] ?? r.upd,
    onDelete: FK_ACTIONS[r.del] ?? r.del,
    definition: r.def,
  });
  const indexes: (IndexInfo & { attached: boolean })[] = idx.map((r) => ({
    name: r.relname,
    definition: r.def,
    method: r.amname,
    primary: bool(r.indisprimary),
    unique: bool(r.indisunique),
    valid: bool(r.indisvalid),
    constraint: r.constraint,
    sizeBytes: num(r.size),
    attached: bool(r.attached),
  }));
  const triggers = trg.map((r) => toTrigger(r, table));
  const parent = rel.parent ? (JSON.parse(rel.parent) as { schema: string; name: string; qname: string }) : null;
  const kind = KINDS[rel.relkind as keyof typeof KINDS];

  const structure: TableStructure = {
    schema,
    name: table,
    kind,
    owner: rel.owner,
    comment: rel.comment,
    columns: desc.columns.map((col) => {
      const extra = colByNum.get(col.position);
      return { ...col, comment: extra?.comment ?? null, collation: extra?.collation ?? null };
    }),
    constraints: constraints.map(({ local: _local, qname: _q, ...rest }) => rest),
    foreignKeys: fkOut.map(fk),
    referencedBy: fkIn.map(fk),
    indexes: indexes.map(({ attached: _a, ...rest }) => rest),
    triggers,
    estimatedRows: rel.estimate === null ? null : Math.round(Number(rel.estimate)),
    sizes: {
      tableBytes: num(rel.table_bytes),
      indexBytes: num(rel.index_bytes),
      totalBytes: num(rel.table_bytes) + num(rel.index_bytes),
    },
    partitionKey: rel.partkey,
    partitions: parts.map((p) => ({ schema: p.schema, name: p.name, bound: p.bound, estimatedRows: p.estimate === null ? null : Math.round(Number(p.estimate)) })),
    partitionOf: parent && rel.bound !== null ? { schema: parent.schema, name: parent.name, bound: rel.bound } : null,
    viewDefinition: rel.viewdef,
    ddl: '',
  };
  structure.ddl = dumpDdl({
    rel, kind, parentQname: parent?.qname ?? null, cols, constraints, indexes,
    triggers: trg.filter((t) => bool(t.local)).map((t) => t.def),
  });
  return structure;
}

/** TableSync's own capture trigger: `{channel}_t` / `{channel}_r` calling `{channel}_n`, marked as ours. */
function toTrigger(r: TriggerRow, table: string): TriggerInfo {
  const base: TriggerInfo = { name: r.tgname, definition: r.def, enabled: bool(r.enabled), function: r.fn };
  const m = /^(.*)_([tr])$/s.exec(r.tgname);
  if (!m) return base;
  const channel = m[1]!;
  const marked = hashFromComment(r.fn_comment) !== undefined || /^tablesync\b/i.test(r.tg_comment ?? '');
  if (!marked || r.proname !== `${channel}_n`) return base;
  const role = (Number(r.tgtype) & TRIGGER_ROW) !== 0 ? 'row' : 'truncate';
  return { ...base, tablesync: { role, channel, flow: flowFromMarker(r.tg_comment, r.fn_comment) ?? flowFromChannel(channel, table) } };
}

/** The owning flow named in a marker comment (`... flow "products_search" ...`), when it names one. */
function flowFromMarker(...comments: (string | null)[]): string | null {
  for (const c of comments) {
    const marker = parseMarker(c); // core/live's owner marker: {"flow":…,"schema":…,"table":…}
    if (marker.kind === 'owned') return marker.owner.flow;
    const m = c && /\bflow[:= ]\s*"((?:[^"]|"")+)"/.exec(c);
    if (m) return m[1]!.replace(/""/g, '"');
  }
  return null;
}

/** The default channel is `{flow}__{table}__tablesync`, so its flow can be read back from it. */
function flowFromChannel(channel: string, table: string): string | null {
  const suffix = `__${table}__tablesync`;
  return channel.endsWith(suffix) && channel.length > suffix.length ? channel.slice(0, -suffix.length) : null;
}

// ---------------------------------------------------------------- DDL as pg_dump prints it

type DumpConstraint = ConstraintInfo & { local: boolean; qname: string };

interface DumpInput {
  rel: RelRow;
  kind: TableStructure['kind'];
  parentQname: string | null;
  cols: ColRow[];
  constraints: DumpConstraint[];
  indexes: (IndexInfo & { attached: boolean })[];
  triggers: string[];
}

const TYPE_MAX: Record<string, string> = { smallint: '32767', integer: '2147483647', bigint: '9223372036854775807' };
const TYPE_MIN: Record<string, string> = { smallint: '-32768', integer: '-2147483648', bigint: '-9223372036854775808' };

/** Exported for unit tests of the text layout. */
export function dumpDdl(d: DumpInput): string {
  const { rel } = d;
  const out: string[] = [];
  if (d.kind === 'view' || d.kind === 'materialized view') {
    const what = d.kind === 'view' ? 'VIEW' : 'MATERIALIZED VIEW';
    out.push(`CREATE ${what} ${rel.qname} AS\n${(rel.viewdef ?? '').replace(/;\s*$/, '')}${d.kind === 'materialized view' ? '\n  WITH NO DATA' : ''};`);
    for (const i of d.indexes) out.push(`${i.definition};`);
    if (d.kind === 'materialized view') out.push(`REFRESH MATERIALIZED VIEW ${rel.qname};`);
    return out.join('\n\n') + '\n';
  }
  const lines = d.cols.map((c) => {
    let s = `    ${c.qname} ${c.type}`;
    if (c.collation) s += ` COLLATE ${c.collation}`;
    if (c.generated === 's' && c.expr !== null) s += ` GENERATED ALWAYS AS (${c.expr}) STORED`;
    else if (c.generated === 'v' && c.expr !== null) s += ` GENERATED ALWAYS AS (${c.expr}) VIRTUAL`;
    else if (c.expr !== null) s += ` DEFAULT ${c.expr}`;
    if (bool(c.attnotnull)) s += ' NOT NULL';
    return s;
  });
  for (const k of d.constraints) if (k.kind === 'check' && k.local) lines.push(`    CONSTRAINT ${k.qname} ${k.definition}`);
  const foreign = d.kind === 'foreign table' ? 'FOREIGN ' : '';
  let create = `CREATE ${foreign}TABLE ${rel.qname} (\n${lines.join(',\n')}\n)`;
  if (rel.partkey) create += `\nPARTITION BY ${rel.partkey}`;
  out.push(`${create};`);

  if (d.parentQname && rel.bound) out.push(`ALTER TABLE ONLY ${d.parentQname} ATTACH PARTITION ${rel.qname} ${rel.bound};`);

  for (const c of d.cols) {
    if (c.identity === '' || !c.identity_seq) continue;
    const s = JSON.parse(c.identity_seq) as { name: string; start: string; increment: string; min: string; max: string; cache: string; cycle: boolean; type: string };
    const asc = !s.increment.startsWith('-');
    const noMin = asc ? s.min === '1' : s.min === TYPE_MIN[s.type];
    const noMax = asc ? s.max === TYPE_MAX[s.type] : s.max === '-1';
    out.push([
      `ALTER TABLE ${rel.qname} ALTER COLUMN ${c.qname} ADD GENERATED ${c.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY (`,
      `    SEQUENCE NAME ${s.name}`,
      `    START WITH ${s.start}`,
      `    INCREMENT BY ${s.increment}`,
      noMin ? '    NO MINVALUE' : `    MINVALUE ${s.min}`,
      noMax ? '    NO MAXVALUE' : `    MAXVALUE ${s.max}`,
      `    CACHE ${s.cache}${s.cycle ? '\n    CYCLE' : ''}`,
      ');',
    ].join('\n'));
  }
  if (rel.comment !== null) out.push(`COMMENT ON TABLE ${rel.qname} IS ${literal(rel.comment)};`);
  for (const c of d.cols) if (c.comment !== null) out.push(`COMMENT ON COLUMN ${rel.qname}.${c.qname} IS ${literal(c.comment)};`);

  for (const k of d.constraints) {
    if (!k.local || k.kind === 'check' || k.kind === 'foreign key') continue;
    out.push(`ALTER TABLE ONLY ${rel.qname}\n    ADD CONSTRAINT ${k.qname} ${k.definition};`);
  }
  for (const i of d.indexes) {
    if (i.constraint !== null || i.attached) continue;
    out.push(`${i.definition};`);
  }
  for (const t of d.triggers) out.push(`${t};`);
  for (const k of d.constraints) {
    if (!k.local || k.kind !== 'foreign key') continue;
    out.push(`ALTER TABLE ONLY ${rel.qname}\n    ADD CONSTRAINT ${k.qname} ${k.definition};`);
  }
  return out.join('\n\n') + '\n';
}

function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
