/**
 * The key scan in COPY's binary format, when both ends can take it: no text formatting of a
 * million timestamps on the source and no parsing on the target (about a third of the scan's time).
 * Only for the scan table, whose columns have exactly the source's types (binary COPY is
 * type-specific), between two UTF-8 databases (text is sent in the server encoding), and never to
 * PGlite (no COPY FROM STDIN). Everything else uses the text scan.
 *
 * The read runs like every source read: a dedicated client in BEGIN READ ONLY with the source
 * settings, ended the same way (core/source/read-only.ts), over SQL whose filter resolveSource validated.
 */
import { LONG_WORK_SQL } from '../sql/long-work';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { toTableSyncError } from '../errors';
import { SOURCE_SETTINGS_SQL } from '../source';
import { END_READ_ONLY_SQL, connect } from '../source/read-only';

export async function* copyBinaryOut(pool: pg.Pool, query: string, context: string): AsyncGenerator<Buffer> {
  const client = await connect(pool);
  let done = false;
  try {
    await client.query(`BEGIN READ ONLY; ${SOURCE_SETTINGS_SQL}; ${LONG_WORK_SQL}`);
    const stream = client.query(copyTo(`COPY (${query}) TO STDOUT (FORMAT binary)`));
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (e) {
      throw toTableSyncError(e, context);
    }
    await client.query(END_READ_ONLY_SQL);
    done = true;
  } finally {
    // A client left mid-COPY (consumer stopped, error) is destroyed rather than reused.
    client.release(done ? undefined : true);
  }
}

export async function serverEncoding(q: { query: pg.Pool['query'] } | pg.ClientBase): Promise<string> {
  const { rows } = await (q as pg.ClientBase).query('SHOW server_encoding');
  return (rows[0] as { server_encoding: string }).server_encoding;
}
