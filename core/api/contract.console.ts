/**
 * The SQL console's shapes (issue 11): a statement run on the active connection, its result read
 * in bounded pages from a server-side cursor, EXPLAIN plans as a tree. Part of the contract: zod
 * only, no Node. Methods using them are in contract.ts.
 */
import { z } from 'zod';
import { cell } from './model';

/** Rows per page the console reads by default, and at most (the grid asks for windows of this). */
export const CONSOLE_PAGE_ROWS = 200;
export const CONSOLE_MAX_PAGE_ROWS = 5000;
/** A result left unread this long is closed (its transaction would hold back VACUUM). */
export const CONSOLE_IDLE_MS = 5 * 60_000;
/** History entries kept per connection. */
export const CONSOLE_HISTORY_MAX = 100;

export const consoleId = z.string().min(1).max(200);

export const consoleColumn = z.object({
  name: z.string(),
  /** format_type of the column's type (`numeric`, `timestamp with time zone`); `unknown` when it has none. */
  type: z.string(),
});
export type ConsoleColumn = z.infer<typeof consoleColumn>;

/** One node of an EXPLAIN plan, with what a reader needs; `children` are its inputs. */
export interface PlanNode {
  /** `Seq Scan`, `Index Scan`, `Hash Join`… */
  nodeType: string;
  /** `on public.orders o`, `using orders_pkey`, `(Inner)`: what the node works on, in words. */
  detail: string;
  startupCost: number;
  totalCost: number;
  planRows: number;
  /** EXPLAIN ANALYZE only. */
  actualTotalMs: number | null;
  actualRows: number | null;
  loops: number | null;
  /** Conditions and keys: `Filter: (qty > 1)`, `Index Cond: (id = 5)`, `Rows Removed by Filter: 30`. */
  extra: string[];
  children: PlanNode[];
}
export const planNode: z.ZodType<PlanNode> = z.lazy(() => z.object({
  nodeType: z.string(),
  detail: z.string(),
  startupCost: z.number(),
  totalCost: z.number(),
  planRows: z.number(),
  actualTotalMs: z.number().nullable(),
  actualRows: z.number().nullable(),
  loops: z.number().nullable(),
  extra: z.array(z.string()),
  children: z.array(planNode),
}));

export const consoleRunInput = z.object({
  connectionId: z.string().min(1).max(200),
  /** Client-chosen id of this console (one per connection per window): its session and open result. */
  consoleId,
  /** One SQL statement. */
  sql: z.string().min(1),
  /** false (default): BEGIN READ ONLY, so nothing can be written. true: the user allowed writes and confirmed this statement. */
  allowWrites: z.boolean().default(false),
  /** EXPLAIN it instead of running it; `analyze` runs it (always rolled back) and reports actual times. */
  explain: z.enum(['plan', 'analyze']).optional(),
  limit: z.number().int().min(1).max(CONSOLE_MAX_PAGE_ROWS).default(CONSOLE_PAGE_ROWS),
  requestId: z.string().min(1).max(200).optional(),
}).strict();
export type ConsoleRunInput = z.input<typeof consoleRunInput>;

export const consolePage = z.object({
  /** Rows from `offset` (0-based), cells in `columns` order, PostgreSQL text. */
  rows: z.array(z.array(cell)),
  offset: z.number().int(),
  /** true once the last row has been read: `rowCount` is then the total. */
  done: z.boolean(),
  rowCount: z.number().int().nullable(),
});
export type ConsolePage = z.infer<typeof consolePage>;

export const consoleResult = consolePage.extend({
  /** Identifies this result: fetches name it, and a newer run replaces it. */
  resultId: z.string(),
  columns: z.array(consoleColumn),
  /** The command tag: SELECT, UPDATE, CREATE TABLE… */
  command: z.string(),
  /** Rows a write touched (UPDATE 3 → 3); null for reads. */
  affected: z.number().int().nullable(),
  durationMs: z.number(),
  readOnly: z.boolean(),
  /** Present for EXPLAIN: the plan as a tree, and PostgreSQL's text form. */
  plan: z.object({ root: planNode, text: z.string(), planningMs: z.number().nullable(), executionMs: z.number().nullable(), rolledBack: z.boolean() }).optional(),
  /** NOTICEs and WARNINGs the statement raised. */
  notices: z.array(z.string()),
});
export type ConsoleResult = z.infer<typeof consoleResult>;

export const consoleFetchInput = z.object({
  consoleId,
  resultId: z.string(),
  offset: z.number().int().min(0),
  limit: z.number().int().min(1).max(CONSOLE_MAX_PAGE_ROWS).default(CONSOLE_PAGE_ROWS),
  requestId: z.string().min(1).max(200).optional(),
}).strict();

/** Tables and their columns, per schema, for the editor's completion. */
export const completionSchema = z.record(z.string(), z.record(z.string(), z.array(z.string())));
export type CompletionSchema = z.infer<typeof completionSchema>;
