/**
 * The one API contract (DESIGN §1, §4): every method the UI can call, keyed `'namespace.verb'`, with
 * a zod schema for its input and its output. Electron IPC and the browser-mode WebSocket carry exactly
 * this map through one dispatcher (core/api/dispatcher.ts), so the renderer cannot tell them apart.
 * Add a method here and both transports have it.
 *
 * Conventions:
 * - Secrets never come back: the renderer holds connection ids (`connectionId`), never URLs with
 *   passwords. A saved connection says only whether it has a password (`hasPassword`).
 * - Cell values are PostgreSQL text or null (see model.ts), never JS numbers/Dates.
 * - Every method that can run long takes an optional client-chosen `requestId`; `query.cancel`
 *   with that id cancels it (pg_cancel_backend on its backend, or the abort signal of an apply).
 *   A cancelled call answers with error code CANCELLED.
 * - Errors come back as `{ ok: false, error: { code, message, detail } }` (errors.ts).
 *
 * Part of the contract: imports zod and other contract files only (the renderer bundles it).
 */
import { z } from 'zod';
import { applyResult, cell, changeEvent, initialLoadChoice, listenerStatus, plan, planStep, tableDescription, tableInfo, verifyResult } from './model';
import { flowSpec } from '../flow/schema';
import { setSpec } from '../flow/schema.set';
import { setApplyResult, setPlan, setVerifyResult } from './model.set';
import { SSL_MODES } from './names';
import { databaseInfo, schemaObjects, tableStructure } from './contract.inspect';
import { exportStartInput, exportStartOutput } from './contract.export';
import { completionSchema, consoleFetchInput, consoleId, consolePage, consoleResult, consoleRunInput } from './contract.console';

// ---------------------------------------------------------------- shared pieces

const empty = z.object({}).strict();
/** Client-chosen id of a long call, so `query.cancel` can reach it. */
export const requestId = z.string().min(1).max(200);
export const connectionId = z.string().min(1).max(200);
const name = z.string().min(1);

export { SSL_MODES };
export const sslMode = z.enum(SSL_MODES);

// ---------------------------------------------------------------- connections

/** A saved connection as the renderer sees it: no password, ever. */
export const savedConnection = z.object({
  id: connectionId,
  name: z.string(),
  host: z.string(),
  port: z.number().int(),
  database: z.string(),
  user: z.string(),
  sslmode: sslMode,
  /** Other URL query parameters (application_name, connect_timeout...). */
  options: z.record(z.string(), z.string()).default({}),
  hasPassword: z.boolean(),
  /** One of the built-in demo connections. */
  demo: z.boolean().default(false),
});
export type SavedConnection = z.infer<typeof savedConnection>;

/** Connection given as its fields (the form). `password` omitted keeps the stored one; `clearPassword` removes it. */
export const connectionFields = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(5432),
  database: z.string().min(1),
  user: z.string().min(1),
  sslmode: sslMode.default('prefer'),
  options: z.record(z.string(), z.string()).optional(),
  password: z.string().optional(),
  clearPassword: z.boolean().optional(),
}).strict();

/** Connection given as a URL (`postgres://user:pass@host:5432/db?sslmode=require`). The password in it, if any, is stored as the secret. */
export const connectionUrl = z.object({ url: z.string().min(1) }).strict();

export const connectionDraft = z.union([connectionUrl, connectionFields]);
export type ConnectionDraft = z.infer<typeof connectionDraft>;

export const connectionTestResult = z.object({
  ok: z.boolean(),
  /** `server_version` as the server reports it, e.g. "18.1". */
  serverVersion: z.string().optional(),
  latencyMs: z.number().optional(),
  /** pgvector on that server: installed in this database, available to install, or absent. */
  pgvector: z.enum(['installed', 'available', 'missing']).optional(),
  /** Why it failed, when `ok` is false. */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type ConnectionTestResult = z.infer<typeof connectionTestResult>;

// ---------------------------------------------------------------- catalog

export const schemaInfo = z.object({ name: z.string(), owner: z.string(), isSystem: z.boolean() });
export type SchemaInfo = z.infer<typeof schemaInfo>;

// ---------------------------------------------------------------- browsing

/**
 * A keyset cursor: the values of the row at the page edge, in ORDER BY order: the sort columns'
 * values (when sorting) followed by every primary-key column's value (or the row locator for a table
 * without a key). Opaque to the renderer: hand back what `browse.rows` gave.
 */
export const browseCursor = z.array(cell);
export type BrowseCursor = z.infer<typeof browseCursor>;

export const sortSpec = z.object({ column: z.string().min(1), dir: z.enum(['asc', 'desc']).default('asc') });
export type SortSpec = z.infer<typeof sortSpec>;
/** At most this many columns in a multi-column sort (the grid's shift-click stops there). */
export const MAX_SORT_COLUMNS = 8;
/** A sort list: one spec or several, most significant first (browse.rows accepts both). */
export const sortListSpec = z.union([sortSpec, z.array(sortSpec).max(MAX_SORT_COLUMNS)]);
/** The sort as a list, whichever form it came in. */
export function sortList(sort: z.input<typeof sortSpec> | z.input<typeof sortSpec>[] | null | undefined): SortSpec[] {
  if (!sort) return [];
  return (Array.isArray(sort) ? sort : [sort]).map((s) => ({ column: s.column, dir: s.dir ?? 'asc' }));
}

export const browseRowsInput = z.object({
  connectionId,
  schema: z.string().min(1),
  table: z.string().min(1),
  /** Columns to return, in order; default all. Key columns are read for the cursor either way. */
  columns: z.array(z.string().min(1)).optional(),
  /** The sort: a list (most significant first) or one spec; the primary key always ends it as tiebreaker. */
  sort: sortListSpec.optional(),
  /** A SQL boolean expression (user SQL: run read-only, validated). */
  filter: z.string().optional(),
  /** Quick search: rows where any of `searchColumns` (default: the returned columns), as text, contains this (ILIKE). A plain condition, so keyset paging is unchanged. */
  search: z.string().optional(),
  searchColumns: z.array(z.string().min(1)).optional(),
  /** Go to a key: the rows from this primary-key value on (keyColumns order; key order, no sort, no cursor). */
  atKey: z.array(z.string()).optional(),
  /** forward: rows after `after` (or the first page); backward: rows before `before`; last: the last page. */
  direction: z.enum(['forward', 'backward', 'last']).default('forward'),
  after: browseCursor.optional(),
  before: browseCursor.optional(),
  limit: z.number().int().min(1).max(5000).default(200),
  /** Cut longer cells to this many characters (listed in `truncated`; fetch one whole with browse.cell). */
  maxCellChars: z.number().int().min(16).max(10_000_000).optional(),
  requestId: requestId.optional(),
});
export type BrowseRowsInput = z.input<typeof browseRowsInput>;

export const browseColumn = z.object({
  name: z.string(),
  type: z.string(),
  /** 1-based position in the primary key, null when not a key column. */
  keyPosition: z.number().int().nullable(),
});

/** How long browse.rows may count the rows before a go-to-key's key (ms); past it the rows stay unnumbered. */
export const GO_TO_KEY_COUNT_MS = 1000;

export const browseRowsOutput = z.object({
  columns: z.array(browseColumn),
  /** Rows in display order (ascending by the sort for every direction), cells in `columns` order. */
  rows: z.array(z.array(cell)),
  /** Primary-key columns (empty when the table has none): for matching live change events to rows. */
  keyColumns: z.array(z.string()),
  /** Key values of each row, aligned with `rows` (keyColumns order). */
  keys: z.array(z.array(cell)),
  /** Pass as `after` with direction forward for the next page; null when this is the last page. */
  nextCursor: browseCursor.nullable(),
  /** Pass as `before` with direction backward for the previous page; null when this is the first page. */
  prevCursor: browseCursor.nullable(),
  /** How rows are ordered, in words (e.g. `"price" desc, "id"`), for the grid's header. */
  orderBy: z.string(),
  /** [row index, column index] of cells cut to `maxCellChars`. */
  truncated: z.array(z.tuple([z.number().int(), z.number().int()])).default([]),
  /**
   * With `atKey`: how many rows (filter and search applied) come before the key, so the first row
   * is number rowsBefore + 1; null when counting them took longer than GO_TO_KEY_COUNT_MS.
   */
  rowsBefore: z.number().int().nullable().optional(),
});
export type BrowseRowsOutput = z.infer<typeof browseRowsOutput>;

export const browseCountInput = z.object({
  connectionId,
  schema: z.string().min(1),
  table: z.string().min(1),
  filter: z.string().optional(),
  /** The grid's quick search, counted as browse.rows applies it (the count is of the rows the grid shows). */
  search: z.string().optional(),
  searchColumns: z.array(z.string().min(1)).optional(),
  /** false: planner estimate (instant); true: count(*) (may take long: cancellable). */
  exact: z.boolean().default(false),
  requestId: requestId.optional(),
});
export const browseCountOutput = z.object({
  count: z.number(),
  exact: z.boolean(),
  /** Where an estimate came from. */
  source: z.enum(['count', 'reltuples', 'explain']),
});
export type BrowseCountOutput = z.infer<typeof browseCountOutput>;

export const filterValidateInput = z.object({
  connectionId,
  schema: z.string().min(1),
  table: z.string().min(1),
  filter: z.string(),
  /** Also count matching rows, bounded by a statement timeout (default true). */
  count: z.boolean().default(true),
  requestId: requestId.optional(),
});
export const filterValidateOutput = z.union([
  z.object({
    valid: z.literal(true),
    /** Matching rows; null when counting hit the time bound (then `countTimedOut`). */
    count: z.number().nullable(),
    countTimedOut: z.boolean().default(false),
  }),
  z.object({
    valid: z.literal(false),
    /** PostgreSQL's message (or ours). */
    message: z.string(),
    /** 1-based character position in the filter text, where known. */
    position: z.number().int().optional(),
    sqlstate: z.string().optional(),
  }),
]);
export type FilterValidateOutput = z.infer<typeof filterValidateOutput>;

// ---------------------------------------------------------------- flows

/*
 * Flows refer to saved connections as `{ saved: <connection id or name> }` (flow/schema.ts). The app
 * writes ids, which survive a rename of the connection; a name is friendlier in a hand-written file.
 * The CLI resolves both from the same data folder (core/app/saved-lookup.ts).
 */
export const flowSummary = z.object({
  name: z.string(),
  source: z.object({ connection: z.string(), schema: z.string(), table: z.string() }),
  target: z.object({ connection: z.string(), schema: z.string(), table: z.string(), managedBy: z.enum(['system', 'user']) }),
  updatedAt: z.string(),
  watching: z.boolean(),
  demo: z.boolean().default(false),
});
export type FlowSummary = z.infer<typeof flowSummary>;

export const savedFlow = z.object({
  flow: flowSpec,
  updatedAt: z.string(),
});
export type SavedFlow = z.infer<typeof savedFlow>;

export const setSummary = z.object({
  name: z.string(),
  source: z.object({ connection: z.string(), schema: z.string() }),
  target: z.object({ connection: z.string(), schema: z.string() }),
  /** `"*"` or the listed tables. */
  tables: z.union([z.literal('*'), z.array(z.string())]),
  updatedAt: z.string(),
});
export type SetSummary = z.infer<typeof setSummary>;

export const savedSet = z.object({ set: setSpec, updatedAt: z.string() });
export type SavedSet = z.infer<typeof savedSet>;

const planOptions = {
  requestId: requestId.optional(),
  /** At most this many sample rows in the answer (the planner picks them). */
  sampleLimit: z.number().int().min(0).max(1000).optional(),
};
/** A flow either by its saved name or given inline (an unsaved draft, e.g. to preview a plan). */
export const flowPlanInput = z.union([
  z.object({ name, ...planOptions }).strict(),
  z.object({ flow: flowSpec, ...planOptions }).strict(),
]);

export const dropResult = z.object({
  flow: z.string(),
  /** What was removed, in words, in order. */
  steps: z.array(z.string()),
  durationMs: z.number(),
});
export type DropResult = z.infer<typeof dropResult>;

export const watchInfo = z.object({
  /** The flow's name, or the set's for a set's one watcher (`set: true`; its events name the member flows). */
  flow: z.string(),
  set: z.boolean().optional(),
  /** A set's member flows (`{set}.{table}`) with live capture, as expanded when its watch started. */
  members: z.array(z.string()).optional(),
  startedAt: z.string(),
  status: listenerStatus.nullable(),
  /** Change events seen since the watch started, by outcome. */
  counts: z.record(z.string(), z.number().int()),
});
export type WatchInfo = z.infer<typeof watchInfo>;

// ---------------------------------------------------------------- demo and app

export const demoStatus = z.object({
  state: z.enum(['absent', 'stopped', 'starting', 'running', 'failed']),
  /** Saved connection ids of the demo databases, once registered. */
  sourceConnectionId: z.string().optional(),
  targetConnectionId: z.string().optional(),
  /** The ready-made demo flow. */
  flowName: z.string().optional(),
  activity: z.object({ running: z.boolean(), ratePerSecond: z.number(), applied: z.number().int() }),
  message: z.string().optional(),
});
export type DemoStatus = z.infer<typeof demoStatus>;

export const secretStorageStatus = z.object({
  /** os: Electron safeStorage (Keychain, DPAPI, libsecret/kwallet); file: a 0600 file; memory: not persisted. */
  kind: z.enum(['os', 'file', 'memory']),
  encrypted: z.boolean(),
  /** e.g. "gnome_libsecret", "basic_text", "keychain". */
  backend: z.string().optional(),
  /** Shown to the user when secrets are not protected by the OS (Linux basic_text fallback, file store). */
  warning: z.string().optional(),
});
export type SecretStorageStatus = z.infer<typeof secretStorageStatus>;

export const appInfo = z.object({
  version: z.string(),
  mode: z.enum(['electron', 'browser']),
  platform: z.string(),
  dataDir: z.string(),
  secretStorage: secretStorageStatus,
  /** True when this is the first run (no saved connections yet): the UI offers the demo. */
  firstRun: z.boolean(),
});
export type AppInfo = z.infer<typeof appInfo>;

// ---------------------------------------------------------------- the map

function method<I extends z.ZodType, O extends z.ZodType>(input: I, output: O, doc: string) {
  return { input, output, doc };
}

export const methods = {
  'connections.list': method(empty, z.array(savedConnection), 'Saved connections (no secrets).'),
  'connections.save': method(
    z.object({
      /** Present: update that connection; absent: create one. */
      id: connectionId.optional(),
      name: z.string().trim().min(1),
      connection: connectionDraft,
    }).strict(),
    savedConnection,
    'Create or update a saved connection; the password goes to the secret store, never back.',
  ),
  'connections.test': method(
    z.union([z.object({ id: connectionId }).strict(), z.object({ connection: connectionDraft, id: connectionId.optional() }).strict()]),
    connectionTestResult,
    'Connect and report server version and pgvector; a failure is data (ok:false), not an error. With `connection` and `id`, an omitted password falls back to the saved one.',
  ),
  'connections.remove': method(z.object({ id: connectionId }).strict(), z.object({ removed: z.boolean() }), 'Forget a saved connection and its secret.'),

  'catalog.schemas': method(z.object({ connectionId }).strict(), z.array(schemaInfo), 'Schemas of the database, user schemas first (pg_catalog/information_schema flagged isSystem; temp/TOAST left out).'),
  'catalog.tables': method(z.object({ connectionId, schema: z.string().min(1) }).strict(), z.array(tableInfo), 'Relations of a schema, with key badge and usability.'),
  'catalog.describe': method(z.object({ connectionId, schema: z.string().min(1), table: z.string().min(1) }).strict(), tableDescription, 'Columns of a relation with exact types.'),

  'catalog.objects': method(z.object({ connectionId, schema: z.string().min(1) }).strict(), schemaObjects, 'Sequences and functions of a schema (listed, not usable as sources; extension members left out).'),
  'catalog.databases': method(z.object({ connectionId }).strict(), z.array(databaseInfo), 'The databases of the server this connection is on.'),
  'connections.forDatabase': method(
    z.object({ id: connectionId, database: z.string().min(1) }).strict(),
    savedConnection,
    'A saved connection to another database of the same server (same host, user, sslmode, password): the existing one or a new one.',
  ),
  'inspect.structure': method(
    z.object({ connectionId, schema: z.string().min(1), table: z.string().min(1) }).strict(),
    tableStructure,
    'A relation\'s structure: columns, constraints, foreign keys both ways, indexes with sizes, triggers (TableSync\'s own marked), size, estimate, partitions and pg_dump-style DDL.',
  ),

  'console.run': method(consoleRunInput, consoleResult, 'Run one statement on a connection (read-only unless allowWrites), or EXPLAIN it; the first page of its rows. Cancel with query.cancel.'),
  'console.fetch': method(consoleFetchInput, consolePage, 'More rows of the open console result, from a server-side cursor.'),
  'console.close': method(z.object({ consoleId }).strict(), z.object({ closed: z.boolean() }), 'Close a console: its open result and its session.'),
  'console.completions': method(z.object({ connectionId }).strict(), completionSchema, 'Schemas → tables → columns, for the console editor\'s completion.'),

  'export.start': method(exportStartInput, exportStartOutput, 'Export the rows in view (or a console result) to CSV, JSON lines or INSERTs, streamed: to a file, or as a download the page fetches from downloadPath. Progress: export.progress events.'),
  'export.cancel': method(z.object({ exportId: z.string().min(1) }).strict(), z.object({ cancelled: z.boolean() }), 'Stop a running (or waiting) export.'),

  'browse.rows': method(browseRowsInput, browseRowsOutput, 'A page of rows by keyset (never OFFSET).'),
  'browse.cell': method(
    z.object({ connectionId, schema: z.string().min(1), table: z.string().min(1), column: z.string().min(1), key: z.array(cell), requestId: requestId.optional() }).strict(),
    z.object({ value: cell }),
    'One whole cell by primary key (`key` in keyColumns order), for a cell browse.rows truncated.',
  ),
  'browse.count': method(browseCountInput, browseCountOutput, 'Row count: estimate, or exact (cancellable).'),
  'filter.validate': method(filterValidateInput, filterValidateOutput, 'Validate a filter (read-only); count matching rows within a time bound.'),
  'query.cancel': method(z.object({ requestId }).strict(), z.object({ cancelled: z.boolean() }), 'Cancel the running call with this requestId.'),

  'sets.list': method(empty, z.array(setSummary), 'Saved sets of flows.'),
  'sets.get': method(z.object({ name }).strict(), savedSet, 'One saved set.'),
  'sets.save': method(
    z.object({ set: setSpec, overwrite: z.boolean().default(false) }).strict(),
    z.object({ set: setSpec, created: z.boolean() }),
    'Save a set (its name is its identity: members are the flows {set}.{table}).',
  ),
  'sets.remove': method(z.object({ name }).strict(), z.object({ removed: z.boolean() }), 'Forget a saved set (does not touch databases; see sets.drop).'),
  'sets.plan': method(
    z.union([z.object({ name, requestId: requestId.optional() }).strict(), z.object({ set: setSpec, requestId: requestId.optional() }).strict()]),
    setPlan,
    'The whole set: members with the defaults applied, per table counts and steps, totals, refused tables with reasons; writes nothing.',
  ),
  'sets.apply': method(
    z.object({
      name,
      allowDestructive: z.boolean().default(false),
      repair: z.boolean().default(false),
      /**
       * The plan the user reviewed (its `fingerprint` and each member's `plan.fingerprint`, by table).
       * When the world changed since: PLAN_STALE (detail.stale: each changed member and why) if a
       * changed member's new plan has destructive steps, else applied as recomputed with `replanned`.
       */
      expectedPlan: z.object({ fingerprint: z.string(), members: z.record(z.string(), z.string()) }).strict().optional(),
      requestId: requestId.optional(),
    }).strict(),
    setApplyResult,
    'Apply every member in ONE target transaction; progress as set.applyProgress events; cancel with query.cancel (target unchanged).',
  ),
  'sets.verify': method(z.object({ name, requestId: requestId.optional() }).strict(), setVerifyResult, 'Verify every member.'),
  'sets.watchStart': method(z.object({ name }).strict(), watchInfo, 'Start the set\'s one watcher (one listener for every member; catch-up first); events: flow.change (member flows), flow.listener (the set).'),
  'sets.watchStop': method(z.object({ name }).strict(), z.object({ stopped: z.boolean() }), 'Stop the set\'s watcher.'),
  'sets.drop': method(
    z.object({ name, tables: z.array(z.string().min(1)).optional(), allowDestructive: z.boolean().default(false), requestId: requestId.optional() }).strict(),
    z.object({ members: z.array(z.string()), steps: z.array(planStep) }),
    'Drop the set\'s members (all, or `tables`), their foreign keys first, in one target transaction.',
  ),

  'flows.list': method(empty, z.array(flowSummary), 'Saved flows.'),
  'flows.get': method(z.object({ name }).strict(), savedFlow, 'One saved flow.'),
  'flows.save': method(
    z.object({
      flow: flowSpec,
      /** The name the flow had when the editor opened it; a different `flow.name` is a rename. */
      previousName: z.string().optional(),
      /** On rename, remove the old saved flow (its target and state are left as they are). */
      removePrevious: z.boolean().default(false),
      /** Replace a different saved flow that already has this name. */
      overwrite: z.boolean().default(false),
    }).strict(),
    z.object({
      flow: flowSpec,
      created: z.boolean(),
      /** Set when this save renamed a flow: a new identity (new tracking state, new target ownership). */
      renamedFrom: z.string().optional(),
      warnings: z.array(z.string()),
    }),
    'Save a flow. The name is its identity: renaming makes a new flow, and the answer says so.',
  ),
  'flows.remove': method(z.object({ name }).strict(), z.object({ removed: z.boolean() }), 'Forget a saved flow (does not touch databases; see flows.drop).'),
  'flows.plan': method(
    flowPlanInput,
    plan,
    'What applying would do now; writes nothing.',
  ),
  'flows.loadChoice': method(
    z.object({ flow: flowSpec }).strict(),
    z.object({
      /** null: the next apply would not be an initial load (or, with `notAsked`, not known). */
      automatic: initialLoadChoice.nullable(),
      /** Why the servers were not asked: a one-session server (PGlite) is not taken from a plan or a watch for a hint. */
      notAsked: z.string().optional(),
    }),
    'How the next apply would load the rows if it is an initial load, as "automatic" would choose (catalog reads only, no scan).',
  ),
  'flows.apply': method(
    z.object({
      name,
      allowDestructive: z.boolean().default(false),
      /**
       * The plan's fingerprint the user reviewed. When the world changed since: PLAN_STALE if the new
       * plan has destructive steps (review again), else applied as recomputed with `replanned: true`.
       */
      expectedFingerprint: z.string().optional(),
      /** Also rewrite the rows verify finds drifted (hand edits of the target), in the same transaction. */
      repair: z.boolean().default(false),
      /** managedBy "user": overwrite and own the rows you wrote whose key the source also has (the plan's conflicts); else they are left alone. */
      takeOver: z.boolean().default(false),
      // No `streams` here: an initial load's streams are the saved flow's `load.streams` (the plan
      // shows how the load will run from it), so what was reviewed is what runs (README Decisions).
      requestId: requestId.optional(),
    }).strict(),
    applyResult,
    'Converge the target; progress as flow.applyProgress events; cancel with query.cancel.',
  ),
  'flows.verify': method(
    z.union([
      z.object({ name, requestId: requestId.optional(), listLimit: z.number().int().min(0).max(10000).optional() }).strict(),
      z.object({ flow: flowSpec, requestId: requestId.optional(), listLimit: z.number().int().min(0).max(10000).optional() }).strict(),
    ]),
    verifyResult,
    'Compare what the target holds with what the flow says it should hold (changed, missing, extra rows); writes nothing.',
  ),
  'flows.dropPreview': method(
    z.object({ name }).strict(),
    z.object({ flow: z.string(), steps: z.array(planStep) }),
    'The steps a drop would run, each with its SQL and hazards (a table that holds rows is destructive); runs nothing.',
  ),
  'flows.drop': method(
    z.object({
      name,
      /** Let the drop delete a table that holds rows (the user confirmed the steps of flows.dropPreview). */
      allowDestructive: z.boolean().default(false),
      /** Drop objects that depend on the table too (DROP … CASCADE); without it such a drop is refused naming them. */
      cascade: z.boolean().default(false),
      requestId: requestId.optional(),
    }).strict(),
    dropResult,
    'Remove what the flow created in the databases; DESTRUCTIVE_NOT_ALLOWED when it would delete rows without allowDestructive.',
  ),
  'flows.watchStart': method(z.object({
    name,
    /** Logical capture whose slot was invalidated (status slot.lost): drop and recreate the slot, then a full catch-up. */
    resync: z.boolean().optional(),
  }).strict(), watchInfo, 'Start listening (catch-up first); events: flow.change, flow.listener. `resync`: a logical-replication flow whose slot was invalidated drops and recreates it, then runs a full catch-up.'),
  'flows.watchStop': method(z.object({ name }).strict(), z.object({ stopped: z.boolean() }), 'Stop listening.'),
  'flows.watchList': method(empty, z.array(watchInfo), 'Running watches.'),
  'flows.watchRecent': method(z.object({ name, limit: z.number().int().min(1).max(5000).default(200) }).strict(), z.array(changeEvent), 'The latest change events of a watch (newest last), for a monitor opened late.'),

  'demo.status': method(empty, demoStatus, 'State of the built-in demo databases.'),
  'demo.start': method(empty, demoStatus, 'Start the demo databases (created and seeded on first start).'),
  'demo.stop': method(empty, demoStatus, 'Stop the demo databases (their data is kept for the next start).'),
  'demo.reset': method(empty, demoStatus, 'Stop, delete and recreate the demo databases.'),
  'demo.activityStart': method(z.object({ ratePerSecond: z.number().min(0.1).max(1000).default(3) }).strict(), demoStatus, 'Start simulated writes on the demo source.'),
  'demo.activityStop': method(empty, demoStatus, 'Stop simulated writes.'),

  'app.info': method(empty, appInfo, 'Version, mode, data folder, how secrets are stored.'),
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
/** What a caller may pass (defaults optional). */
export type MethodInput<M extends MethodName> = z.input<Methods[M]['input']>;
/** What the engine receives after validation (defaults filled). */
export type MethodParsedInput<M extends MethodName> = z.output<Methods[M]['input']>;
export type MethodOutput<M extends MethodName> = z.output<Methods[M]['output']>;

export const METHOD_NAMES = Object.keys(methods) as MethodName[];

export function isMethodName(s: string): s is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, s);
}
