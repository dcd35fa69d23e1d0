/**
 * Logical-replication capture (DESIGN §3 Live, issue 12): `source.replication` instead of
 * `notification`. A publication for the table and a pgoutput slot on the source; no trigger, no
 * table ownership (the REPLICATION privilege and wal_level = logical).
 *
 * The stream carries the data, and it is applied directly:
 * - Changes are collected per source transaction; complete transactions are coalesced per key (the
 *   last change of a key wins; a key change deletes the old key; a TRUNCATE removes every tracked
 *   row and what came before it in the batch) and applied in ONE target transaction per batch.
 * - The filter is evaluated by the source server over the streamed values (core/source's
 *   filter-values: one READ ONLY statement per batch, the table is not read). A row whose filter
 *   result cannot be known from the change (an unchanged TOASTed value, a generated column) is
 *   re-read by key, as trigger capture does.
 * - The end LSN of the last source transaction in a batch is written to the flow's state in that
 *   same target transaction, and the slot is acknowledged only after the COMMIT. A crash anywhere
 *   makes the server resend from the slot's confirmed position, and transactions at or below the
 *   recorded LSN are skipped: nothing lost, nothing applied twice.
 * - Restarting resumes from the slot: the catch-up is the replay of what changed ("slot" mode).
 *   Only a new slot (first watch, or a resync) or a flow that needs an apply first runs a scan
 *   (the changes from the slot's creation on are replayed over it, which converges).
 * - The slot holds WAL on the source: its lag (bytes behind the server's WAL, and how old the
 *   oldest change not yet applied is) goes into status lines every `lagStatusMs`, with a warning
 *   past `lagWarnBytes`; an invalidated slot (max_slot_wal_keep_size) fails the watch with an
 *   error that says so and how to resync (`resync: true` drops and recreates it, then a full catch-up).
 */
import pg from 'pg';
import type * as ReplicationLibNs from 'pg-logical-replication';
import type { CatchUpInfo, ChangeEvent, ListenerStatus } from '../api/model';
import { poolConfig } from '../connections/pool';
import { OUTPUT_SETTINGS_OPTIONS } from '../sql/text-settings';
import { parseConnectionUrl } from '../connections/url';
import { INPUT_ERROR_CODES, TableSyncError } from '../errors';
import { quoteIdent } from '../sql/ident';
import { flowsTableSql, liveStateUpdateSql, readFlowState, writeLiveState, withFlowLock } from '../state';
import { catchUpOn, prepareKeySync, type FlowContext, type KeySync } from '../target';
import { jobFromFlow } from '../target/flow-job';
import type { Row } from '../target/row-source';
import type { SyncJob } from '../target/job';
import {
  REPLICATION_APP, catchUpTarget, checkReplicaIdentity, checkReplicationAllowed, checkSlot, checkSlotRoom, createSlot, dropSlot, ensurePublication, isLogicalState, logRunningXacts,
  logicalNames, lsnText, lsnValue, publicationSignature, releaseStaleSlot, restartBehind, slotInfo, slotLag, tableOid, type LogicalState, type SlotInfo,
} from './logical-objects';
import { deliverSafely, supervise, type SupervisedCycle } from './supervise';
import { partitionSignature } from './capture';
export { logicalDropSql } from './logical-objects';
import type { WatchHandle, WatchOptions } from './watch';

export interface LogicalWatchOptions extends WatchOptions {
  /** Drop and recreate an invalidated slot, then run a full catch-up. */
  resync?: boolean;
  /** Warn in status lines when the slot holds more WAL than this (bytes; default 1 GiB). */
  lagWarnBytes?: number;
  /**
   * At most this many changes wait in memory; the stream is paused above it. A single source
   * transaction with more changes than this is not held: its commit is applied by a full rescan.
   */
  maxBufferedChanges?: number;
  /**
   * While changes stream in faster than ~1,000 a second, a batch waits up to this long (ms) for
   * company before it is applied (default 5; 0: never). Below that rate each batch is applied as
   * soon as it is complete: the live latency of a quiet or moderate stream is not touched.
   */
  gatherMs?: number;
}

type Tuple = Record<string, string | null | undefined>;
interface Change { op: 'insert' | 'update' | 'delete' | 'truncate'; oldKey?: Row; key?: Row; row?: Tuple }
/**
 * `rescan`: why the transaction's changes cannot be applied one by one (more of them than the buffer
 * holds, or a change without the flow's key columns): they were dropped, and its commit is applied by a full rescan.
 */
interface Tx { endLsn: string; commitMs: number; changes: Change[]; arrivedMs?: number; rescan?: string }

/** pgoutput messages as this module reads them (pg-logical-replication's shapes). */
interface PgoutputMessage {
  tag: string;
  commitTime?: bigint;
  commitEndLsn?: string | null;
  relation?: { relationOid: number; schema: string; name: string; columns: Array<{ name: string; parser: (raw: unknown) => unknown }> };
  relations?: Array<{ relationOid: number; schema: string; name: string } | undefined>;
  new?: Tuple;
  old?: Tuple | null;
  key?: Tuple | null;
  columns?: Array<{ name: string; parser: (raw: unknown) => unknown }>;
}

interface ReplicationService {
  on(event: string, listener: (...args: never[]) => void): unknown;
  subscribe(plugin: unknown, slot: string): Promise<unknown>;
  acknowledge(lsn: string, ping?: boolean): Promise<boolean>;
  stop(): Promise<unknown>;
}

/**
 * The replication library, loaded when a logical watch first starts (the CLI's other commands never
 * pay for it) and kept: a dynamic import() of a loaded module still goes through the module
 * loader's hooks on every call (milliseconds under tsx), and a restart is on the catch-up's clock.
 */
type ReplicationLib = typeof ReplicationLibNs;
let replicationLib: Promise<ReplicationLib> | undefined;
const loadReplication = () => (replicationLib ??= import('pg-logical-replication').catch((e: unknown) => { replicationLib = undefined; throw e; }));

/** The replication client; `release` closes its connection while no stream has taken it yet. */
interface Replication { service: ReplicationService; plugin: unknown; release: () => Promise<void> }

/** What of pg-logical-replication's service the early connection replaces (its version is pinned in package.json). */
interface ServiceInternals { client: () => Promise<[pg.Client, unknown]>; _client: pg.Client | null; _connection: unknown; emit(event: string, e: unknown): unknown }

/**
 * The replication client, its connection opening at once (a new backend: a few milliseconds a
 * restart would otherwise wait for). Opening it is harmless (a walsender in command mode reads
 * nothing); the slot is first used by START_REPLICATION, which `subscribe` sends only after the
 * cycle's checks found the slot ours. The library opens its connection inside `subscribe`: the one
 * opened here is handed to it there (once; a second subscribe connects as the library does).
 */
async function openReplication(url: string, publication: string): Promise<Replication> {
  const lib = await loadReplication();
  if (publication.includes("'")) throw new TableSyncError('INVALID_INPUT', `publication name "${publication}" contains a quote, which the replication protocol's options cannot carry`);
  const config = { ...poolConfig(parseConnectionUrl(url), { applicationName: REPLICATION_APP }) } as Record<string, unknown>;
  for (const k of ['max', 'idleTimeoutMillis']) delete config[k];
  // The walsender prints the streamed values with its session's settings: the same fixed ones as
  // every other source read (dates, intervals, money…), or a target would read them differently.
  config['options'] = OUTPUT_SETTINGS_OPTIONS;
  const service = new lib.LogicalReplicationService(config as never, { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: false } });
  // Values stay PostgreSQL text: the library would parse them with pg's global parsers (Dates, numbers).
  class TextPgoutput extends lib.PgoutputPlugin {
    override parse(buffer: Buffer) {
      const m = super.parse(buffer) as unknown as PgoutputMessage;
      if (m.tag === 'relation') for (const c of m.columns ?? []) c.parser = (raw) => raw;
      return m as never;
    }
  }
  let early: pg.Client | undefined = new pg.Client({ ...(config as pg.ClientConfig), replication: 'database' } as pg.ClientConfig);
  const earlyClient = early;
  const connected = earlyClient.connect();
  connected.catch(() => {}); // its failure is the stream's, reported by subscribe
  const internals = service as unknown as ServiceInternals;
  let taken = false;
  // An error before the stream took the connection (the server ended it meanwhile) is the
  // stream's too: START_REPLICATION on it fails, and subscribe reports that.
  earlyClient.on('error', (e) => { if (taken) internals.emit('error', e); });
  const libraryClient = internals.client.bind(service);
  internals.client = async () => {
    if (!early) return libraryClient();
    early = undefined;
    await connected;
    taken = true;
    internals._client = earlyClient;
    internals._connection = (earlyClient as unknown as { connection: unknown }).connection;
    return [earlyClient, internals._connection];
  };
  const release = async () => {
    if (!early) return;
    early = undefined;
    await connected.then(() => earlyClient.end(), () => {}).catch(() => {});
  };
  return { service: service as unknown as ReplicationService, plugin: new TextPgoutput({ protoVersion: 1, publicationNames: [quoteIdent(publication)] }), release };
}

/** A key's identity in a batch: its one value, or the values as JSON for a composite key (key values are never NULL). */
const keyId = (k: Row): string => (k.length === 1 ? k[0]! : JSON.stringify(k));

const keyOf = (job: SyncJob, t: Tuple | null | undefined): Row | undefined => {
  if (!t) return undefined;
  const k = job.source.keyColumns.map((c) => t[c.name]);
  return k.some((v) => v === undefined) ? undefined : (k as Row);
};

/** A key's last change in a batch. */
interface Coalesced { key: Row; op: Change['op']; row?: Tuple; commitMs: number }
type Outcome = 'applied' | 'deleted' | 'filtered-out' | 'reread' | 'skipped';

// The per-change loops of a batch are module functions, not closures of a watch cycle: their
// compiled code (and its type feedback) outlives the cycle, so a restart's first batch (its
// catch-up, on the clock) does not run them in the interpreter again.

/**
 * Coalesce per key, in commit order: the last change of a key wins, a key change deletes the old
 * key, a TRUNCATE removes what came before it.
 */
function coalesce(todo: Tx[]): { truncated: boolean; entries: Coalesced[]; withRow: Coalesced[] } {
  let truncated = false;
  const last = new Map<string, Coalesced>();
  for (const tx of todo) {
    for (const c of tx.changes) {
      if (c.op === 'truncate') { truncated = true; last.clear(); continue; }
      if (!c.key) continue;
      const id = keyId(c.key);
      if (c.oldKey) { const old = keyId(c.oldKey); if (old !== id) last.set(old, { key: c.oldKey, op: 'delete', commitMs: tx.commitMs }); }
      last.set(id, c.row ? { key: c.key, op: c.op, row: c.row, commitMs: tx.commitMs } : { key: c.key, op: c.op, commitMs: tx.commitMs });
    }
  }
  const entries = [...last.values()];
  return { truncated, entries, withRow: entries.filter((e) => e.row) };
}

/**
 * The rows to write (`present`: the columns `cols` in order), the keys to remove (`missing`:
 * deleted, or out of the filter) and those to re-read (a value the stream did not carry, or a
 * filter it cannot tell), with each key's outcome.
 */
function sortOut(entries: Coalesced[], withRow: Coalesced[], verdicts: (boolean | undefined)[], cols: string[]) {
  const present: Row[] = [];
  const missing: Row[] = [];
  const reread: Row[] = [];
  const outcomeOf = new Map<string, Outcome>();
  for (let i = 0; i < withRow.length; i++) {
    const e = withRow[i]!;
    const v = verdicts[i];
    const row: (string | null | undefined)[] = new Array(cols.length);
    let unknown = v === undefined;
    for (let j = 0; j < cols.length; j++) {
      const x = e.row![cols[j]!];
      row[j] = x;
      if (x === undefined) unknown = true;
    }
    const id = keyId(e.key);
    if (unknown) { reread.push(e.key); outcomeOf.set(id, 'reread'); } else if (v) { present.push(row as Row); outcomeOf.set(id, 'applied'); } else { missing.push(e.key); outcomeOf.set(id, 'filtered-out'); }
  }
  for (const e of entries) if (!e.row) { missing.push(e.key); outcomeOf.set(keyId(e.key), 'deleted'); }
  return { present, missing, reread, outcomeOf };
}

export function watchLogical(ctx: FlowContext, opts: LogicalWatchOptions = {}): WatchHandle {
  const { flow } = ctx;
  const names = logicalNames(flow);
  const lagWarnBytes = opts.lagWarnBytes ?? 1024 ** 3;
  const maxBuffered = opts.maxBufferedChanges ?? 20_000;
  const batchMaxKeys = opts.batchMaxKeys ?? 5000;
  const gatherMs = opts.gatherMs ?? 5;
  // Above this rate (changes a second) a batch waits up to gatherMs for company: one statement and
  // one round trip per few changes cost the target, the source's CPU and ours more than the rows do.
  const GATHER_RATE = 1000;
  // Positions are confirmed to the source at most this often while the stream is busy (each
  // confirmation is a message the walsender wakes up for); the last one is always sent.
  const CONFIRM_EVERY_MS = 100;
  const partitionCheckMs = opts.partitionCheckMs ?? 5_000;

  const event = (e: Omit<ChangeEvent, 'time' | 'flow'>) => deliverSafely(opts.onEvent, { time: new Date().toISOString(), flow: flow.name, ...e });
  const now = () => performance.timeOrigin + performance.now();

  let matchedAt: number | undefined;
  let resync = opts.resync === true;
  let slotLost = false;

  const cycle = async (c: SupervisedCycle, client: pg.PoolClient): Promise<void> => {
    const markLost = c.lost;
    const wakeup = { wake: c.wake, wait: c.wait }; // woken by the stream, a loss and stop()
    const onClientError = (e: Error) => markLost(`target connection (holding the flow lock) lost: ${e.message}`);
    client.on('error', onClientError);
    const locked: FlowContext = { ...ctx, targetClient: client };
    let service: ReplicationService | undefined;
    let repl: Promise<Replication> | undefined;
    const timers: NodeJS.Timeout[] = [];
    let confirmTimer: NodeJS.Timeout | undefined;
    let closing = false;
    try {
      // The reads of the restart path are independent round trips on different connections (the
      // source pool, the target's locked client): they run at once. Their errors are still
      // reported in the order the checks are listed, and nothing is created before all passed.
      // The replication connection opens beside them (see openReplication).
      repl = openReplication(ctx.sourceUrl, names.publication);
      repl.catch(() => {}); // awaited (and its failure reported) where the stream opens
      const t = { schema: flow.source.schema, table: flow.source.table };
      const [jobR, allowedR, stateR, infoR, oidR, pubR] = await Promise.allSettled([
        jobFromFlow(locked),
        checkReplicationAllowed(ctx.sourcePool),
        readFlowState(client, flow.name).catch(() => undefined),
        slotInfo(ctx.sourcePool, names.slot),
        tableOid(ctx.sourcePool, t),
        publicationSignature(ctx.sourcePool, names.publication, t),
      ]);
      for (const r of [jobR, allowedR, stateR, infoR, oidR, pubR]) if (r.status === 'rejected') throw r.reason;
      const job = (jobR as PromiseFulfilledResult<SyncJob>).value;
      const state = (stateR as PromiseFulfilledResult<Awaited<ReturnType<typeof readFlowState>> | undefined>).value;
      let info = (infoR as PromiseFulfilledResult<SlotInfo | undefined>).value;
      const oid = (oidR as PromiseFulfilledResult<number>).value;
      /** The publication's signature as the stream carries the table through it (recorded with every position). */
      let publicationSig = (pubR as PromiseFulfilledResult<string | undefined>).value;
      const recorded = isLogicalState(state?.live) && state.live.slot === names.slot ? state.live : undefined;
      // The stream's changes are the flow's by the table's OID: another table under the name (a
      // migration that swapped names, or dropped and created it again) is a rescan of the new one.
      const REPLACED = 'the source table was replaced (another table now has its name: dropped and created again, or renamed)';
      const replaced = recorded?.oid !== undefined && recorded.oid !== oid;
      // A slot cannot carry a marker: it is ours only when this flow's state records it (written
      // right after we create one). Anyone else's slot is never adopted, advanced or dropped.
      if (info && !recorded) {
        throw new TableSyncError('INVALID_INPUT', `replication slot "${names.slot}" already exists on the source and flow "${flow.name}" did not create it (TableSync records the slots it creates in its state): name another one in source.replication.slotName, or drop that slot yourself if you know nothing uses it`, { slot: names.slot });
      }
      if (info?.walStatus === 'lost' && resync) {
        await dropSlot(ctx.sourcePool, names.slot);
        info = undefined;
      }
      slotLost = info?.walStatus === 'lost';
      if (info) {
        checkSlot(names.slot, info);
        if (info.active && !(await releaseStaleSlot(ctx.sourcePool, info))) {
          throw new TableSyncError('LOCKED', `replication slot "${names.slot}" is in use by another connection (pid ${info.activePid}) that is not TableSync's`);
        }
      }
      // The publication no longer carries the table, or is another one than the stream last went
      // through (dropped, recreated, the table taken out, its options changed while the watch was
      // stopped): the slot's stream skipped the changes made meanwhile (PostgreSQL 15 fails on
      // them). The slot (ours: recorded) is dropped; a new one and a full catch-up follow.
      // (A table replaced under its name is not published by it: that is the rescan below, which
      // points the publication, ours, at the new table first.)
      let publicationMoved: string | undefined;
      if (info && recorded && !replaced && (publicationSig === undefined || (recorded.publicationSig !== undefined && recorded.publicationSig !== publicationSig))) {
        publicationMoved = publicationSig === undefined
          ? `publication "${names.publication}" no longer published the table (dropped, or the table taken out of it) while the watch was stopped: its changes meanwhile were not streamed`
          : `publication "${names.publication}" changed while the watch was stopped (recreated, the table taken out and added again, or its options changed): its changes meanwhile may not have been streamed`;
        await dropSlot(ctx.sourcePool, names.slot);
        info = undefined;
      }
      const fresh = !info;
      // The table's replica identity, its partitions (and their files: read before anything below
      // reads the table; a change after this is noticed by the next check) and the publication. A
      // new slot waits for them (nothing is created before they passed); resuming one of ours,
      // they run while its stream starts, and nothing is applied or recorded before they passed.
      let partitionsNow = '';
      let createdPublication = false;
      const sourceChecks = async () => {
        const [, parts] = await Promise.all([checkReplicaIdentity(ctx.sourcePool, t), partitionSignature(ctx.sourcePool, t, { files: true })]);
        partitionsNow = parts;
        createdPublication = await ensurePublication(ctx.sourcePool, t, names.publication, flow.name);
        // What the stream goes through from here on, where ensurePublication may have changed it (a
        // new slot's, or one pointed at the table now under the name). Resuming, the first look stands:
        // a change since is the live check's (every partitionCheckMs), which ends the cycle.
        if (fresh || replaced) publicationSig = await publicationSignature(ctx.sourcePool, names.publication, t);
      };
      if (fresh) await checkSlotRoom(ctx.sourcePool);
      const checked = fresh ? Promise.resolve(await sourceChecks()) : sourceChecks();
      checked.catch(() => {}); // awaited before the stream's first change is applied
      // The partitions (and their files) the target was last brought in line with: a stream that
      // publishes through the root carries no attach, detach or TRUNCATE of a partition, so a
      // change of them (now, or while the watch was stopped) is a rescan. Recorded with every position.
      let partitions = recorded?.partitions;
      const liveState = (lsn?: string, parts = partitions): LogicalState => ({ kind: 'logical', ...t, slot: names.slot, publication: names.publication, createdPublication: createdPublication || recorded?.createdPublication === true, ...(lsn ? { appliedLsn: lsn } : {}), ...(parts ? { partitions: parts } : {}), oid, ...(publicationSig !== undefined ? { publicationSig } : {}) });
      /**
       * A full catch-up in one target transaction that records, with it, the position `lsn` and the
       * partitions `parts` it saw. `compareValues` where it stands in for changes the stream carried.
       */
      const rescan = async (reason: string, o: { lsn: string | undefined; parts?: string; compareValues?: boolean }) => {
        const parts = o.parts ?? partitions;
        const r = await catchUpOn(client, job, { signal: c.signal, oneTransaction: { reason, before: async (cl) => { await cl.query(liveStateUpdateSql((i) => `$${i + 1}`), [JSON.stringify(liveState(o.lsn, parts)), flow.name]); }, ...(o.compareValues ? { compareValues: true } : {}) } });
        partitions = parts;
        const { committedAt: _c, ...info } = r;
        return info;
      };
      // That the slot is ours is committed durably (synchronous_commit = on for this transaction,
      // whatever the target's default): batches commit without waiting for their flush, and a
      // crash of the target must never forget which slot is ours. Flushing this commit also
      // flushes the catch-up's commit before it. (A target that has no state for the flow yet,
      // one never applied, gets it with the first catch-up's commit.)
      const recordSlot = async (lsn?: string) => {
        await client.query('BEGIN; SET LOCAL synchronous_commit = on');
        try {
          await writeLiveState(client, flow.name, liveState(lsn));
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => {});
          throw e;
        }
      };
      if (fresh) {
        // the scan comes first, perhaps for minutes: the early connection is not kept waiting
        await repl.then((r) => r.release(), () => {});
        await createSlot(ctx.sourcePool, names.slot);
        // record at once that the slot is ours, so a crash before the catch-up commits cannot
        // leave a slot of ours that the next watch would take for someone else's
        await recordSlot();
      }
      resync = false;
      if (!c.running) return;

      let appliedLsn = fresh ? undefined : recorded?.appliedLsn;

      c.status('catching-up');
      const catchUpStart = Date.now();
      // Resuming an existing slot, the walsender starts (connection, START_REPLICATION, decoding
      // from the restart point) while the target's statements are prepared on the locked client:
      // what it streams waits in `ready` (bounded by maxBufferedChanges) until the loop below
      // applies it. A new slot's scan runs before the stream opens, as it always did.
      const keySyncP = prepareKeySync(client, job).catch((e: unknown) => {
        if (e instanceof TableSyncError && e.code === 'PLAN_STALE') return undefined;
        throw e;
      });
      keySyncP.catch(() => {}); // awaited below; a failure before that is not an unhandled rejection
      let keySync: KeySync | undefined;
      let scanned: CatchUpInfo | undefined;
      const prepare = async () => {
        keySync = await keySyncP;
        if (fresh || !keySync) {
          partitions = partitionsNow; // the scan below reads these partitions
          // A new slot starts now: what is in the table already comes from a scan, then the stream
          // replays the changes since the slot was created over it.
          const r = await catchUpOn(client, job, { signal: c.signal });
          const { committedAt: _c, ...i } = r;
          scanned = { ...i, reason: fresh ? `new replication slot "${names.slot}"${publicationMoved ? ` (${publicationMoved})` : ''}${i.reason ? `; ${i.reason}` : ''}` : i.reason ?? 'the flow needed an apply' };
          keySync = await prepareKeySync(client, job);
          appliedLsn = undefined;
          await recordSlot();
        } else if (replaced || partitionsNow !== (partitions ?? '')) {
          scanned = await rescan(replaced ? REPLACED : partitions === undefined ? 'the partitions of the source table were not recorded yet' : 'the partitions of the source table changed while the watch was stopped (attached, detached or truncated)', { lsn: appliedLsn, parts: partitionsNow });
        }
      };
      if (fresh) await prepare();
      if (!c.running) return;

      // ---------------------------------------------------------------- the stream
      // where the server's WAL is now: the stream has caught up once it passed it (needed by the loop below)
      const targetP = catchUpTarget(ctx.sourcePool);
      targetP.catch(() => {});
      const { service: svc, plugin } = await repl;
      service = svc;
      const ready: Tx[] = [];
      let open: Tx | undefined;
      let buffered = 0;
      let paused = false;
      let idleLsn: string | undefined; // a keepalive position with nothing of ours pending before it
      let acked = (info ?? (await slotInfo(ctx.sourcePool, names.slot)))?.confirmedFlush ?? undefined;
      let lastKeepalive: string | undefined;
      let keepalives = 0;
      // pg-logical-replication reports `lsn + 1` as the flushed position; the server takes the
      // reported position as-is for confirmed_flush_lsn and skips, on the next start, every
      // transaction whose commit record begins before it. A commit that begins exactly where the
      // confirmed one ended would be skipped: report the position itself, as PostgreSQL's own apply worker does.
      const confirm = (lsn: string, ping = false) => svc.acknowledge(lsnText(lsnValue(lsn) - 1n), ping).catch(() => false);
      const stream = () => (svc as unknown as { _connection?: { stream?: { pause(): void; resume(): void } } })._connection?.stream;

      // Only the flow's table's changes (a publication may publish other tables too).
      const ours = (r: { relationOid: number } | undefined) => r?.relationOid === oid;
      /** The open transaction is applied by a full rescan at its commit: its changes are dropped. */
      const rescanOpen = (reason: string) => {
        if (!open || open.rescan) return;
        buffered -= open.changes.length;
        open.changes = [];
        open.rescan = reason;
      };
      // A change without the flow's key columns (renamed or dropped on the source while watched)
      // would be lost: its transaction is a rescan, which reads the table as it now is (and fails,
      // naming the column, where the flow no longer fits it).
      const missingKey = (tuple: Tuple | null | undefined) => {
        const gone = job.source.keyColumns.filter((k) => tuple?.[k.name] === undefined).map((k) => `"${k.name}"`);
        return `a change of the source table arrived without its key column${gone.length > 1 ? 's' : ''} ${gone.join(', ')} (renamed or dropped while watched)`;
      };
      svc.on('data', ((_lsn: string, m: PgoutputMessage) => {
        switch (m.tag) {
          case 'begin':
            open = { endLsn: '', commitMs: Number((m.commitTime ?? 0n) / 1000n), changes: [] };
            break;
          case 'insert':
          case 'update':
            if (!open || open.rescan || !m.new || !ours(m.relation)) break;
            {
              const key = keyOf(job, m.new);
              if (!key) { rescanOpen(missingKey(m.new)); break; }
              const oldKey = m.tag === 'update' ? keyOf(job, m.key ?? m.old) : undefined;
              open.changes.push({ op: m.tag, row: m.new, ...(key ? { key } : {}), ...(oldKey ? { oldKey } : {}) });
            }
            buffered++;
            break;
          case 'delete': {
            if (!open || open.rescan || !ours(m.relation)) break;
            const k = keyOf(job, m.key ?? m.old);
            if (k) { open.changes.push({ op: 'delete', key: k }); buffered++; } else rescanOpen(missingKey(m.key ?? m.old));
            break;
          }
          case 'truncate':
            if (open && !open.rescan && m.relations?.some(ours)) { open.changes.push({ op: 'truncate' }); buffered++; }
            break;
          case 'commit':
            if (!open) break;
            open.endLsn = m.commitEndLsn ?? _lsn;
            open.arrivedMs = performance.now();
            if (open.arrivedMs - rateFrom >= 100) { rate = (rateCount * 1000) / (open.arrivedMs - rateFrom); rateFrom = open.arrivedMs; rateCount = 0; }
            rateCount += open.changes.length;
            ready.push(open);
            open = undefined;
            idleLsn = undefined;
            wakeup.wake();
            break;
          default:
            break;
        }
        if (buffered > maxBuffered) {
          if (ready.length === 0 && open) {
            // The buffer is full of one transaction in progress: pausing would wait forever for a
            // commit that cannot arrive. Its changes are dropped and its commit applied by a rescan.
            rescanOpen(`a source transaction with more than ${maxBuffered} changes (maxBufferedChanges): more than the watch holds in memory`);
          } else if (!paused) {
            paused = true;
            stream()?.pause();
          }
        }
      }) as never);
      svc.on('heartbeat', ((lsn: string, _ts: number, respond: boolean) => {
        lastKeepalive = lsn;
        keepalives++;
        if (!open && ready.length === 0 && !applying) idleLsn = lsn;
        if (respond) void ack();
        wakeup.wake();
      }) as never);
      svc.on('error', ((e: Error) => markLost(`replication connection error: ${e.message}`)) as never);
      let applying = false;
      // how fast changes arrive (over the last ~100 ms): above GATHER_RATE batches wait for company
      let rate = 0;
      let rateFrom = performance.now();
      let rateCount = 0;
      const busy = () => rate >= GATHER_RATE && performance.now() - rateFrom < 200;
      // `acked` is sent at once, or within CONFIRM_EVERY_MS of the last confirmation
      let sentAt = 0;
      const confirmSoon = async () => {
        const wait = sentAt + CONFIRM_EVERY_MS - performance.now();
        if (wait <= 0) { sentAt = performance.now(); await confirm(acked!); return; }
        confirmTimer ??= setTimeout(() => { confirmTimer = undefined; sentAt = performance.now(); void ack(); }, wait);
        confirmTimer.unref?.();
      };
      // The target commits each batch without waiting for its WAL flush (synchronous_commit = off
      // for this connection's batches, as PostgreSQL's own apply worker does by default): the position
      // of a batch is confirmed to the source only once the target's WAL is flushed past that
      // batch's commit. A target crash can lose only unflushed batches, whose source positions
      // were not confirmed, and their recorded position (same transaction) goes back with them:
      // the slot replays them, nothing is lost or applied twice.
      // `target`: a target WAL position at or past the end of that batch's commit, once known (read
      // by the next statement on the locked connection).
      const unflushed: Array<{ source: string; target?: bigint }> = [];
      const bound = (insert: string) => {
        for (const u of unflushed) if (u.target === undefined) u.target = lsnValue(insert);
      };
      const confirmFlushed = async (flushed: string) => {
        let upto: string | undefined;
        while (unflushed.length && unflushed[0]!.target !== undefined && unflushed[0]!.target <= lsnValue(flushed)) upto = unflushed.shift()!.source;
        if (upto && lsnValue(upto) > lsnValue(acked)) { acked = upto; await confirmSoon(); }
      };
      const checkFlushed = async () => {
        const { rows } = await client.query<{ i: string; f: string }>('SELECT pg_current_wal_insert_lsn()::text AS i, pg_current_wal_flush_lsn()::text AS f');
        bound(rows[0]!.i);
        await confirmFlushed(rows[0]!.f);
      };
      // Confirmed: the end of the last source transaction whose target transaction committed, or,
      // with nothing received and not applied, the keepalive's position (what the server has
      // decoded and sent: PostgreSQL's own apply worker confirms it the same way), so a quiet
      // table does not make the slot hold the WAL of everything else.
      const ack = async () => {
        const safe = idleLsn && lsnValue(idleLsn) > lsnValue(acked) && !open && ready.length === 0 && !applying && unflushed.length === 0 ? idleLsn : acked;
        if (!safe) return;
        acked = safe;
        await confirm(safe);
      };
      void svc.subscribe(plugin, names.slot).then(
        () => { if (!closing) markLost('the replication stream ended'); },
        (e: unknown) => { if (!closing) markLost(`replication stream failed: ${e instanceof Error ? e.message : String(e)}`); },
      );
      // Feedback keeps the server from timing the connection out (wal_sender_timeout) and lets the slot advance.
      timers.push(setInterval(() => { void ack(); }, 2_000));

      const slotStatus = async (): Promise<ListenerStatus['slot']> => {
        const lag = await slotLag(ctx.sourcePool, names.slot).catch(() => undefined);
        const oldest = ready[0]?.commitMs ?? open?.commitMs;
        const lagMs = oldest ? Math.max(0, Math.round(Date.now() - oldest)) : 0;
        const warning = lag?.walStatus === 'lost' ? 'the slot was invalidated: resync'
          : lag?.walStatus === 'unreserved' ? 'the slot is about to lose WAL it needs (max_slot_wal_keep_size)'
            : lag?.bytes !== null && lag?.bytes !== undefined && lag.bytes > lagWarnBytes ? `the slot holds ${Math.round(lag.bytes / 1024 / 1024)} MiB of WAL on the source (warning above ${Math.round(lagWarnBytes / 1024 / 1024)} MiB)` : undefined;
        return { name: names.slot, lagBytes: lag?.bytes ?? null, lagMs, ...(warning ? { warning } : {}) };
      };
      const staleness = () => (ready.length === 0 && !open && !applying ? 0 : matchedAt === undefined ? 0 : Math.max(0, Date.now() - matchedAt));
      const lagEvery = opts.lagStatusMs ?? 10_000;
      timers.push(setInterval(() => {
        if (!live || !c.running) return;
        void slotStatus().then((slot) => { if (c.running) c.status('live', { slot, stalenessMs: staleness() }); });
      }, lagEvery));
      // A partitioned table's partitions are re-read while live (see `partitions`): a change asks the loop for a rescan.
      // So is the table's identity: another table under the name ends the cycle (the next start rescans it).
      // (what the checks read: resuming a slot, they may still run while the stream starts)
      let partitionsSeen: string | undefined;
      void checked.then(() => { partitionsSeen = partitionsNow; }, () => {});
      let partitionsMoved = false;
      let checking = false;
      timers.push(setInterval(() => {
        if (checking || !c.running || partitionsSeen === undefined) return;
        checking = true;
        // (and what the start checked of its replica identity and persistence: a table made UNLOGGED
        // while watched, which a publication FOR ALL TABLES allows, streams nothing: the next start refuses it)
        const identity = checkReplicaIdentity(ctx.sourcePool, t).then(() => undefined, (e: unknown) => (e instanceof TableSyncError ? e.message : undefined));
        void Promise.all([tableOid(ctx.sourcePool, t), partitionsNow !== '' ? partitionSignature(ctx.sourcePool, t, { files: true }) : undefined, publicationSignature(ctx.sourcePool, names.publication, t), identity]).then(
          ([now, parts, pub, unfit]) => {
            if (now !== oid) markLost(REPLACED);
            else if (unfit) markLost(unfit);
            // the next start finds it moved against the recorded one: a new slot and a full catch-up
            else if (pub !== publicationSig) markLost(`publication "${names.publication}" changed while watched (${pub === undefined ? 'dropped, or the table taken out of it' : 'recreated, or its options changed'}): the stream may have skipped changes`);
            else if (parts !== undefined && parts !== partitionsSeen) { partitionsSeen = parts; partitionsMoved = true; wakeup.wake(); }
          },
          (e: unknown) => { if (c.running) markLost(`the source table ${t.schema}.${t.table} cannot be found: ${e instanceof Error ? e.message : String(e)}`); },
        ).finally(() => { checking = false; });
      }, partitionCheckMs));
      for (const tm of timers) tm.unref?.();

      if (!fresh) {
        // A flow that needs an apply first scans here with the stream already open, and the stream
        // is paused once its buffer is full: answer the server meanwhile (a status update every 10 s,
        // no new position), or it would drop the connection after wal_sender_timeout and a long
        // scan would never finish.
        const keepAlive = setInterval(() => void confirm(acked ?? '0/1'), 10_000);
        keepAlive.unref?.();
        try {
          await checked;
          await prepare();
          // A state recorded before publications were signed: signed now (with its position), so
          // that a change of the publication from here on is noticed by the next start.
          if (recorded && recorded.publicationSig === undefined && !scanned) await recordSlot(appliedLsn);
        } finally {
          clearInterval(keepAlive);
        }
        if (!c.running) return;
      }
      const ks: KeySync = keySync!;
      // The batches' commits do not wait for their flush (see `unflushed`). Set for the session of
      // the locked connection, whose batches are each one statement in its own implicit
      // transaction; the lock's release resets it (RESET ALL), and recording the slot sets it on.
      await client.query('SET synchronous_commit = off');
      const target = await targetP;

      // ---------------------------------------------------------------- applying
      const applyBatch = async (): Promise<number> => {
        const txs: Tx[] = [];
        let n = 0;
        while (ready.length && (txs.length === 0 || (!ready[0]!.rescan && n + ready[0]!.changes.length <= batchMaxKeys))) {
          const tx = ready.shift()!;
          n += tx.changes.length;
          txs.push(tx);
          if (tx.rescan) break;
        }
        buffered -= n;
        // (with nothing complete left, what is buffered is a transaction in progress: it needs the stream)
        if (paused && (buffered < maxBuffered / 4 || ready.length === 0)) { paused = false; stream()?.resume(); }
        const tx = txs[0]!;
        if (tx.rescan) {
          if (lsnValue(tx.endLsn) <= lsnValue(appliedLsn)) return 0;
          // records the transaction's end as applied; it stands in for changes whose values the
          // stream carried: one that left the ordinal alone must not be missed
          const info = await rescan(tx.rescan, { lsn: tx.endLsn, compareValues: job.source.mode === 'ordinal' });
          appliedLsn = tx.endLsn;
          unflushed.push({ source: tx.endLsn });
          await checkFlushed();
          event({ op: 'catch-up', key: {}, outcome: info.rows > 0 ? 'applied' : 'skipped', latencyMs: null, catchUp: info });
          return info.rows;
        }
        const lastLsn = txs[txs.length - 1]!.endLsn;
        const todo = txs.filter((tx) => lsnValue(tx.endLsn) > lsnValue(appliedLsn));
        const { truncated, entries, withRow } = coalesce(todo);
        const verdicts = withRow.length ? await job.source.filterVerdicts!(withRow.map((e) => e.row!)) : [];
        const { present, missing, reread, outcomeOf } = sortOut(entries, withRow, verdicts, [...job.source.keyColumns, ...job.source.valueColumns].map((c) => c.name));

        // the position, in the batch's transaction (the state table exists: the slot was recorded in it)
        const position = { sql: liveStateUpdateSql, values: [JSON.stringify(liveState(lastLsn)), flow.name] };
        const p = ks.prepared;
        const wipe = async (c: pg.ClientBase) => {
          const on = p.keyColumns.map((k) => `x.${quoteIdent(k.name)} = t.${quoteIdent(k.name)}`).join(' AND ');
          await c.query(`DELETE FROM ${p.tableSql} x USING ${p.trackingSql} t WHERE ${on}`);
          await c.query(`DELETE FROM ${p.trackingSql}`);
        };
        const rereadOutcomes = reread.length ? await ks.run(reread) : [];
        const rewritten = new Set<string>();
        let committedAt: number;
        if (ks.applyKnown) {
          // one round trip: the rows, the tracking and the position in one statement, its commit included
          const r = await ks.applyKnown(present, missing, { ...(truncated ? { before: wipe } : {}), side: position });
          committedAt = now();
          if (r.side !== 1) throw new TableSyncError('INTERNAL', `flow "${flow.name}": its state row in ${flowsTableSql} is gone, so the stream position could not be recorded`);
          // rows you wrote in a user-managed table were left as they are
          for (const i of r.skipped) outcomeOf.set(keyId(present[i]!.slice(0, job.source.keyColumns.length)), 'skipped');
          // the old key of a change to an equal key of another text (1.0 → 1.00): its row was updated, not deleted
          for (const [j] of r.sameRow) { outcomeOf.set(keyId(missing[j]!), 'applied'); rewritten.add(keyId(missing[j]!)); }
          appliedLsn = lastLsn;
          // This statement ran after the previous batch's commit on this connection: the WAL insert
          // position it read bounds the end of that commit. Its own commit's end is bounded by the
          // next statement's (or checkFlushed's) reading.
          bound(r.walInsert);
          unflushed.push({ source: lastLsn });
          await confirmFlushed(r.walFlush);
        } else {
          // Overridden key types: the re-reading path (its own transactions), then the position.
          if (truncated) await catchUpOn(client, job, {});
          const o = await ks.run([...present.map((r) => r.slice(0, job.source.keyColumns.length)), ...missing]);
          missing.forEach((k, j) => { if (o[present.length + j] === 'applied') { outcomeOf.set(keyId(k), 'applied'); rewritten.add(keyId(k)); } });
          await client.query('BEGIN');
          await client.query(liveStateUpdateSql((i) => `$${i + 1}`), position.values);
          await client.query('COMMIT');
          committedAt = now();
          appliedLsn = lastLsn;
          unflushed.push({ source: lastLsn });
          await checkFlushed();
        }
        if (truncated) event({ op: 'truncate', key: {}, outcome: 'applied', latencyMs: null });
        if (!opts.onEvent) return entries.length; // nobody listens: no event objects per change
        const rr = new Map(reread.map((k, i) => [keyId(k), rereadOutcomes[i] ?? 'skipped'] as const));
        const time = new Date().toISOString(); // one batch, one commit: one time
        for (const e of entries) {
          const id = keyId(e.key);
          const o = outcomeOf.get(id);
          const outcome = o === 'reread' ? rr.get(id) ?? 'skipped' : o ?? 'skipped';
          const key = Object.fromEntries(job.source.keyColumns.map((c, i) => [c.name, e.key[i] ?? null]));
          deliverSafely(opts.onEvent, { time, flow: flow.name, op: e.op === 'truncate' || rewritten.has(id) ? 'update' : e.op, key, outcome, latencyMs: Math.max(0, Math.round((committedAt - e.commitMs) * 10) / 10) });
        }
        return entries.length;
      };

      let caughtRows = 0;
      let live = false;
      const goLive = async () => {
        live = true;
        matchedAt = catchUpStart;
        const info: CatchUpInfo = scanned
          ? { ...scanned, rows: scanned.rows + caughtRows, durationMs: Date.now() - catchUpStart }
          : { mode: 'slot', rows: caughtRows, scanned: null, durationMs: Date.now() - catchUpStart };
        event({ op: 'catch-up', key: {}, outcome: info.rows > 0 ? 'applied' : 'skipped', latencyMs: null, catchUp: info });
        if (scanned) void moveRestartPoint().catch(() => undefined);
        c.live({ caughtUp: info.rows, catchUp: info, slot: await slotStatus(), stalenessMs: 0 });
      };
      let pinged = 0;
      // Where the next start of this slot decodes from (restart_lsn) only moves to a running-
      // transactions record the slot has confirmed past. After a load (a new slot's scan, which on
      // a shared server is WAL the stream then skips), have one written at once rather than wait
      // for the server's next (every 15 s with activity); the idle confirmations then pass it.
      const RESTART_SLACK = 16 * 1024 * 1024;
      const moveRestartPoint = async (): Promise<string | undefined> => {
        const behind = await restartBehind(ctx.sourcePool, names.slot).catch(() => undefined);
        return behind !== undefined && behind > RESTART_SLACK ? logRunningXacts(ctx.sourcePool) : undefined;
      };
      // A clean stop confirms everything the stream has passed (with nothing received and not
      // applied), past a running-transactions record when the restart point lags, so the next
      // start decodes only what changed after it: bounded to ~2 s, then it stops anyway.
      const settle = async () => {
        if (open || ready.length) return; // received, not applied: the next start replays it
        const until = Date.now() + 2000;
        while (unflushed.length && Date.now() < until && c.lostReason === undefined) {
          await checkFlushed().catch(() => undefined);
          if (unflushed.length) await c.sleep(50);
        }
        if (unflushed.length) return; // the next start replays what the target may not have flushed
        const past = await moveRestartPoint().catch(() => undefined);
        const seen = keepalives;
        let asked = 0;
        while (Date.now() < until && c.lostReason === undefined && !open && ready.length === 0) {
          // a fresh keepalive (the server's answer to our ping) says how far the stream has passed
          if (idleLsn && lastKeepalive && (past ? lsnValue(lastKeepalive) >= lsnValue(past) : asked > 0 && keepalives > seen)) break;
          if (Date.now() - asked >= 100) { asked = Date.now(); await confirm(acked ?? '0/1', true); }
          await c.sleep(100);
        }
        if (c.lostReason === undefined) await ack();
      };
      while (c.running) {
        if (partitionsMoved && live) {
          partitionsMoved = false;
          applying = true;
          try {
            const info = await rescan('the partitions of the source table changed (attached, detached or truncated: the stream carries none of that)', { lsn: appliedLsn, parts: partitionsSeen ?? partitionsNow });
            event({ op: 'catch-up', key: {}, outcome: info.rows > 0 ? 'applied' : 'skipped', latencyMs: null, catchUp: info });
          } finally {
            applying = false;
          }
          continue;
        }
        if (ready.length) {
          if (live && gatherMs > 0 && busy() && buffered < batchMaxKeys) {
            const wait = ready[0]!.arrivedMs! + gatherMs - performance.now();
            if (wait >= 1) { await new Promise((r) => setTimeout(r, wait)); continue; }
          }
          applying = true;
          try {
            const takenAt = Date.now();
            const n = await applyBatch();
            if (!live) { caughtRows += n; pinged = 0; } // ask at once whether the stream has passed the start position
            if (ready.length === 0 && !open) matchedAt = takenAt;
          } finally {
            applying = false;
          }
          continue;
        }
        if (!live) {
          // Caught up once the stream has passed where the server's WAL was when we started.
          const pos = idleLsn ?? appliedLsn ?? acked;
          if (!open && lsnValue(pos) >= lsnValue(target)) {
            await goLive();
            continue;
          }
          if (Date.now() - pinged > 100) { pinged = Date.now(); await confirm(acked ?? '0/1', true); }
          await wakeup.wait(100);
          continue;
        }
        if (unflushed.length) {
          await checkFlushed();
          await wakeup.wait(unflushed.length ? 100 : 1000);
          continue;
        }
        await wakeup.wait(1000);
      }
      if (c.stopping && c.lostReason === undefined) await settle();
    } finally {
      for (const tm of timers) clearInterval(tm);
      if (confirmTimer) clearTimeout(confirmTimer);
      client.off('error', onClientError);
      // the stream ends because we end it: not a loss (which would hide the error that ended the cycle, a fatal one too)
      closing = true;
      await service?.stop().catch(() => {});
      await repl?.then((r) => r.release(), () => {});
    }
  };

  const sup = supervise({
    cycle: (c) => withFlowLock(ctx.targetPool, flow.name, (client) => cycle(c, client as pg.PoolClient)),
    status: (state, extra) => deliverSafely(opts.onStatus, {
      time: new Date().toISOString(), flow: flow.name, channel: names.slot, state, ...extra,
      // an invalidated slot fails the watch: say so in a form the monitor offers a resync for
      ...(state === 'failed' && slotLost ? { slot: { name: names.slot, lagBytes: null, lagMs: null, warning: 'the slot was invalidated: resync', lost: true } } : {}),
    }),
    // a replication slot held by a stale walsender of ours is released on a later attempt
    fatal: (err, attempt) => INPUT_ERROR_CODES.has(err.code) || (err.code === 'LOCKED' && attempt === 0 && !/replication slot/.test(err.message)),
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { channel: names.slot, stop: sup.stop, done: sup.done };
}
