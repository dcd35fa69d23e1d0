/**
 * Export and copy (issue 11): what can be exported (the rows in view of a table, or a console
 * statement's result), in which format, and the progress of a running export. Part of the
 * contract: zod only, no Node.
 */
import { z } from 'zod';

export const EXPORT_FORMATS = ['csv', 'jsonl', 'sql'] as const;
export const exportFormat = z.enum(EXPORT_FORMATS);
export type ExportFormat = z.infer<typeof exportFormat>;
export const EXPORT_EXTENSIONS: Record<ExportFormat, string> = { csv: 'csv', jsonl: 'jsonl', sql: 'sql' };
export const EXPORT_MIME: Record<ExportFormat, string> = { csv: 'text/csv; charset=utf-8', jsonl: 'application/x-ndjson; charset=utf-8', sql: 'application/sql; charset=utf-8' };
/** A download not fetched within this time is forgotten. */
export const EXPORT_DOWNLOAD_WAIT_MS = 60_000;
/** Path of a browser-mode download: `${EXPORT_DOWNLOAD_PATH}/<exportId>`. */
export const EXPORT_DOWNLOAD_PATH = '/api/export';

/** The rows in view of a table: its filter, its sort, its quick search and its visible columns. */
export const tableExportSource = z.object({
  kind: z.literal('table'),
  schema: z.string().min(1),
  table: z.string().min(1),
  /** Visible columns in order; default all. */
  columns: z.array(z.string().min(1)).optional(),
  filter: z.string().optional(),
  /** Multi-column order (the grid's); the primary key always ends it. */
  sort: z.array(z.object({ column: z.string().min(1), dir: z.enum(['asc', 'desc']).default('asc') })).optional(),
  /** Quick search text (ILIKE over the visible columns' text). */
  search: z.string().optional(),
}).strict();

/** A console statement's result (a SELECT, VALUES, TABLE or WITH … SELECT), run again read-only. */
export const queryExportSource = z.object({ kind: z.literal('query'), sql: z.string().min(1), name: z.string().optional() }).strict();

export const exportSource = z.discriminatedUnion('kind', [tableExportSource, queryExportSource]);
export type ExportSource = z.infer<typeof exportSource>;

export const exportStartInput = z.object({
  connectionId: z.string().min(1).max(200),
  source: exportSource,
  format: exportFormat,
  /** `download`: the browser fetches it from `downloadPath`; `file`: the engine writes this path (desktop app, CLI). */
  destination: z.union([
    z.object({ download: z.literal(true) }).strict(),
    z.object({ path: z.string().min(1) }).strict(),
    /** The user's Downloads folder (the desktop app), under a name not yet taken. */
    z.object({ folder: z.literal('downloads') }).strict(),
  ]),
  /** Rows expected (the grid's count or estimate), for the progress bar. */
  expectedRows: z.number().int().min(0).nullable().optional(),
  /** For INSERTs: the table name to insert into (default: the source table, or `query_result`). */
  insertInto: z.string().min(1).optional(),
}).strict();
export type ExportStartInput = z.input<typeof exportStartInput>;

export const exportStartOutput = z.object({
  exportId: z.string(),
  fileName: z.string(),
  /** For a download: the same-origin path to fetch. */
  downloadPath: z.string().optional(),
  /** For a file: where it is being written. */
  path: z.string().optional(),
});

export const exportProgress = z.object({
  exportId: z.string(),
  state: z.enum(['waiting', 'running', 'done', 'failed', 'cancelled']),
  rows: z.number().int(),
  bytes: z.number().int(),
  expectedRows: z.number().int().nullable(),
  fileName: z.string(),
  error: z.string().optional(),
  durationMs: z.number().optional(),
});
export type ExportProgress = z.infer<typeof exportProgress>;
