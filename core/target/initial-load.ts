/**
 * The initial load: a flow's first apply into a table this apply creates. Nothing is tracked yet,
 * so there is nothing to diff: no key scan into a temporary table, no staging, no merge. The rows
 * go straight from the source (N range readers on ONE snapshot, core/source/bulk-read.ts) into
 * the new table, in COPY binary where both sides allow it (core/sql/binary-copy.ts), text
 * otherwise; the primary key is built once after the load; tracking is filled set-based from the
 * same snapshot (the loaded table's own ordinal column when it has one, else the source's marks),
 * so it describes exactly the rows that landed, whatever the source does meanwhile.
 *
 * All or nothing:
 * - one stream: everything in the apply's own transaction; the table and the tracking table are
 *   created in it, so COPY … FREEZE writes the rows already frozen.
 * - N streams (one transaction can only use one connection): the streams COPY, each in its own
 *   transaction on its own connection, into a staging table of ours in the state schema
 *   (`tablesync."_load__{flow}"`, marked by its COMMENT), which the apply's transaction then moves
 *   into place (ALTER TABLE … SET SCHEMA / RENAME, no copy), keys, tracks and commits with the
 *   rest: the table appears at once with the commit, or not at all. A failure drops the staging
 *   tables; a SIGKILL leaves them, and the next apply of the flow (under the flow's lock) drops
 *   them first. A table of that name that is not marked as ours is never touched (the load then
 *   runs as one stream).
 */
import type pg from 'pg';
import { MAX_LOAD_STREAMS } from '../flow/schema';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { copyInFrames } from '../sql/copy-relay';
import type { PlanStep, RowCounts } from '../api/model';
import { TableSyncError, toTableSyncError } from '../errors';
import { fitIdentifier, qualifiedName, quoteIdent, quoteLiteral } from '../sql/ident';
import { STATE_SCHEMA, ensureStateSchema, trackingTableName } from '../state/store';
import { createTableSql } from './ddl-planner';
import type { Prepared } from './prepare';
import { scanMarks, tuneTransaction } from './rows';
import { connectionHeadroom, type BulkRange, type BulkReader } from '../source/bulk-read';

/** Below this many rows (catalog estimate) one stream is as fast as several. */
export const PARALLEL_MIN_ROWS = 250_000;
/**
 * Rows per row stream the default aims at (at least 2 from PARALLEL_MIN_ROWS on), and the most row
 * streams chosen by default; each parallel load also has one stream for the tracking marks. Tuned
 * on 2 cores (bench:load, PostgreSQL 15 and 18): 2, 3 and 4 row streams were within noise of each
 * other at 1M rows, so the default takes the fewest connections that keep both cores busy.
 */
const ROWS_PER_STREAM = 500_000;
const DEFAULT_MAX_STREAMS = 3;
/** Ranges per row stream: the streams take them from one queue, so none is left alone at the end. */
const RANGES_PER_STREAM = 4;

export interface InitialLoadOptions {
  /** Streams asked for (flow `load.streams`, `--streams`): used as given (within what the servers allow). */
  streams?: number;
  /** A pool of extra target connections for the streams (N > 1 needs one; without it the load is one stream). */
  openTargetPool?: (max: number) => pg.Pool;
  onPhase?: (phase: 'loading' | 'merging', rowsDone: number, rowsTotal: number | null, message?: string) => void;
  signal?: AbortSignal;
}

export interface InitialLoadPlan {
  streams: number;
  binaryRows: boolean;
  binaryMarks: boolean;
  /** Tracking's ordinals come from the loaded table's own ordinal column (no mark scan). */
  marksFromTable: boolean;
  estimatedRows: number;
}

const stagingName = (flow: string) => fitIdentifier(`_load__${flow}`);
const marksStagingName = (flow: string) => fitIdentifier(`_load_marks__${flow}`);
const stagingMarker = (flow: string) => `tablesync staging load of flow ${JSON.stringify(flow)}; dropped by its next apply`;

/** The create-table step of a fresh table, when this apply has one. */
function createStep(p: Prepared): PlanStep | undefined {
  return p.preSteps.find((s) => s.kind === 'create-table' && s.sql.length === 1 && s.sql[0]!.startsWith(`CREATE TABLE ${p.tableSql} `));
}

/**
 * Whether this apply is an initial load that can take the direct path, and how: streams, formats.
 * Undefined → the general path (scan, diff, stage, merge).
 */
export async function planInitialLoad(client: pg.ClientBase, p: Prepared, opts: Pick<InitialLoadOptions, 'streams' | 'openTargetPool'> & { repair?: boolean; /** Read the source's size (for the stream count and progress); a set's one-stream member skips it, so its check reads no source table. */ estimate?: boolean }): Promise<InitialLoadPlan | undefined> {
  const bulk = p.job.source.bulk;
  if (!bulk || opts.repair || p.trackingExists || !p.freshTable || !p.directLoad || !p.copyIn || p.job.target.managedBy !== 'system' || !createStep(p)) return undefined;
  const utf8 = bulk.encoding === 'UTF8' && p.targetEncoding === 'UTF8';
  const src = p.job.source;
  const ordinalCol = src.mode === 'ordinal' && !p.nullableOrdinal ? p.columns.find((c) => c.sourceName === src.ordinalColumn) : undefined;
  const size = opts.estimate === false ? { rows: 0, bytes: 0 } : await bulk.size().catch(() => ({ rows: 0, bytes: 0 }));
  let streams = opts.streams ?? (size.rows < PARALLEL_MIN_ROWS ? 1 : Math.max(2, Math.min(DEFAULT_MAX_STREAMS, Math.ceil(size.rows / ROWS_PER_STREAM))));
  // N > 1 row streams take N + 1 connections on each side: the tracking marks have a stream of their own.
  streams = Math.max(1, Math.min(MAX_LOAD_STREAMS, Math.trunc(streams), bulk.maxReaders - 1));
  if (streams > 1 && !opts.openTargetPool) streams = 1;
  if (streams > 1) {
    // Leave both servers room: at most half of the connections either could still give.
    const room = Math.min(await bulk.headroom().catch(() => 0), await connectionHeadroom(client).catch(() => 0));
    streams = Math.max(1, Math.min(streams, Math.floor(room / 2) - 1));
  }
  return { streams, binaryRows: utf8 && bulk.binaryRows, binaryMarks: utf8 && bulk.binaryMarks, marksFromTable: ordinalCol !== undefined, estimatedRows: size.rows };
}

/** The CopyData messages of `data` (a BulkReader COPY, already started) into `tableSql`. */
async function copyInto(client: pg.ClientBase, tableSql: string, columnsSql: string, data: Readable, binary: boolean, freeze: boolean, signal?: AbortSignal): Promise<number> {
  const options = [...(binary ? ['FORMAT binary'] : []), ...(freeze ? ['FREEZE'] : [])];
  const stream = client.query(copyInFrames(`COPY ${tableSql} (${columnsSql}) FROM STDIN${options.length ? ` (${options.join(', ')})` : ''}`));
  await (signal ? pipeline(data, stream, { signal }) : pipeline(data, stream));
  return stream.rowCount;
}

/** Our own staging table of `name` exists (marked by its comment); false when absent; throws when a table not ours holds the name. */
async function stagingState(client: pg.ClientBase, name: string, flow: string): Promise<'absent' | 'ours' | 'foreign'> {
  const { rows } = await client.query(`SELECT obj_description(c.oid, 'pg_class') AS d FROM pg_class c WHERE c.oid = to_regclass($1)`, [qualifiedName(STATE_SCHEMA, name)]);
  if (rows.length === 0) return 'absent';
  return (rows[0] as { d: string | null }).d === stagingMarker(flow) ? 'ours' : 'foreign';
}

/**
 * Drop the staging tables a killed load of this flow left behind (ours only: marked by their
 * comment). Runs under the flow's lock, so no load of this flow is running. Returns whether the
 * names are free for a new staged load.
 */
export async function cleanupStaging(client: pg.ClientBase, flow: string): Promise<boolean> {
  let free = true;
  for (const name of [stagingName(flow), marksStagingName(flow)]) {
    const s = await stagingState(client, name, flow);
    if (s === 'ours') await client.query(`DROP TABLE ${qualifiedName(STATE_SCHEMA, name)}`);
    if (s === 'foreign') free = false;
  }
  return free;
}

const rowColsSql = (p: Prepared) => p.columns.map((c) => quoteIdent(c.name)).join(', ');

/** The rows of `range` (undefined: all) from `reader` into `table`. */
function copyRows(p: Prepared, plan: InitialLoadPlan, reader: BulkReader, range: BulkRange | undefined, client: pg.ClientBase, table: string, freeze: boolean, signal?: AbortSignal): Promise<number> {
  return copyInto(client, table, rowColsSql(p), reader.rows(range, plan.binaryRows ? 'binary' : 'text'), plan.binaryRows, freeze, signal);
}

/** Every row's tracking marks (key, ordinal / fingerprint) from `reader` into `table`. */
function copyMarks(p: Prepared, plan: InitialLoadPlan, reader: BulkReader, client: pg.ClientBase, table: string, freeze: boolean, signal?: AbortSignal): Promise<number> {
  return copyInto(client, table, trackColsSql(p), reader.marks(p.job.source.bulk!.markSql, undefined, plan.binaryMarks ? 'binary' : 'text'), plan.binaryMarks, freeze, signal);
}

/** Tracking's key and mark columns (quoted), in the order of a mark scan. */
function trackColsSql(p: Prepared, alias = ''): string {
  return [...p.keyColumns.map((k) => quoteIdent(k.name)), ...scanMarks(p).map((m) => m.track)].map((c) => alias + c).join(', ');
}

/**
 * Run an initial load inside the apply's transaction on `client` (which holds the flow's lock):
 * `runPreSteps` is called with the pre-load steps to run (the create-table step rewritten), then
 * the rows move, the primary key is built and tracking filled. Returns the rows loaded, and how
 * they were loaded (`how`: "3 streams, binary COPY", the words of its progress messages).
 */
export async function runInitialLoad(
  client: pg.ClientBase,
  p: Prepared,
  plan: InitialLoadPlan,
  runPreSteps: (steps: PlanStep[]) => Promise<void>,
  opts: InitialLoadOptions,
): Promise<{ rows: RowCounts; done: Set<PlanStep>; how: string }> {
  const flow = p.job.flowName;
  const bulk = p.job.source.bulk!;
  const target = p.job.target;
  const step = createStep(p)!;
  const keyList = p.keyColumns.map((k) => quoteIdent(k.name)).join(', ');
  const marksToTrack = !plan.marksFromTable;
  // The steps this load does itself (the caller skips them): the tracking key, when built early.
  const done = new Set<PlanStep>();
  const trackStep = p.preSteps.find((s) => s.kind === 'state' && s.sql.some((x) => x.startsWith(`CREATE TABLE ${p.trackingSql} (`)));
  const trackingCreate = trackStep?.sql.find((x) => x.startsWith(`CREATE TABLE ${p.trackingSql} (`));
  const trackPk = p.postSteps.find((s) => s.kind === 'state' && s.sql.length === 1 && s.sql[0]!.startsWith(`ALTER TABLE ${p.trackingSql} ADD PRIMARY KEY`));
  // Staging tables are created before this apply's DDL runs: a type that DDL brings (pgvector's
  // extension) would not exist yet, so such a load runs as one stream.
  const stageable = trackStep && trackingCreate && trackPk && !p.preSteps.some((s) => s.kind === 'create-extension');
  let streams = stageable ? plan.streams : 1;
  // Leftovers of a killed staged load: dropped here, on a connection of their own, so the name is
  // free (committed) before the streams' connections create it again.
  const pool = streams > 1 ? opts.openTargetPool!(streams + 1) : undefined;
  if (pool) {
    const free = await withClient(pool, (c) => cleanupStaging(c, flow));
    if (!free) {
      streams = 1;
      await pool.end().catch(() => {});
    }
  } else await cleanupStaging(client, flow);
  const phase = (n: number, msg: string) => opts.onPhase?.('loading', n, plan.estimatedRows || null, msg);
  const format = `${plan.binaryRows ? 'binary' : 'text'} COPY`;
  let how = `1 stream, ${format}`;
  let loaded = 0;

  if (streams === 1) {
    // The table and tracking are created in this transaction: COPY FREEZE into both.
    const steps = p.preSteps.map((s) => (s === step ? { ...s, sql: [createTableSql(target.schema, target.table, p.columns, { primaryKey: false })] } : s));
    await runPreSteps(steps);
    phase(0, `1 stream, ${format}`);
    try {
      loaded = await bulk.read({ ranges: 1, readers: () => 1 }, async ([reader]) => {
        const n = await copyRows(p, plan, reader!, undefined, client, p.tableSql, true, opts.signal);
        if (marksToTrack) await copyMarks(p, plan, reader!, client, p.trackingSql, true, opts.signal);
        return n;
      }, { ...(opts.signal ? { signal: opts.signal } : {}), estimatedRows: plan.estimatedRows });
    } catch (e) {
      if (opts.signal?.aborted) throw cancelled(flow, e);
      throw e;
    }
    phase(loaded, `1 stream, ${format}`);
  } else {
    const staging = qualifiedName(STATE_SCHEMA, stagingName(flow));
    const marksStaging = qualifiedName(STATE_SCHEMA, marksStagingName(flow));
    if (!pool || !trackingCreate) throw new Error('unreachable: staged load without a pool or a tracking step');
    let moved = false;
    try {
      // The staging tables, committed (the streams' connections must see them), marked as ours.
      const setup = await pool.connect();
      try {
        await setup.query('BEGIN');
        await ensureStateSchema(setup);
        await setup.query(createTableSql(STATE_SCHEMA, stagingName(flow), p.columns, { primaryKey: false }));
        await setup.query(`COMMENT ON TABLE ${staging} IS ${quoteLiteral(stagingMarker(flow))}`);
        // Tracking's own layout (the create-tracking step's statement, under the staging name).
        await setup.query(trackingCreate.replace(`CREATE TABLE ${p.trackingSql} (`, `CREATE TABLE ${marksStaging} (`));
        await setup.query(`COMMENT ON TABLE ${marksStaging} IS ${quoteLiteral(stagingMarker(flow))}`);
        await setup.query('COMMIT');
        setup.release();
      } catch (e) {
        await setup.query('ROLLBACK').catch(() => {});
        setup.release(true);
        throw e;
      }
      // The row streams take the table's ranges from one queue (more ranges than streams, so they
      // end together); the tracking marks go on a stream of their own, which also builds their key
      // while the rows still load. Each stream is one transaction on one target connection. The
      // first failure aborts the others (their transactions roll back); the staging tables are
      // dropped below.
      loaded = await bulk.read({ ranges: streams * RANGES_PER_STREAM, readers: (ranges) => Math.min(streams, ranges) + 1 }, async ([marksReader, ...rowReaders], ranges) => {
        const label = `${rowReaders.length} stream${rowReaders.length > 1 ? 's' : ''}, ${format}`;
        how = label;
        phase(0, label);
        let done = 0;
        let firstError: { e: unknown } | undefined;
        const ac = new AbortController();
        const onAbort = () => ac.abort();
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        const queue = [...ranges];
        const stream = async (body: (c: pg.PoolClient) => Promise<number>): Promise<number> => {
          const c = await pool.connect();
          let clean = false;
          try {
            // Not durable on its own: the apply's commit, after these in the WAL, makes them durable.
            // Only our staging tables are written here, so the server's lock_timeout (kept for the
            // apply's own DDL) is not: the streams wait for each other to extend the one table.
            await c.query(`BEGIN; SET LOCAL synchronous_commit = off; SET LOCAL maintenance_work_mem = '256MB'; SET LOCAL lock_timeout = 0`);
            await tuneTransaction(c);
            const n = await body(c);
            // Another stream failed (or the apply was cancelled) while this one ran a key build: roll back.
            if (ac.signal.aborted) throw new TableSyncError('CANCELLED', `apply of flow "${flow}": stopped because another load stream failed or the apply was cancelled`);
            await c.query('COMMIT');
            clean = true;
            return n;
          } catch (e) {
            // The first failure is the cause; the streams it aborts fail after it.
            firstError ??= { e };
            ac.abort();
            throw e;
          } finally {
            if (!clean) await c.query('ROLLBACK').catch(() => {});
            c.release(clean ? undefined : true);
          }
        };
        try {
          const settled = await Promise.allSettled([
            stream(async (c) => {
              await copyMarks(p, plan, marksReader!, c, marksStaging, false, ac.signal);
              // The rows still load on the other cores: no parallel workers for this key.
              await c.query(`SET LOCAL max_parallel_maintenance_workers = 0`);
              await addPrimaryKey(c, marksStaging, keyList, p.trackingSql);
              return 0;
            }),
            ...rowReaders.map((reader) => stream(async (c) => {
              let n = 0;
              for (let range = queue.shift(); range; range = queue.shift()) {
                const k = await copyRows(p, plan, reader, range, c, staging, false, ac.signal);
                n += k;
                done += k;
                phase(done, label);
              }
              return n;
            })),
          ]);
          // Every stream has ended (committed or rolled back) before the staging tables may be dropped.
          if (opts.signal?.aborted) throw cancelled(flow, firstError?.e);
          if (firstError) throw firstError.e;
          return settled.reduce((a, r) => a + (r.status === 'fulfilled' ? r.value : 0), 0);
        } finally {
          opts.signal?.removeEventListener('abort', onAbort);
        }
      }, { ...(opts.signal ? { signal: opts.signal } : {}), estimatedRows: plan.estimatedRows });
      if (opts.signal?.aborted) throw cancelled(flow);
      // The table's key, once every row is in (tracking's is built): alone now, so with the parallel workers the server allows.
      opts.onPhase?.('merging', loaded, loaded, 'primary key');
      await withClient(pool, async (c) => {
        await c.query(`SET maintenance_work_mem = '256MB'`).catch(() => {});
        await addPrimaryKey(c, staging, keyList, p.tableSql);
      });
      // Into place, in the apply's transaction: no row is copied, no index built again.
      const steps = p.preSteps.map((s) => {
        if (s === step) {
          return { ...s, sql: [
            `ALTER TABLE ${staging} SET SCHEMA ${quoteIdent(target.schema)}`,
            `ALTER TABLE ${qualifiedName(target.schema, stagingName(flow))} RENAME TO ${quoteIdent(target.table)}`,
            `COMMENT ON TABLE ${p.tableSql} IS NULL`,
          ] };
        }
        if (s === trackStep) return { ...s, sql: [...s.sql.filter((x) => x !== trackingCreate), `ALTER TABLE ${marksStaging} RENAME TO ${quoteIdent(trackingTableName(flow))}`, `COMMENT ON TABLE ${p.trackingSql} IS NULL`] };
        return s;
      });
      await runPreSteps(steps);
      moved = true;
      // The keys' names as CREATE TABLE … PRIMARY KEY would have chosen them (now that the old ones are gone).
      await renamePrimaryKey(client, target.schema, target.table);
      await renamePrimaryKey(client, STATE_SCHEMA, trackingTableName(flow));
      done.add(trackPk!);
    } catch (e) {
      if (!moved) await dropStaging(pool, flow);
      throw e;
    } finally {
      await pool.end().catch(() => {});
    }
  }

  if (streams > 1) return { rows: counts(loaded), done, how };
  opts.onPhase?.('merging', loaded, loaded, 'primary key and tracking');
  try {
    await client.query(`ALTER TABLE ${p.tableSql} ADD PRIMARY KEY (${keyList})`);
  } catch (e) {
    throw toTableSyncError(e, `building the primary key of ${p.tableSql}`);
  }
  if (plan.marksFromTable) {
    const ord = p.columns.find((c) => c.sourceName === p.job.source.ordinalColumn)!;
    await client.query(`INSERT INTO ${p.trackingSql} (${keyList}, ${scanMarks(p)[0]!.track}) SELECT ${keyList}, ${quoteIdent(ord.name)} FROM ${p.tableSql}`);
  }
  return { rows: counts(loaded), done, how };
}

const cancelled = (flow: string, cause?: unknown) =>
  new TableSyncError('CANCELLED', `apply of flow "${flow}" was cancelled; the target is unchanged`, undefined, cause === undefined ? undefined : { cause });

const counts = (loaded: number): RowCounts => ({ insert: loaded, update: 0, delete: 0, unchanged: 0, foreign: 0 });

/** `name` clipped to `bytes` UTF-8 bytes on a character boundary (PostgreSQL's pg_mbcliplen). */
function clipBytes(name: string, bytes: number): string {
  let out = '';
  let n = 0;
  for (const ch of name) {
    const b = Buffer.byteLength(ch);
    if (n + b > bytes) break;
    out += ch;
    n += b;
  }
  return out;
}

/**
 * Rename the primary key `current` of schema.table to the name CREATE TABLE would have given it:
 * `{table}_pkey` (the table name clipped so the whole fits 63 bytes), or `{table}_pkey1`, `2`…
 * when another relation of the schema has that name (PostgreSQL's ChooseRelationName).
 */
async function renamePrimaryKey(client: pg.ClientBase, schema: string, table: string): Promise<void> {
  const { rows } = await client.query(`SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'`, [qualifiedName(schema, table)]);
  const current = (rows[0] as { conname: string } | undefined)?.conname;
  if (current === undefined) return;
  for (let pass = 0; pass < 100; pass++) {
    const label = `pkey${pass === 0 ? '' : pass}`;
    const name = `${clipBytes(table, 63 - label.length - 1)}_${label}`;
    if (name === current) return;
    const taken = (await client.query(`SELECT to_regclass($1) IS NOT NULL AS t`, [qualifiedName(schema, name)])).rows[0] as { t: string };
    if (taken.t === 't') continue;
    await client.query(`ALTER TABLE ${qualifiedName(schema, table)} RENAME CONSTRAINT ${quoteIdent(current)} TO ${quoteIdent(name)}`);
    return;
  }
}

/** `ALTER TABLE staging ADD PRIMARY KEY (keys)`; a failure names the table the rows are for. */
async function addPrimaryKey(c: pg.ClientBase, staging: string, keyList: string, forTable: string): Promise<void> {
  try {
    await c.query(`ALTER TABLE ${staging} ADD PRIMARY KEY (${keyList})`);
  } catch (e) {
    throw toTableSyncError(e, `building the primary key of the loaded rows of ${forTable}`);
  }
}

async function withClient<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    const out = await fn(c);
    c.release();
    return out;
  } catch (e) {
    c.release(true);
    throw e;
  }
}

/** Best effort, after a failed staged load: drop our staging tables (else the next apply does). */
async function dropStaging(pool: pg.Pool, flow: string): Promise<void> {
  const c = await pool.connect().catch(() => undefined);
  if (!c) return;
  try {
    await cleanupStaging(c, flow);
    c.release();
  } catch {
    c.release(true);
  }
}

/**
 * The plan digest (plan.ts: diffDigest over the scan) of an initial load, from what was tracked:
 * the same rows (keys, marks, "not tracked", 0) as the scan would have held.
 */
export async function initialLoadDigest(client: pg.ClientBase, p: Prepared): Promise<string> {
  const cols = trackColsSql(p, 't.');
  const c = await client.query(`SELECT count(*) AS n, coalesce(sum(hashtextextended(c::text, 0)::numeric), 0)::text AS h FROM (SELECT ${cols}, false, 0::bigint FROM ${p.trackingSql} t) c`);
  return `${c.rows[0].n}:${c.rows[0].h}`;
}
