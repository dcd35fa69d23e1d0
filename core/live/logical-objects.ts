/**
 * The source-side objects of logical-replication capture (`source.replication`): the server's
 * requirements (REPLICATION privilege, wal_level = logical), the publication of the flow's table
 * and the pgoutput slot. TableSync only ever drops a publication it marked as its own (a COMMENT
 * naming the flow) and a slot it created for the flow (recorded in the flow's live state, or the
 * flow's default slot name).
 */
import type pg from 'pg';
import { createHash } from 'node:crypto';
import { TableSyncError, toTableSyncError } from '../errors';
import { qualifiedName, quoteIdent, quoteLiteral } from '../sql/ident';
import type { Flow } from '../flow/schema';

export interface LogicalNames {
  slot: string;
  publication: string;
}

/** `tablesync_{flow}`, lower-cased to what a slot name allows, with a hash of the flow's name so two flows never meet. */
export function defaultLogicalName(flowName: string): string {
  const hash = createHash('sha256').update(flowName).digest('hex').slice(0, 8);
  const base = flowName.toLowerCase().replace(/[^a-z0-9_]+/g, '_').slice(0, 40);
  return `tablesync_${base}_${hash}`;
}

export function logicalNames(flow: Flow): LogicalNames {
  const r = flow.source.replication ?? {};
  const d = defaultLogicalName(flow.name);
  return { slot: r.slotName ?? d, publication: r.publicationName ?? d };
}

/** What a flow records (tablesync.flows.live) so a restart resumes and drop removes what was created. */
export interface LogicalState {
  kind: 'logical';
  schema: string;
  table: string;
  slot: string;
  publication: string;
  /** The publication was created by TableSync for this flow (and carries its marker). */
  createdPublication: boolean;
  /** End LSN of the last source transaction applied to the target (recorded in the same target transaction). */
  appliedLsn?: string;
  /** A partitioned table's partitions and their files as the target last matched them (capture.ts partitionSignature, `files`). */
  partitions?: string;
  /** The OID of the table the target was last brought in line with: another table under the name is a rescan. */
  oid?: number;
  /**
   * The publication as the slot's stream last carried the table's changes through it
   * (publicationSignature). Another one at a start (the publication was dropped, recreated, had the
   * table taken out, or its options changed while the watch was stopped) means the stream may
   * have skipped changes: a new slot and a full catch-up.
   */
  publicationSig?: string;
}

export function isLogicalState(v: unknown): v is LogicalState {
  return !!v && typeof v === 'object' && (v as { kind?: unknown }).kind === 'logical' && typeof (v as { slot?: unknown }).slot === 'string';
}

/** 'X/Y' → a comparable number. */
export function lsnValue(lsn: string | null | undefined): bigint {
  if (!lsn) return 0n;
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi ?? '0'}`) << 32n) + BigInt(`0x${lo ?? '0'}`);
}

/** A comparable number → 'X/Y'. */
export function lsnText(v: bigint): string {
  const n = v < 0n ? 0n : v;
  return `${(n >> 32n).toString(16).toUpperCase()}/${(n & 0xffffffffn).toString(16).toUpperCase()}`;
}

const marker = (flowName: string) => `tablesync flow ${JSON.stringify(flowName)}`;

/**
 * The server allows logical replication for this role: wal_level = logical and the REPLICATION
 * attribute (or superuser). Each missing piece is an error that says what to change.
 */
export async function checkReplicationAllowed(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ wal_level: string; can: boolean | string; who: string; slots: string; senders: string }>(
    `SELECT current_setting('wal_level') AS wal_level, (r.rolreplication OR r.rolsuper) AS can, current_user AS who,
            current_setting('max_replication_slots') AS slots, current_setting('max_wal_senders') AS senders
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  const r = rows[0];
  if (!r) return;
  const instead = `Or capture with "notification": {} instead of "replication"`;
  if (r.wal_level !== 'logical') {
    throw new TableSyncError('UNSUPPORTED', `the source server has wal_level = ${r.wal_level}; logical-replication capture needs wal_level = logical. Set it (ALTER SYSTEM SET wal_level = logical, or in postgresql.conf) and restart the server: wal_level only changes on a restart. ${instead}`, { setting: 'wal_level', value: r.wal_level });
  }
  // A watch holds one slot and, while it streams, one WAL sender: with either limit at 0 it never could.
  const none = ([['max_replication_slots', r.slots], ['max_wal_senders', r.senders]] as const).filter(([, v]) => Number(v) === 0).map(([k]) => k);
  if (none.length) {
    throw new TableSyncError('UNSUPPORTED', `the source server has ${none.map((k) => `${k} = 0`).join(' and ')}; logical-replication capture needs a replication slot and a WAL sender for each watched flow. Set ${none.length > 1 ? 'them' : 'it'} (${none.map((k) => `ALTER SYSTEM SET ${k} = 10`).join('; ')}; or in postgresql.conf) and restart the server: ${none.length > 1 ? 'they only change' : 'it only changes'} on a restart. ${instead}`, { setting: none[0]!, value: '0' });
  }
  if (!(r.can === true || r.can === 't')) {
    throw new TableSyncError('PERMISSION_DENIED', `role "${r.who}" may not use logical replication on the source: it needs the REPLICATION attribute (a superuser runs: ALTER ROLE ${quoteIdent(r.who)} REPLICATION;). ${instead}`, { role: r.who });
  }
}

/**
 * A new slot needs a free one of max_replication_slots: checked before anything is created (a
 * publication would otherwise be left for a slot that cannot be made). Slots are kept until
 * dropped, so waiting would not help: the error says which to drop or what to raise.
 */
export async function checkSlotRoom(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ used: string; max: string }>(`SELECT (SELECT count(*) FROM pg_replication_slots)::text AS used, current_setting('max_replication_slots') AS max`);
  const r = rows[0];
  if (r && Number(r.used) >= Number(r.max)) throw slotsFull(r.max);
}

const slotsFull = (max: string) => new TableSyncError('UNSUPPORTED', `all ${max} replication slots of the source server are in use (max_replication_slots = ${max}), so the watch cannot create its own: drop one that nothing uses (SELECT slot_name, active, wal_status FROM pg_replication_slots; then SELECT pg_drop_replication_slot('name')), or raise max_replication_slots (ALTER SYSTEM SET max_replication_slots = …, or in postgresql.conf) and restart the server`, { setting: 'max_replication_slots', value: max });

/**
 * What the source sends for an UPDATE or DELETE of a published table is its replica identity, and
 * PostgreSQL refuses an UPDATE or DELETE of a table that is published without one: publishing a
 * table whose identity is NOTHING would make the applications' own writes to it fail. So the
 * table (each leaf partition of a partitioned one: the writes happen there) must have one that
 * carries the flow's key, its primary key: DEFAULT (the primary key) or FULL (the whole old row).
 * An identity of another unique index sends a delete without the key. Checked before the
 * publication is created or used; an error names the table and the statement that fixes it, and
 * nothing is created.
 */
export async function checkReplicaIdentity(pool: pg.Pool, t: { schema: string; table: string }): Promise<void> {
  const { rows } = await pool.query<{ rel: string; ident: string; has_pk: boolean | string; index: string | null; covers: boolean | string; persistence: string }>(
    `SELECT c.oid::regclass::text AS rel, c.relreplident::text AS ident, c.relpersistence::text AS persistence,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk,
            (SELECT i.indexrelid::regclass::text FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident) AS index,
            coalesce((SELECT p.indkey::int2[] <@ r.indkey::int2[] FROM pg_index p, pg_index r
                       WHERE p.indrelid = c.oid AND p.indisprimary AND r.indrelid = c.oid AND r.indisreplident), false) AS covers
       FROM pg_class c
      WHERE (c.oid = $1::regclass OR c.oid IN (SELECT relid FROM pg_partition_tree($1::regclass) WHERE isleaf)) AND c.relkind = 'r'
      ORDER BY 1`,
    [qualifiedName(t.schema, t.table)],
  );
  const yes = (v: boolean | string) => v === true || v === 't';
  for (const r of rows) {
    const fix = `ALTER TABLE ${r.rel} REPLICA IDENTITY DEFAULT`;
    const use = `(or capture with "notification": {} instead of "replication")`;
    if (r.persistence !== 'p') {
      // not in the WAL: no publication carries it (one FOR ALL TABLES leaves it out without a word)
      throw new TableSyncError('UNSUPPORTED', `table ${r.rel} is ${r.persistence === 'u' ? 'UNLOGGED' : 'temporary'}: its changes are not written to the WAL, so logical replication never sees them. Capture it with "notification": {} instead of "replication"${r.persistence === 'u' ? `, or make it logged: ALTER TABLE ${r.rel} SET LOGGED` : ''}`, { table: r.rel, persistence: r.persistence });
    }
    if (r.ident === 'n' || (r.ident === 'd' && !yes(r.has_pk))) {
      throw new TableSyncError('INVALID_INPUT', `table ${r.rel} has no replica identity (REPLICA IDENTITY ${r.ident === 'n' ? 'NOTHING' : 'DEFAULT without a primary key'}): once it is published, PostgreSQL refuses every UPDATE and DELETE of it, so TableSync will not publish it. Give it one that carries its primary key: ${r.ident === 'n' ? `${fix} (its primary key)` : 'a primary key'} or ALTER TABLE ${r.rel} REPLICA IDENTITY FULL ${use}`, { table: r.rel, replicaIdentity: r.ident });
    }
    if (r.ident === 'i' && !yes(r.covers)) {
      throw new TableSyncError('INVALID_INPUT', `table ${r.rel} has REPLICA IDENTITY USING INDEX ${r.index}, which does not hold its primary key: its deletes and key changes would reach TableSync without the key. Run ${fix} (its primary key) or ALTER TABLE ${r.rel} REPLICA IDENTITY FULL ${use}`, { table: r.rel, replicaIdentity: r.ident, index: r.index });
    }
  }
}

/**
 * The publication of the flow's table, created when missing (partitioned tables publish through
 * their root). An existing publication must publish the table (a partitioned one through its
 * root); one TableSync did not create is never altered, and may publish other tables too (the
 * stream's changes are told apart by relation: see tableOid). Returns whether it is TableSync's
 * own (for drop).
 */
export async function ensurePublication(pool: pg.Pool, t: { schema: string; table: string }, name: string, flowName: string): Promise<boolean> {
  const rel = qualifiedName(t.schema, t.table);
  const { rows } = await pool.query<{ comment: string | null; has: boolean | string; via_root: boolean | string; missing: string | null }>(
    `SELECT obj_description(p.oid, 'pg_publication') AS comment, p.pubviaroot AS via_root,
            nullif(concat_ws(', ', CASE WHEN NOT p.pubinsert THEN 'insert' END, CASE WHEN NOT p.pubupdate THEN 'update' END,
                                   CASE WHEN NOT p.pubdelete THEN 'delete' END, CASE WHEN NOT p.pubtruncate THEN 'truncate' END), '') AS missing,
            -- published as itself, or (a partitioned table without publish_via_partition_root) partition by partition
            EXISTS (SELECT 1 FROM pg_publication_tables pt WHERE pt.pubname = p.pubname AND pt.schemaname = $2 AND pt.tablename = $3)
              OR p.puballtables OR EXISTS (SELECT 1 FROM pg_publication_rel pr WHERE pr.prpubid = p.oid AND pr.prrelid = $4::regclass) AS has
       FROM pg_publication p WHERE p.pubname = $1`,
    [name, t.schema, t.table, rel],
  );
  const cur = rows[0];
  const ours = cur?.comment === marker(flowName);
  const has = cur && (cur.has === true || cur.has === 't');
  if (cur && has && cur.missing) {
    // changes of a kind it does not publish would never reach the target: it would drift silently
    throw new TableSyncError('INVALID_INPUT', `publication "${name}" does not publish ${cur.missing} (its publish option): those changes of ${rel} would never reach the target. ${ours ? '' : 'Ask its owner to run: '}ALTER PUBLICATION ${quoteIdent(name)} SET (publish = 'insert, update, delete, truncate'); or name another publication in source.replication.publicationName`, { publication: name, missing: cur.missing });
  }
  if (cur && has && !(cur.via_root === true || cur.via_root === 't')) {
    // the stream would carry each partition's changes under the partition's name, and a partition
    // attached later would go unseen: the flow's table is told apart by its own (the root's) identity
    const { rows: k } = await pool.query<{ kind: string }>(`SELECT relkind::text AS kind FROM pg_class WHERE oid = $1::regclass`, [rel]);
    if (k[0]?.kind === 'p') {
      throw new TableSyncError('INVALID_INPUT', `publication "${name}" publishes the partitioned table ${rel} partition by partition (publish_via_partition_root is off): TableSync reads a partitioned table's changes as the table's own. ${ours ? '' : 'Ask its owner to run: '}ALTER PUBLICATION ${quoteIdent(name)} SET (publish_via_partition_root = true); or name another publication in source.replication.publicationName`, { publication: name });
    }
  }
  if (cur && has) {
    // A row filter (PostgreSQL 15+) keeps the changes of the rows outside it from the stream (a row
    // leaving it arrives as a delete), while the scan loads every row the flow's filter keeps: the
    // target would drift silently.
    const { rows: v } = await pool.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
    const { rows: f } = Number(v[0]!.v) < 150000 ? { rows: [] } : await pool.query<{ rowfilter: string | null }>(
      `SELECT rowfilter FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2 AND tablename = $3 AND rowfilter IS NOT NULL`,
      [name, t.schema, t.table],
    );
    if (f[0]?.rowfilter) {
      throw new TableSyncError('INVALID_INPUT', `publication "${name}" publishes only the rows of ${rel} where ${f[0].rowfilter} (a row filter): the changes of the other rows would never reach the target, which the scan loads by the flow's own filter. Put the condition in the flow's source.filter and name a publication without a row filter in source.replication.publicationName (or leave it out: TableSync creates its own)${ours ? '' : `, or ask its owner to run: ALTER PUBLICATION ${quoteIdent(name)} SET TABLE ${rel}`}`, { publication: name, rowFilter: f[0].rowfilter });
    }
    return ours;
  }
  if (cur && !ours) {
    throw new TableSyncError('INVALID_INPUT', `publication "${name}" exists on the source but does not publish ${rel}, and TableSync did not create it: add the table (ALTER PUBLICATION ${quoteIdent(name)} ADD TABLE ${rel};) or name another publication in source.replication.publicationName`, { publication: name });
  }
  const sql = cur
    ? [`ALTER PUBLICATION ${quoteIdent(name)} SET TABLE ${rel}`]
    : [`CREATE PUBLICATION ${quoteIdent(name)} FOR TABLE ${rel} WITH (publish_via_partition_root = true)`, `COMMENT ON PUBLICATION ${quoteIdent(name)} IS ${quoteLiteral(marker(flowName))}`];
  try {
    for (const s of sql) await pool.query(s);
  } catch (e) {
    const err = toTableSyncError(e, `creating publication "${name}" for ${rel}`);
    if (err.code === 'PERMISSION_DENIED') {
      throw new TableSyncError('PERMISSION_DENIED', `cannot create publication "${name}" for ${rel}: creating a publication needs the table's owner (or a superuser). Ask them to run: ${sql.join('; ')}; then set source.replication.publicationName to "${name}"`, { publication: name, sql });
    }
    throw err;
  }
  return true;
}

/**
 * The OID of the flow's table on the source: the relation the stream's changes of it carry (a
 * partitioned table's, published through its root). A publication may publish other tables too
 * (one the user named, FOR ALL TABLES): only changes of this relation are the flow's.
 */
export async function tableOid(pool: pg.Pool, t: { schema: string; table: string }): Promise<number> {
  const { rows } = await pool.query<{ oid: string }>(`SELECT $1::regclass::oid::text AS oid`, [qualifiedName(t.schema, t.table)]);
  return Number(rows[0]!.oid);
}

export interface SlotInfo {
  plugin: string | null;
  database: string | null;
  active: boolean;
  activePid: number | null;
  walStatus: string | null;
  confirmedFlush: string | null;
  currentDatabase: string;
}

export async function slotInfo(pool: pg.Pool, slot: string): Promise<SlotInfo | undefined> {
  const { rows } = await pool.query<{ plugin: string | null; database: string | null; active: boolean | string; active_pid: string | null; wal_status: string | null; confirmed_flush_lsn: string | null; db: string }>(
    `SELECT plugin, database, active, active_pid, wal_status, confirmed_flush_lsn::text, current_database() AS db FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const r = rows[0];
  if (!r) return undefined;
  return { plugin: r.plugin, database: r.database, active: r.active === true || r.active === 't', activePid: r.active_pid === null ? null : Number(r.active_pid), walStatus: r.wal_status, confirmedFlush: r.confirmed_flush_lsn, currentDatabase: r.db };
}

/** The slot is usable by this flow, or an error says why not (wrong plugin or database, invalidated). */
export function checkSlot(slot: string, info: SlotInfo): void {
  if (info.plugin !== 'pgoutput' || info.database !== info.currentDatabase) {
    throw new TableSyncError('INVALID_INPUT', `replication slot "${slot}" exists but is not a pgoutput slot of database "${info.currentDatabase}" (plugin ${info.plugin ?? 'none'}, database ${info.database ?? 'none'}): name another one in source.replication.slotName`, { slot });
  }
  if (info.walStatus === 'lost') {
    throw new TableSyncError('UNSUPPORTED', `replication slot "${slot}" was invalidated: it fell further behind than max_slot_wal_keep_size allows and the server removed the WAL it needed, so the changes since it last confirmed are gone. Resync: \`tablesync watch FLOW.json --resync\` (or "Resync" in the monitor) drops and recreates the slot and runs a full catch-up`, { slot, invalidated: true });
  }
}

export async function createSlot(pool: pg.Pool, slot: string): Promise<void> {
  try {
    await pool.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
  } catch (e) {
    // configuration_limit_exceeded: another slot was made since checkSlotRoom
    if ((e as { code?: string }).code === '53400') throw slotsFull((await pool.query<{ m: string }>(`SELECT current_setting('max_replication_slots') AS m`).catch(() => undefined))?.rows[0]?.m ?? '?');
    throw toTableSyncError(e, `creating replication slot "${slot}" on the source`);
  }
}

/** Application name of the replication connection: a stale one of ours may be ended (we hold the flow lock). */
export const REPLICATION_APP = 'tablesync replication';

/** End a walsender still holding the slot that is ours (a watch killed before the server noticed). */
export async function releaseStaleSlot(pool: pg.Pool, info: SlotInfo): Promise<boolean> {
  if (!info.active || info.activePid === null) return true;
  const { rows } = await pool.query<{ ok: boolean | string | null }>(
    `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE pid = $1 AND application_name = $2`,
    [info.activePid, REPLICATION_APP],
  );
  return rows.length > 0;
}

/**
 * What identifies the publication's hold on the table, or undefined when it does not publish it
 * (or does not exist): the publication's row (its OID, and the transaction that last changed it:
 * ALTER PUBLICATION … SET, RENAME, OWNER), whether it is FOR ALL TABLES, and the table's own entry
 * in it (dropped and added again is another entry). While it is the same, the stream has carried
 * every change of the table since the slot last confirmed. pgoutput does not send the changes made
 * while a table was not published, or (PostgreSQL 15) sends nothing at all once the publication
 * was dropped: a signature that moved is the only trace of either.
 */
export async function publicationSignature(pool: pg.Pool, name: string, t: { schema: string; table: string }): Promise<string | undefined> {
  const { rows } = await pool.query<{ sig: string | null }>(
    `SELECT concat_ws(':', p.oid, p.xmin, p.puballtables, p.pubinsert, p.pubupdate, p.pubdelete, p.pubtruncate, p.pubviaroot,
                      (SELECT pr.oid::text || '.' || pr.xmin::text FROM pg_publication_rel pr WHERE pr.prpubid = p.oid AND pr.prrelid = c.oid)) AS sig
       FROM pg_publication p, pg_class c
      WHERE p.pubname = $1 AND c.oid = $2::regclass
        AND (p.puballtables OR EXISTS (SELECT 1 FROM pg_publication_rel pr WHERE pr.prpubid = p.oid AND pr.prrelid = c.oid)
             OR EXISTS (SELECT 1 FROM pg_publication_tables pt WHERE pt.pubname = p.pubname AND pt.schemaname = $3 AND pt.tablename = $4))`,
    [name, qualifiedName(t.schema, t.table), t.schema, t.table],
  );
  return rows[0]?.sig ?? undefined;
}

export async function dropSlot(pool: pg.Pool, slot: string): Promise<void> {
  const info = await slotInfo(pool, slot);
  if (!info) return;
  if (info.active) {
    await releaseStaleSlot(pool, info);
    // the walsender lets go of the slot as it exits
    for (let i = 0; i < 50 && (await slotInfo(pool, slot))?.active; i++) await new Promise((r) => setTimeout(r, 100));
  }
  await pool.query(`SELECT pg_drop_replication_slot($1) WHERE EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)`, [slot]);
}

/** Drop the publication when it carries this flow's marker. */
export async function dropPublicationIfOurs(pool: pg.Pool, name: string, flowName: string): Promise<boolean> {
  const { rows } = await pool.query<{ comment: string | null }>(`SELECT obj_description(oid, 'pg_publication') AS comment FROM pg_publication WHERE pubname = $1`, [name]);
  if (rows[0]?.comment !== marker(flowName)) return false;
  await pool.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(name)}`);
  return true;
}

/** How far the slot is behind the server's WAL (bytes), and its WAL status. */
export async function slotLag(pool: pg.Pool, slot: string): Promise<{ bytes: number | null; walStatus: string | null } | undefined> {
  const { rows } = await pool.query<{ bytes: string | null; wal_status: string | null }>(
    `SELECT greatest(0, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn))::int8 AS bytes, wal_status FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const r = rows[0];
  return r ? { bytes: r.bytes === null ? null : Number(r.bytes), walStatus: r.wal_status } : undefined;
}

/** The prefix of the one logical message a watch writes when it starts (pgoutput forwards messages only to consumers that ask). */
const CATCH_UP_MESSAGE_PREFIX = 'tablesync';

/**
 * Where a (re)started stream has caught up: past every transaction the source had committed when
 * the watch started. A walsender sends only WAL the server has flushed, so a position past
 * unflushed WAL (a commit made with synchronous_commit = off, a running-transactions record) would
 * be reached only when the server's WAL writer next flushes, up to wal_writer_delay (200 ms) later.
 * So the watch writes one empty transactional logical message and commits it durably
 * (synchronous_commit = local for that transaction: flushed on this server): its position is after every earlier commit, and
 * the commit flushes the WAL up to it. Where the server refuses (a standby in recovery, a
 * revoked function), the current WAL insert position, which the stream reaches after the next flush.
 */
export async function catchUpTarget(pool: pg.Pool): Promise<string> {
  const client = await pool.connect();
  let broken = false;
  try {
    // local: flushed here, without waiting for a synchronous standby (one that is down would hang every restart)
    await client.query('BEGIN; SET LOCAL synchronous_commit = local');
    const { rows } = await client.query<{ l: string }>(`SELECT pg_logical_emit_message(true, ${quoteLiteral(CATCH_UP_MESSAGE_PREFIX)}, '')::text AS l`);
    await client.query('COMMIT');
    return rows[0]!.l;
  } catch {
    await client.query('ROLLBACK').catch(() => { broken = true; });
    return (await client.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0]!.l;
  } finally {
    client.release(broken);
  }
}

/** How far the slot's restart point (where the server starts decoding when the slot is next used) is behind the server's WAL, in bytes. */
export async function restartBehind(pool: pg.Pool, slot: string): Promise<number | undefined> {
  const { rows } = await pool.query<{ b: string | null }>(
    `SELECT greatest(0, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn))::int8 AS b FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const b = rows[0]?.b;
  return b === null || b === undefined ? undefined : Number(b);
}

/**
 * Have the source write a running-transactions record now and return a position at or past it.
 * A logical slot's restart point (restart_lsn: where the walsender starts decoding when the slot
 * is next used) only moves to such a record once the slot has confirmed past it; the server writes
 * one every 15 s while there is activity (background writer) and at checkpoints, so without this a
 * watch stopped soon after a large load would decode that whole load again on its next start.
 * - PostgreSQL 16+: pg_log_standby_snapshot(), when this role may execute it (superuser, or granted).
 * - Otherwise: create and drop a temporary logical slot of our own (the REPLICATION privilege the
 *   capture needs already allows it; the server logs the record to build the slot's snapshot).
 *   It waits for transactions running at that moment to end, so it gives up after `timeoutMs`.
 *   A CHECKPOINT would do it too, but a checkpoint is server-wide I/O that is not ours to start.
 * Returns undefined when neither was possible (then the server's own records move it, later).
 */
export async function logRunningXacts(pool: pg.Pool, timeoutMs = 2000): Promise<string | undefined> {
  const client = await pool.connect();
  let broken = false;
  try {
    const { rows } = await client.query<{ v: string; may: boolean | string }>(
      `SELECT current_setting('server_version_num') AS v,
              current_setting('server_version_num')::int >= 160000 AND has_function_privilege('pg_catalog.pg_log_standby_snapshot()', 'EXECUTE') AS may`,
    ).catch(() => client.query<{ v: string; may: boolean | string }>(`SELECT current_setting('server_version_num') AS v, false AS may`));
    if (rows[0]?.may === true || rows[0]?.may === 't') {
      return (await client.query<{ l: string }>('SELECT pg_log_standby_snapshot()::text AS l')).rows[0]!.l;
    }
    const name = `tablesync_tmp_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
    await client.query(`SET statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
    try {
      const { rows: made } = await client.query<{ l: string }>(`SELECT lsn::text AS l FROM pg_create_logical_replication_slot($1, 'pgoutput', true)`, [name]);
      await client.query(`SELECT pg_drop_replication_slot($1)`, [name]);
      return made[0]?.l;
    } finally {
      await client.query('RESET statement_timeout').catch(() => { broken = true; });
    }
  } catch {
    broken = true; // the temporary slot (if any) goes with the session
    return undefined;
  } finally {
    client.release(broken);
  }
}

/** The SQL drop shows for a logical flow's source objects. */
export function logicalDropSql(state: Pick<LogicalState, 'slot' | 'publication'>, dropPublication: boolean): string[] {
  return [
    `SELECT pg_drop_replication_slot(${quoteLiteral(state.slot)})`,
    ...(dropPublication ? [`DROP PUBLICATION IF EXISTS ${quoteIdent(state.publication)}`] : []),
  ];
}
