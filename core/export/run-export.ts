/**
 * Run an export into a writable stream: COPY from a READ ONLY transaction on a dedicated client,
 * chunk by chunk, each chunk written before the next is read (backpressure end to end: the server
 * waits while the file or the HTTP download is slow), so memory stays at a few chunks whatever
 * the size. Rows are counted as they pass, for the progress bar.
 */
import type pg from 'pg';
import type { Writable } from 'node:stream';
import { to as copyTo } from 'pg-copy-streams';
import type { ExportFormat, ExportSource } from '../api/contract.export';
import { TableSyncError, toTableSyncError } from '../errors';
import { connect, END_READ_ONLY_SQL } from '../source/read-only';
import { SOURCE_SETTINGS_SQL } from '../source/source-sql';
import { copySql, exportQuery } from './export-sql';
import { CsvRowCounter, CopyTextUnescaper } from './streams';

export interface ExportRun {
  rows: number;
  bytes: number;
}

export interface ExportOptions {
  signal?: AbortSignal;
  insertInto?: string;
  /** Called now and then (every ~64 kB) and at the end. */
  onProgress?: (p: ExportRun) => void;
  onBackend?: (client: pg.ClientBase) => unknown;
  /** Called with the file name (without extension) before the first byte. */
  onStart?: (baseName: string) => void;
}

export async function runExport(pool: pg.Pool, source: ExportSource, format: ExportFormat, sink: Writable, opts: ExportOptions = {}): Promise<ExportRun> {
  const q = await exportQuery(pool, source);
  const { sql, unescape } = copySql(q, format, opts.insertInto);
  opts.onStart?.(q.baseName);
  if (opts.signal?.aborted) throw new TableSyncError('CANCELLED', 'export cancelled');
  const client = await connect(pool);
  opts.onBackend?.(client);
  let stream: ReturnType<typeof copyTo> | undefined;
  let clean = false;
  const onAbort = () => stream?.destroy(new TableSyncError('CANCELLED', 'export cancelled'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const out: ExportRun = { rows: 0, bytes: 0 };
  const counter = format === 'csv' ? new CsvRowCounter(true) : null;
  const unesc = unescape ? new CopyTextUnescaper() : null;
  let lastReport = 0;
  try {
    await client.query(`BEGIN READ ONLY; ${SOURCE_SETTINGS_SQL}`);
    stream = client.query(copyTo(sql));
    for await (const raw of stream) {
      let chunk = raw as Buffer;
      if (unesc) {
        out.rows += countNewlines(chunk);
        chunk = unesc.push(chunk);
      } else out.rows += counter!.push(chunk);
      out.bytes += chunk.length;
      if (!sink.write(chunk)) await drained(sink, opts.signal);
      if (out.bytes - lastReport > 65_536) {
        lastReport = out.bytes;
        opts.onProgress?.({ ...out });
      }
    }
    await client.query(END_READ_ONLY_SQL);
    clean = true;
    opts.onProgress?.({ ...out });
    return out;
  } catch (e) {
    if (opts.signal?.aborted) throw new TableSyncError('CANCELLED', 'export cancelled', undefined, { cause: e });
    throw toTableSyncError(e, 'export');
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    // A COPY stopped half way leaves the connection mid-protocol: destroy it rather than reuse it.
    client.release(!clean);
  }
}

function countNewlines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n;
}

function drained(sink: Writable, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => { cleanup(); resolve(); };
    const fail = (e?: unknown) => { cleanup(); reject(e instanceof Error ? e : new TableSyncError('CANCELLED', 'export cancelled')); };
    const cleanup = () => {
      sink.off('drain', done);
      sink.off('close', fail);
      sink.off('error', fail);
      signal?.removeEventListener('abort', fail);
    };
    sink.once('drain', done);
    sink.once('close', fail);
    sink.once('error', fail);
    signal?.addEventListener('abort', fail, { once: true });
  });
}
