/**
 * Moving COPY text into a target table: a COPY FROM STDIN pipe with backpressure, so a table of any
 * size streams through bounded memory. PGlite (over pglite-socket) loses protocol sync on COPY FROM
 * STDIN (checked: "terminating connection because protocol synchronization was lost"), so for that
 * server the same COPY text is decoded and inserted in batches through `unnest` of text arrays with
 * a cast per column: the server parses the same text it would have parsed from COPY.
 */
import type pg from 'pg';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { copyLines, decodeCopyRow } from '../sql/copy-text';
import { quoteIdent } from '../sql/ident';

export interface LoadColumn {
  name: string;
  type: string;
}

/** True when the server takes COPY FROM STDIN (everything but PGlite). */
export async function supportsCopyIn(client: pg.ClientBase): Promise<boolean> {
  return (await copyInAndEncoding(client)).copyIn;
}

/** supportsCopyIn and the server's encoding (binary-scan.ts serverEncoding), in one round trip. */
export async function copyInAndEncoding(client: pg.ClientBase): Promise<{ copyIn: boolean; encoding: string }> {
  const { rows } = await client.query(`SELECT version() AS v, current_setting('server_encoding') AS e`);
  const r = rows[0] as { v: string; e: string };
  return { copyIn: !/PGlite/i.test(r.v), encoding: r.e };
}

const BATCH = 1000;

/** Load COPY text chunks into `tableSql` (already quoted) columns; returns the row count. */
export async function loadCopyText(
  client: pg.ClientBase,
  tableSql: string,
  columns: LoadColumn[],
  chunks: AsyncIterable<Buffer | string>,
  copyIn: boolean,
  onRows?: (n: number) => void,
): Promise<number> {
  const colList = columns.map((c) => quoteIdent(c.name)).join(', ');
  if (copyIn) {
    const stream = client.query(copyFrom(`COPY ${tableSql} (${colList}) FROM STDIN`));
    let seen = 0;
    // Progress counts newlines per chunk with indexOf (native), not a per-byte JS loop.
    const counted = onRows
      ? Readable.from(chunks).map((chunk: Buffer | string) => {
          const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) seen++;
          onRows(seen);
          return buf;
        })
      : Readable.from(chunks);
    await pipeline(counted, stream);
    return stream.rowCount;
  }
  return insertRows(client, tableSql, columns, decodeLines(chunks), onRows);
}

async function* decodeLines(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<(string | null)[]> {
  for await (const line of copyLines(chunks)) yield decodeCopyRow(line);
}

/** Insert decoded rows in batches (the non-COPY path, also used for small row sets). */
export async function insertRows(
  client: pg.ClientBase,
  tableSql: string,
  columns: LoadColumn[],
  rows: AsyncIterable<(string | null)[]> | Iterable<(string | null)[]>,
  onRows?: (n: number) => void,
): Promise<number> {
  const colList = columns.map((c) => quoteIdent(c.name)).join(', ');
  const sql = `INSERT INTO ${tableSql} (${colList}) SELECT ${columns.map((c, i) => `u.c${i}::${c.type}`).join(', ')} FROM unnest(${columns.map((_, i) => `$${i + 1}::text[]`).join(', ')}) AS u(${columns.map((_, i) => `c${i}`).join(', ')})`;
  let batch: (string | null)[][] = columns.map(() => []);
  let inBatch = 0;
  let total = 0;
  const flush = async () => {
    if (inBatch === 0) return;
    await client.query(sql, batch);
    total += inBatch;
    onRows?.(total);
    batch = columns.map(() => []);
    inBatch = 0;
  };
  for await (const row of rows as AsyncIterable<(string | null)[]>) {
    for (let i = 0; i < columns.length; i++) batch[i]!.push(row[i] ?? null);
    if (++inBatch >= BATCH) await flush();
  }
  await flush();
  return total;
}
