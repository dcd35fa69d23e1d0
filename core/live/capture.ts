/**
 * Installs, checks and removes the capture objects on the source table. `ensureCapture` runs on
 * every (re)connect of the listener: it is one catalog query when everything is in place, and it
 * repairs a trigger someone dropped, a partition without its TRUNCATE trigger, or a function from an
 * older TableSync. Nothing is created, replaced or dropped before ownership.ts has judged the
 * objects of those names to be this flow's own.
 */
import type pg from 'pg';
import { TableSyncError, pgErrorFields, toTableSyncError } from '../errors';
import { qualifiedName, quoteIdent } from '../sql/ident';
import type { CaptureNames } from './channel';
import { captureSql, payloadSettings, type CaptureTable, type Relation } from './capture-sql';
import { judgeInstall, planDrop, type CaptureCatalog, type DropPlan, type TriggerRow } from './ownership';
import { textIsIdentity } from '../target/text-identity';
import type { Flow } from '../flow/schema';
import type { SyncJob } from '../target/job';

export type CaptureState = 'missing' | 'outdated' | 'current';

type Queryable = pg.Pool | pg.PoolClient | pg.ClientBase;

const truthy = (v: unknown): boolean => v === true || v === 't';
const json = <T>(v: unknown): T | null => (v === null || v === undefined ? null : (typeof v === 'string' ? JSON.parse(v) : v) as T);

/**
 * One catalog read: the table and its partitions, the function `{channel}_n()` and its marker, every
 * trigger of our names on the tree or calling that function (clones of a partitioned table's
 * triggers left out: they follow their parent), and the other marked capture functions.
 */
export async function readCaptureCatalog(client: Queryable, t: Relation & { keyColumns?: readonly string[]; ordinalColumn?: string }, names: CaptureNames): Promise<CaptureCatalog> {
  const { rows } = await client.query(
    `WITH tbl AS (SELECT to_regclass($1) AS oid),
          fn AS (SELECT to_regprocedure($2) AS oid),
          rels AS (
            SELECT c.oid, n.nspname, c.relname, c.oid = (SELECT oid FROM tbl) AS root
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.oid = (SELECT oid FROM tbl)
                OR (c.relkind IN ('r', 'p') AND c.oid IN (SELECT relid FROM pg_partition_tree((SELECT oid FROM tbl))))
          )
     SELECT (SELECT oid::text FROM tbl) AS table_oid,
            t.relkind::text AS relkind, pg_get_userbyid(t.relowner) AS owner,
            pg_has_role(current_user, t.relowner, 'USAGE') AS is_owner, current_user AS current_user,
            (SELECT oid::text FROM fn) AS fn_oid, (SELECT oid::regprocedure::text FROM fn) AS fn_signature,
            obj_description((SELECT oid FROM fn), 'pg_proc') AS fn_comment,
            (SELECT json_agg(json_build_object('oid', oid::text, 'schema', nspname, 'table', relname, 'root', root) ORDER BY root DESC, nspname, relname) FROM rels) AS rels,
            (SELECT json_agg(json_build_object('schema', n.nspname, 'table', c.relname, 'name', g.tgname, 'calls', g.tgfoid::regprocedure::text,
                    'callsOurFunction', g.tgfoid = (SELECT oid FROM fn), 'type', g.tgtype, 'always', g.tgenabled = 'A',
                    'comment', obj_description(g.oid, 'pg_trigger')) ORDER BY n.nspname, c.relname, g.tgname)
               FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE NOT g.tgisinternal AND g.tgparentid = 0
                AND ((g.tgrelid IN (SELECT oid FROM rels) AND g.tgname IN ($3, $4)) OR g.tgfoid = (SELECT oid FROM fn))) AS triggers,
            -- clones of our row trigger on the partitions that do not fire always (attached by a server that cloned it as 'O')
            (SELECT count(*) FROM pg_trigger g WHERE g.tgparentid <> 0 AND g.tgrelid IN (SELECT oid FROM rels) AND g.tgname = $3
                AND g.tgfoid = (SELECT oid FROM fn) AND g.tgenabled <> 'A') AS clones_not_always,
            (SELECT json_agg(json_build_object('signature', p.oid::regprocedure::text, 'comment', d.description))
               FROM pg_description d JOIN pg_proc p ON p.oid = d.objoid
              WHERE d.classoid = 'pg_proc'::regclass AND d.objsubid = 0 AND d.description LIKE 'tablesync live capture%'
                AND p.oid IS DISTINCT FROM (SELECT oid FROM fn)) AS others,
            -- the payload's columns (key, ordinal): their type (a domain's base; an array's element) says which output settings the function needs
            (SELECT json_object_agg(a.attname, json_build_array(coalesce(e.typname, b.typname), coalesce(e.typtype, b.typtype)))
               FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
               JOIN pg_type b ON b.oid = CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.oid END
               LEFT JOIN pg_type e0 ON e0.oid = b.typelem AND b.typcategory = 'A'
               LEFT JOIN pg_type e ON e.oid = CASE WHEN e0.typtype = 'd' THEN e0.typbasetype ELSE e0.oid END
              WHERE a.attrelid = (SELECT oid FROM tbl) AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY($5::text[])) AS payload_types,
            -- two-phase commit possible: our NOTIFY would make PREPARE TRANSACTION fail (see preparedTransactions)
            current_setting('max_prepared_transactions')::int AS max_prepared,
            -- key columns with a nondeterministic collation ('abc' = 'ABC'): the function tells a key change by their text in collation "C"
            (SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a JOIN pg_collation co ON co.oid = a.attcollation
              WHERE a.attrelid = (SELECT oid FROM tbl) AND a.attnum > 0 AND NOT a.attisdropped AND NOT co.collisdeterministic AND a.attname = ANY($6::text[])) AS nondeterministic_keys,
            -- key columns' types as format_type spells them: one whose equal values may print differently (text-identity.ts) is compared by its text
            (SELECT json_object_agg(a.attname, format_type(a.atttypid, a.atttypmod)) FROM pg_attribute a
              WHERE a.attrelid = (SELECT oid FROM tbl) AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY($6::text[])) AS key_types
       FROM (SELECT 1) one LEFT JOIN pg_class t ON t.oid = (SELECT oid FROM tbl)`,
    [qualifiedName(t.schema, t.table), `${qualifiedName(t.schema, names.functionName)}()`, names.rowTrigger, names.truncateTrigger, [...(t.keyColumns ?? []), ...(t.ordinalColumn ? [t.ordinalColumn] : [])], [...(t.keyColumns ?? [])]],
  );
  const r = rows[0] as Record<string, unknown>;
  const relations = (json<Array<Relation & { oid: string; root: boolean }>>(r.rels) ?? []);
  return {
    ...(r.table_oid ? { table: { oid: String(r.table_oid), relkind: String(r.relkind), owner: String(r.owner), isOwner: truthy(r.is_owner) } } : {}),
    currentUser: String(r.current_user),
    relations,
    ...(r.fn_oid ? { fn: { oid: String(r.fn_oid), signature: String(r.fn_signature), comment: (r.fn_comment as string | null) ?? null } } : {}),
    triggers: json<TriggerRow[]>(r.triggers) ?? [],
    clonesNotAlways: Number(r.clones_not_always ?? 0),
    maxPreparedTransactions: Number(r.max_prepared ?? 0),
    otherCaptureFunctions: json<Array<{ signature: string; comment: string | null }>>(r.others) ?? [],
    payloadTypes: json<Record<string, [string, string]>>(r.payload_types) ?? {},
    nondeterministicKeys: json<string[]>(r.nondeterministic_keys) ?? [],
    keyTypes: json<Record<string, string>>(r.key_types) ?? {},
  };
}

/** What capture installs for `flow` on its source table, as `job` resolved it (a flow's watch and a set's). */
export function captureTableOf(flow: Flow, job: SyncJob): CaptureTable {
  return {
    flow: flow.name,
    schema: job.source.schema,
    table: job.source.table,
    keyColumns: job.source.keyColumns.map((c) => c.name),
    ...(job.source.ordinalColumn ? { ordinalColumn: job.source.ordinalColumn } : {}),
    ...(flow.source.notification?.acceptPrepareFailures ? { acceptPrepareFailures: true } : {}),
  };
}

/** Installing capture would touch an object that is not this flow's: refused, nothing written (exit 2). */
function notOurs(t: Relation, conflicts: string[]): TableSyncError {
  return new TableSyncError(
    'INVALID_INPUT',
    `cannot watch ${qualifiedName(t.schema, t.table)}: ${conflicts.join('; and ')}`,
    { schema: t.schema, table: t.table, path: 'source.notification.channelName', conflicts },
  );
}

/**
 * The source allows prepared transactions, and PostgreSQL refuses to PREPARE a transaction that ran
 * NOTIFY: our trigger on the table would make every two-phase commit that writes it fail. Refused
 * (exit 2) unless the flow accepts it; nothing is created. (`installed`: the trigger is there
 * already, from before the setting: say how to remove it.)
 */
function preparedTransactions(t: CaptureTable, max: number, installed: boolean): TableSyncError {
  const table = qualifiedName(t.schema, t.table);
  return new TableSyncError(
    'INVALID_INPUT',
    `cannot capture ${table} with a trigger: the source allows prepared transactions (max_prepared_transactions = ${max}), and PostgreSQL cannot PREPARE a transaction that sent a notification, so with the capture trigger on ${table} every two-phase commit that writes it would fail. ` +
      `Capture it by logical replication instead ("replication": {} in place of "notification"), or, if no prepared transaction ever writes ${table}, set "acceptPrepareFailures": true in source.notification` +
      (installed ? `. The trigger is on the table already (installed before): \`tablesync drop\` removes it` : ''),
    { schema: t.schema, table: t.table, path: 'source.notification.acceptPrepareFailures', maxPreparedTransactions: max },
  );
}

function judge(c: CaptureCatalog, t: CaptureTable, names: CaptureNames) {
  if (!c.table) {
    throw new TableSyncError('NOT_FOUND', `source table ${qualifiedName(t.schema, t.table)} does not exist`, { schema: t.schema, table: t.table });
  }
  const partitions = c.relations.filter((r) => !r.root);
  const payloadColumns = [...t.keyColumns, ...(t.ordinalColumn ? [t.ordinalColumn] : [])];
  const keyBytes = c.nondeterministicKeys ?? [];
  // (a type not read, e.g. a catalog of an older reader: by its text, the safe side)
  const keyText = t.keyColumns.filter((k) => !keyBytes.includes(k) && !textIsIdentity(c.keyTypes?.[k] ?? ''));
  const sql = captureSql(t, names, partitions, payloadSettings(payloadColumns.map((col) => c.payloadTypes?.[col])), keyBytes, keyText);
  const j = judgeInstall(c, t.flow, t, names, sql.hash);
  const state: CaptureState = j.current ? 'current' : c.fn ? 'outdated' : 'missing';
  return { ...j, sql, state, partitions };
}

/** Whether the capture objects exist, are this flow's, and have the definition this version would create. */
export async function captureState(pool: Queryable, t: CaptureTable, names: CaptureNames): Promise<CaptureState> {
  return judge(await readCaptureCatalog(pool, t, names), t, names).state;
}

/**
 * The partitions of the source table as one comparable string (empty for a plain table): the watch
 * re-reads it while live, so a partition attached (its rows appear without any trigger firing) or
 * detached (its rows vanish) gets its TRUNCATE trigger and a rescan promptly, and records it, so a
 * restart after such a change while it was stopped rescans too. With `files`, also each
 * partition's relfilenode, which a TRUNCATE replaces: a logical stream that publishes through the
 * root does not carry a TRUNCATE of one partition (PostgreSQL's publish_via_partition_root), so
 * that is how the logical watch notices one (as it does a VACUUM FULL or a rewrite: a rescan that
 * finds nothing to do).
 */
export async function partitionSignature(pool: Queryable, t: Relation, opts: { files?: boolean } = {}): Promise<string> {
  const { rows } = await pool.query<{ sig: string | null }>(
    `SELECT string_agg(p.relid::oid::text || CASE WHEN $2 THEN ':' || c.relfilenode::text ELSE '' END, ',' ORDER BY p.relid::oid) AS sig
       FROM pg_partition_tree(to_regclass($1)) p JOIN pg_class c ON c.oid = p.relid
      WHERE NOT p.isleaf OR p.level > 0`,
    [qualifiedName(t.schema, t.table), opts.files === true],
  );
  return rows[0]?.sig ?? '';
}

/**
 * While live, a watch re-reads its capture objects: one disabled, dropped or replaced meanwhile
 * (ALTER TABLE … DISABLE TRIGGER ALL around a bulk load, a migration) notifies nothing, so it is
 * restored (ensureCapture) and the caller rescans, with the reason returned: what changed before
 * the restore is scanned, what changes after it is notified. Undefined when all is current.
 */
export async function restoreCapture(pool: pg.Pool, t: CaptureTable, names: CaptureNames): Promise<string | undefined> {
  if ((await captureState(pool, t, names)) === 'current') return undefined;
  await ensureCapture(pool, t, names);
  return `the capture trigger or function of ${t.schema}.${t.table} was disabled, dropped or changed while live: restored, and the source rescanned`;
}

/** Serializes installers of one function name across sessions (two watchers starting together). */
const installLockSql = `SELECT pg_advisory_xact_lock(hashtext('tablesync capture ' || $1))`;

/**
 * Create the function and triggers (also on every partition), or replace them when out of date;
 * leave them alone when current (so an administrator can install them once for a user who may
 * not). Returns what it found before acting.
 *
 * Throws INVALID_INPUT naming the object and its owner when an object of these names is not this
 * flow's (see ownership.ts); PERMISSION_DENIED, with the SQL an administrator can run in
 * `detail.sql`, when the connecting user may not create them (a trigger needs the table's owner).
 */
export async function ensureCapture(pool: pg.Pool, t: CaptureTable, names: CaptureNames): Promise<CaptureState> {
  const catalog = await readCaptureCatalog(pool, t, names);
  const before = judge(catalog, t, names);
  if (before.conflicts.length > 0) throw notOurs(t, before.conflicts);
  if ((catalog.maxPreparedTransactions ?? 0) > 0 && !t.acceptPrepareFailures) throw preparedTransactions(t, catalog.maxPreparedTransactions!, before.state !== 'missing');
  if (before.state === 'current') return before.state;
  const table = qualifiedName(t.schema, t.table);
  const owner = catalog.table?.owner;
  const denied = (cause?: unknown) => new TableSyncError(
    'PERMISSION_DENIED',
    `cannot create the change-capture trigger on ${table}: the user "${catalog.currentUser}" does not own it` +
      `${owner ? ` (owner: "${owner}")` : ''}. Ask an administrator to run this SQL (as the owner), then start again:\n${before.sql.script}`,
    { schema: t.schema, table: t.table, owner, user: catalog.currentUser, sql: before.sql.script, ...(cause ? { sqlstate: pgErrorFields(cause)?.code } : {}) },
    cause ? { cause } : undefined,
  );
  if (!catalog.table?.isOwner) throw denied();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(installLockSql, [`${qualifiedName(t.schema, names.functionName)}()`]);
    // Judged again under the lock, in the transaction that installs: what we saw may have changed.
    const now = judge(await readCaptureCatalog(client, t, names), t, names);
    if (now.conflicts.length > 0) throw notOurs(t, now.conflicts);
    if (now.state !== 'current') {
      for (const g of now.retire) await client.query(`DROP TRIGGER IF EXISTS ${quoteIdent(g.name)} ON ${qualifiedName(g.schema, g.table)}`);
      for (const statement of now.sql.install) await client.query(statement);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    if (e instanceof TableSyncError) throw e;
    if (pgErrorFields(e)?.code === '42501') throw denied(e);
    const err = toTableSyncError(e, `installing the change-capture trigger on ${table}`);
    // a read-only source (its default, or a standby): live changes come from a slot there, not a trigger
    if (pgErrorFields(e)?.code === '25006') throw new TableSyncError(err.code, `${err.message}. For live changes from a source that stays read-only, capture by logical replication ("replication" in place of "notification") through a publication created on the primary (source.replication.publicationName)`, err.detail, { cause: e });
    throw err;
  } finally {
    client.release();
  }
  return before.state;
}

/** What dropping the flow's capture on `t` would remove and leave alone, read now. */
export async function planCaptureDrop(pool: Queryable, flow: string, t: Relation, names: CaptureNames): Promise<DropPlan> {
  return planDrop(await readCaptureCatalog(pool, t, names), flow, t, names);
}

/**
 * Remove the flow's capture objects (the flow is being dropped, or it moved to another channel or
 * table): only objects whose marker names this flow (or unmarked ones an earlier TableSync made for
 * this table), triggers before the function, the function only when nothing else calls it. A
 * missing table is fine. Returns what it removed and what it left alone. `onlyTable`: see planDrop.
 */
export async function dropCapture(pool: pg.Pool, flow: string, t: Relation, names: CaptureNames, opts: { onlyTable?: boolean } = {}): Promise<DropPlan> {
  const client = await pool.connect();
  let plan: DropPlan = { statements: [], leftAlone: [] };
  try {
    await client.query('BEGIN');
    await client.query(installLockSql, [`${qualifiedName(t.schema, names.functionName)}()`]);
    plan = planDrop(await readCaptureCatalog(client, t, names), flow, t, names, opts);
    for (const statement of plan.statements) await client.query(statement);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    const sql = plan.statements.map((s) => `${s};`).join('\n');
    if (pgErrorFields(e)?.code === '42501') {
      throw new TableSyncError('PERMISSION_DENIED', `cannot remove the change-capture trigger from ${qualifiedName(t.schema, t.table)}: ask its owner to run:\n${sql}`, { sql }, { cause: e });
    }
    throw toTableSyncError(e, `removing the change-capture trigger from ${qualifiedName(t.schema, t.table)}`);
  } finally {
    client.release();
  }
  return plan;
}
