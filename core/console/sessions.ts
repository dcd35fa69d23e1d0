/**
 * The SQL console's sessions: one dedicated PostgreSQL session per console (a client-chosen id, one
 * per connection per window), so a result can stay open as a server-side cursor and be read in
 * bounded pages however large it is. This is the one door for console SQL:
 *
 * - Read-only by default: the statement runs inside `BEGIN READ ONLY` and the transaction is rolled
 *   back when the result is closed, so nothing the console runs can write, whatever the statement
 *   says (a write fails with PostgreSQL's read-only error, reported as such).
 * - Writes only when the caller says the user allowed them (and the UI showed the statement first);
 *   a write is committed as soon as it succeeded. A SELECT run with writes allowed becomes a WITH
 *   HOLD cursor, committed at once (a function it called may have written), its rows kept by the
 *   server for paging.
 * - One statement per run (extended protocol: PostgreSQL itself refuses a second one).
 * - Rows come through `DECLARE … SCROLL CURSOR` and `MOVE ABSOLUTE n` + `FETCH FORWARD m`: the
 *   engine holds one page at a time; the server keeps the rest (spilling to disk past work_mem).
 *   Statements a cursor cannot carry (SHOW, INSERT … RETURNING, DDL) run directly.
 * - EXPLAIN ANALYZE runs the statement, always in a transaction that is rolled back.
 * - A result left unread for CONSOLE_IDLE_MS is closed, so an open transaction does not hold back
 *   VACUUM for hours.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { CONSOLE_IDLE_MS, type ConsoleColumn, type ConsolePage, type ConsoleResult } from '../api/contract.console';
import { connectClient } from '../connections/pool';
import { TableSyncError, toTableSyncError } from '../errors';
import { TEXT_SETTINGS_SQL } from '../sql/text-settings';
import { parseExplainJson, planText } from './plan-tree';
import { isCursorable, oneStatement } from './statement';

const CURSOR = 'tablesync_console';

export interface ConsoleHooks {
  /**
   * The connection serving this call, so `query.cancel` can reach it. Returns a stop, called
   * before our own cleanup statements (a ROLLBACK after the cancelled one): the session is the
   * user's and is kept after a cancel, so no repeated cancel may reach what it runs next.
   */
  onBackend?: (client: pg.ClientBase) => (() => Promise<void>) | void;
}

export interface RunRequest {
  consoleId: string;
  sql: string;
  allowWrites: boolean;
  explain?: 'plan' | 'analyze' | undefined;
  limit: number;
}

interface OpenResult {
  id: string;
  columns: ConsoleColumn[];
  /** Rows are read from the cursor (else `rows` holds a small direct result). */
  cursor: boolean;
  rows: (string | null)[][] | null;
  /** The transaction stays open until the result closes (read-only cursor). */
  inTransaction: boolean;
  done: boolean;
  rowCount: number | null;
}

interface Session {
  url: string;
  client: pg.Client;
  result: OpenResult | null;
  notices: string[];
  idle: ReturnType<typeof setTimeout> | null;
  broken: boolean;
}

export class ConsoleSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly idleMs = CONSOLE_IDLE_MS) {}

  /** Run one statement (or EXPLAIN it); the first page comes with the answer. */
  run(url: string, req: RunRequest, hooks: ConsoleHooks = {}): Promise<ConsoleResult> {
    const sql = oneStatement(req.sql);
    return this.serial(req.consoleId, url, async (s) => {
      await this.endResult(s);
      const stop = hooks.onBackend?.(s.client) ?? (() => Promise.resolve());
      try {
        return await this.runIn(s, sql, req, stop);
      } finally {
        await stop();
      }
    });
  }

  private async runIn(s: Session, sql: string, req: RunRequest, stop: () => Promise<void>): Promise<ConsoleResult> {
    s.notices = [];
    const started = performance.now();
    if (req.explain) return this.explain(s, sql, req, started, stop);
    const readOnly = !req.allowWrites;
    await this.q(s, readOnly ? `BEGIN READ ONLY; ${TEXT_SETTINGS_SQL}` : `BEGIN; ${TEXT_SETTINGS_SQL}`);
    try {
      if (isCursorable(sql)) {
        const declared = await this.tryDeclare(s, sql, readOnly);
        if (declared) {
          const res: OpenResult = { id: randomUUID(), columns: [], cursor: true, rows: null, inTransaction: readOnly, done: false, rowCount: null };
          s.result = res;
          if (!readOnly) await this.q(s, 'COMMIT');
          const page = await this.page(s, res, 0, req.limit, true);
          return this.answer(s, res, page, { command: 'SELECT', affected: null, started, readOnly });
        }
      }
      // Not something a cursor can carry: run it as it is.
      const r = await s.client.query({ text: sql, queryMode: 'extended', rowMode: 'array' } as pg.QueryConfig);
      await this.q(s, readOnly ? 'ROLLBACK' : 'COMMIT');
      const columns = await this.columnTypes(s, r.fields);
      const rows = (r.rows ?? []) as (string | null)[][];
      const res: OpenResult = { id: randomUUID(), columns, cursor: false, rows, inTransaction: false, done: true, rowCount: rows.length };
      s.result = res;
      const returnsRows = r.fields.length > 0;
      return this.answer(s, res, { rows: rows.slice(0, req.limit), offset: 0, done: true, rowCount: rows.length }, {
        command: r.command ?? '', affected: returnsRows && r.command === 'SELECT' ? null : (r.rowCount ?? null), started, readOnly,
      });
    } catch (e) {
      await stop();
      await this.q(s, 'ROLLBACK').catch(() => { s.broken = true; });
      s.result = null;
      throw userError(e, readOnly);
    }
  }

  /** Rows `offset`..`offset+limit` of the open result. */
  fetch(consoleId: string, resultId: string, offset: number, limit: number, hooks: ConsoleHooks = {}): Promise<ConsolePage> {
    const s = this.sessions.get(consoleId);
    if (!s) return Promise.reject(closedError());
    return this.serial(consoleId, s.url, async (s2) => {
      const res = s2.result;
      if (!res || res.id !== resultId) throw closedError();
      const stop = hooks.onBackend?.(s2.client) ?? (() => Promise.resolve());
      if (!res.cursor) {
        const rows = res.rows ?? [];
        return { rows: rows.slice(offset, offset + limit), offset, done: true, rowCount: rows.length };
      }
      try {
        return await this.page(s2, res, offset, limit, false);
      } catch (e) {
        // A cancelled or failed FETCH aborts the transaction: the result is gone.
        await stop();
        await this.endResult(s2);
        throw toTableSyncError(e);
      } finally {
        await stop();
      }
    });
  }

  /** Close a console's open result and its session. */
  close(consoleId: string): Promise<boolean> {
    return this.enqueue(consoleId, () => this.dispose(consoleId));
  }

  /** The URL a console's session is on (for cancelling its backend). */
  urlOf(consoleId: string): string | undefined {
    return this.sessions.get(consoleId)?.url;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((id) => this.close(id)));
  }

  get size(): number {
    return this.sessions.size;
  }

  // ------------------------------------------------------------ internals

  private async explain(s: Session, sql: string, req: RunRequest, started: number, stop: () => Promise<void>): Promise<ConsoleResult> {
    const analyze = req.explain === 'analyze';
    // ANALYZE executes the statement: never let it write, even with writes allowed.
    await this.q(s, `BEGIN${req.allowWrites ? '' : ' READ ONLY'}; ${TEXT_SETTINGS_SQL}`);
    try {
      const prefix = `EXPLAIN (FORMAT JSON${analyze ? ', ANALYZE, BUFFERS' : ''}) `;
      const r = await s.client.query({ text: `${prefix}${sql}`, queryMode: 'extended', rowMode: 'array' } as pg.QueryConfig)
        .catch((e: unknown) => { throw shiftPosition(e, prefix.length); });
      const json = String((r.rows[0] as unknown[])[0]);
      const parsed = parseExplainJson(json);
      const res: OpenResult = { id: randomUUID(), columns: [], cursor: false, rows: [], inTransaction: false, done: true, rowCount: 0 };
      s.result = res;
      const out = this.answer(s, res, { rows: [], offset: 0, done: true, rowCount: 0 }, { command: 'EXPLAIN', affected: null, started, readOnly: !req.allowWrites });
      out.plan = { root: parsed.root, text: planText(parsed.root, parsed), planningMs: parsed.planningMs, executionMs: parsed.executionMs, rolledBack: true };
      return out;
    } catch (e) {
      throw userError(e, !req.allowWrites);
    } finally {
      await stop();
      await this.q(s, 'ROLLBACK').catch(() => { s.broken = true; });
    }
  }

  /** DECLARE the cursor; false when the statement cannot be a cursor (a data-modifying WITH…). */
  private async tryDeclare(s: Session, sql: string, readOnly: boolean): Promise<boolean> {
    await this.q(s, 'SAVEPOINT tablesync_declare');
    const prefix = `DECLARE ${CURSOR} SCROLL CURSOR${readOnly ? '' : ' WITH HOLD'} FOR `;
    try {
      await s.client.query({ text: `${prefix}${sql}`, queryMode: 'extended' } as pg.QueryConfig);
      await this.q(s, 'RELEASE SAVEPOINT tablesync_declare');
      return true;
    } catch (e) {
      const code = (e as { code?: string }).code;
      // 0A000: "DECLARE CURSOR must not contain data-modifying statements in WITH" and kin; 42601 at
      // the DECLARE itself (e.g. SELECT … INTO): run the statement as it is instead.
      if (code === '0A000' || (code === '42601' && /cursor|INTO is not allowed/i.test((e as Error).message))) {
        await this.q(s, 'ROLLBACK TO SAVEPOINT tablesync_declare');
        return false;
      }
      throw shiftPosition(e, prefix.length);
    }
  }

  private async page(s: Session, res: OpenResult, offset: number, limit: number, first: boolean): Promise<ConsolePage> {
    if (!first) await this.q(s, `MOVE ABSOLUTE ${Math.floor(offset)} IN ${CURSOR}`);
    const r = await s.client.query({ text: `FETCH FORWARD ${Math.floor(limit)} FROM ${CURSOR}`, rowMode: 'array' });
    if (first) res.columns = await this.columnTypes(s, r.fields);
    const rows = r.rows as (string | null)[][];
    if (rows.length < limit) {
      res.done = true;
      res.rowCount = offset + rows.length;
    }
    return { rows, offset, done: res.done && res.rowCount !== null && offset + rows.length >= res.rowCount, rowCount: res.rowCount };
  }

  private async columnTypes(s: Session, fields: pg.FieldDef[]): Promise<ConsoleColumn[]> {
    if (fields.length === 0) return [];
    const r = await s.client.query<{ t: string | null }>({
      text: 'SELECT format_type(u.oid, CASE WHEN u.mod < 0 THEN NULL ELSE u.mod END) AS t FROM unnest($1::oid[], $2::int4[]) WITH ORDINALITY AS u(oid, mod, i) ORDER BY u.i',
      values: [fields.map((f) => f.dataTypeID), fields.map((f) => f.dataTypeModifier)],
    });
    return fields.map((f, i) => ({ name: f.name, type: r.rows[i]?.t ?? 'unknown' }));
  }

  private answer(s: Session, res: OpenResult, page: ConsolePage, o: { command: string; affected: number | null; started: number; readOnly: boolean }): ConsoleResult {
    return {
      resultId: res.id,
      columns: res.columns,
      ...page,
      command: o.command,
      affected: o.affected,
      durationMs: Math.round(performance.now() - o.started),
      readOnly: o.readOnly,
      notices: [...s.notices],
    };
  }

  /** Close the open result: roll back its read-only transaction (or drop its WITH HOLD cursor). */
  private async endResult(s: Session): Promise<void> {
    const res = s.result;
    s.result = null;
    if (!res) return;
    if (res.inTransaction) await this.q(s, 'ROLLBACK').catch(() => { s.broken = true; });
    else if (res.cursor) await this.q(s, `CLOSE ${CURSOR}`).catch(() => {});
  }

  private q(s: Session, text: string): Promise<unknown> {
    return s.client.query(text);
  }

  /** Calls on one console run one after another, on its own session (made on first use). */
  private serial<T>(consoleId: string, url: string, fn: (s: Session) => Promise<T>): Promise<T> {
    return this.enqueue(consoleId, async () => {
      let s = this.sessions.get(consoleId);
      if (s && (s.url !== url || s.broken)) {
        await this.dispose(consoleId);
        s = undefined;
      }
      if (!s) {
        const client = await connectClient(url, { applicationName: 'tablesync console' });
        const fresh: Session = { url, client, result: null, notices: [], idle: null, broken: false };
        client.on('error', () => { fresh.broken = true; });
        client.on('notice', (n) => { if (fresh.notices.length < 100) fresh.notices.push(`${n.severity ?? 'NOTICE'}: ${n.message}`); });
        this.sessions.set(consoleId, fresh);
        s = fresh;
      }
      const session = s;
      if (session.idle) clearTimeout(session.idle);
      try {
        return await fn(session);
      } finally {
        if (this.sessions.get(consoleId) === session) {
          session.idle = setTimeout(() => void this.enqueue(consoleId, () => this.dispose(consoleId, session)), this.idleMs);
          session.idle.unref?.();
        }
      }
    });
  }

  private enqueue<T>(consoleId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(consoleId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.queues.set(consoleId, next);
    const clean = () => { if (this.queues.get(consoleId) === next) this.queues.delete(consoleId); };
    next.then(clean, clean);
    return next;
  }

  /** End the session of a console (only if it is still `expected`, when given). */
  private async dispose(consoleId: string, expected?: Session): Promise<boolean> {
    const s = this.sessions.get(consoleId);
    if (!s || (expected && s !== expected)) return false;
    this.sessions.delete(consoleId);
    if (s.idle) clearTimeout(s.idle);
    await this.endResult(s).catch(() => {});
    await s.client.end().catch(() => {});
    return true;
  }
}

/** PostgreSQL's error position counted in the user's statement, not in the text we wrapped it in. */
function shiftPosition(e: unknown, by: number): unknown {
  const err = e as { position?: string };
  if (err && typeof err.position === 'string' && Number(err.position) > by) err.position = String(Number(err.position) - by);
  return e;
}

function closedError(): TableSyncError {
  return new TableSyncError('NOT_FOUND', 'this result is closed (a newer statement ran, or it was idle for 5 minutes): run the statement again');
}

/** A statement's failure, in the user's terms: PostgreSQL's message and position; read-only named as such. */
function userError(e: unknown, readOnly: boolean): TableSyncError {
  const err = toTableSyncError(e);
  const sqlstate = err.detail?.['sqlstate'];
  if (sqlstate === '25006' && readOnly) {
    return new TableSyncError('PERMISSION_DENIED', `${err.message}: the console is read-only for this connection; turn on "Allow writes" to run statements that write`, { ...err.detail, readOnly: true }, { cause: e });
  }
  if (sqlstate === '42P05' || /cannot insert multiple commands/.test(err.message)) {
    return new TableSyncError('INVALID_INPUT', 'the console runs one statement at a time: select the one to run', err.detail, { cause: e });
  }
  if (err.code === 'INTERNAL' && typeof sqlstate === 'string') return new TableSyncError('INVALID_INPUT', err.message, err.detail, { cause: e });
  return err;
}
