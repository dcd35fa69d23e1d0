/**
 * COPY from one server straight into another without looking at the rows: the source's CopyData
 * messages are passed on as they arrived (type byte, length, payload), and a CopyData message is
 * the same in both directions of the protocol, so the target receives exactly the bytes the source
 * sent. pg-copy-streams, by contrast, takes every message apart (one per row) and the target side
 * puts a new header on every chunk: a million small slices and their garbage per million rows, the
 * most CPU this process spent in an initial load.
 *
 * `copyOutFrames(sql)` is a pg Submittable Readable of whole CopyData messages (never a part of
 * one, so a CopyFail can always follow); `copyInFrames(sql)` is pg-copy-streams' COPY FROM stream
 * writing what it is given as it is. Use them only together. What the source sends besides data
 * (CopyOutResponse, notices, parameter status, notifications) is not passed on; an ErrorResponse
 * and everything after CopyDone go back to pg, which reports them as for any query.
 */
import { Readable } from 'node:stream';
import type { Connection, Submittable } from 'pg';
import { from as copyFrom, type CopyStreamQuery } from 'pg-copy-streams';

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const ERROR_RESPONSE = 0x45; // 'E'
/** Messages the server may send inside a COPY OUT that are not data: CopyOutResponse, Notice, ParameterStatus, Notification. */
const SKIPPED = new Set([0x48, 0x4e, 0x53, 0x41]);

interface SocketLike {
  pause(): void;
  resume(): void;
  listeners(event: 'data'): ((b: Buffer) => void)[];
  removeListener(event: string, fn: (...a: never[]) => void): void;
  on(event: string, fn: (...a: never[]) => void): void;
  addListener(event: string, fn: (...a: never[]) => void): void;
}

/**
 * Splits a byte stream of backend messages into runs of whole CopyData messages. Exported for the
 * unit test; `push` receives each run, `end` the bytes after the data (from the ErrorResponse or
 * after CopyDone: pg's to parse) and why it ended.
 */
export class FrameSplitter {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** Bytes the pending message needs before it can be looked at again (5: its header). */
  private need = 5;
  ended = false;

  constructor(private readonly push: (frames: Buffer) => boolean, private readonly end: (rest: Buffer, why: 'done' | 'error' | 'unexpected') => void) {}

  /** Takes one chunk; false when the consumer wants no more for now (or the data ended). */
  write(chunk: Buffer): boolean {
    if (this.ended) return false;
    let start = 0;
    let more = true;
    // A message cut by the last chunk: completed from the head of this one (one message is
    // copied, never the chunk), then looked at on its own.
    while (this.pendingLen > 0) {
      const take = Math.min(chunk.length - start, this.need - this.pendingLen);
      this.pending.push(chunk.subarray(start, start + take));
      this.pendingLen += take;
      start += take;
      if (this.pendingLen < this.need) return true;
      const head = Buffer.concat(this.pending, this.pendingLen);
      const whole = 1 + head.readUInt32BE(1);
      if (whole > head.length) {
        // Only the header was missing: now the body.
        this.pending = [head];
        this.need = whole;
        continue;
      }
      this.pending = [];
      this.pendingLen = 0;
      this.need = 5;
      const r = this.scan(head, chunk.subarray(start));
      if (r === undefined) return false;
      more = r;
    }
    const r = this.scan(start === 0 ? chunk : chunk.subarray(start));
    return r === undefined ? false : r && more;
  }

  /**
   * Pass on the whole messages of `buf`; keep a cut one at its end for the next chunk. Undefined
   * when the data ended (the rest, with `after`, went back to pg), else whether to read on.
   */
  private scan(buf: Buffer, after?: Buffer): boolean | undefined {
    let off = 0;
    let run = -1;
    let more = true;
    const flush = () => {
      if (run >= 0 && off > run) more = this.push(buf.subarray(run, off)) && more;
      run = -1;
    };
    const end = (why: 'done' | 'error' | 'unexpected') => {
      this.finish(after?.length ? Buffer.concat([buf.subarray(off), after]) : buf.subarray(off), why);
      return undefined;
    };
    for (;;) {
      if (buf.length - off < 5) break;
      const code = buf[off]!;
      const next = off + 1 + buf.readUInt32BE(off + 1);
      if (code === COPY_DATA) {
        if (next > buf.length) break;
        if (run < 0) run = off;
        off = next;
        continue;
      }
      flush();
      if (code === ERROR_RESPONSE) return end('error');
      if (!SKIPPED.has(code) && code !== COPY_DONE) return end('unexpected');
      if (next > buf.length) break;
      off = next;
      if (code === COPY_DONE) return end('done');
    }
    flush();
    if (off < buf.length) {
      const rest = buf.subarray(off);
      this.pending = [rest];
      this.pendingLen = rest.length;
      this.need = rest.length < 5 ? 5 : 1 + rest.readUInt32BE(1);
    }
    return more;
  }

  private finish(rest: Buffer, why: 'done' | 'error' | 'unexpected'): false {
    this.ended = true;
    this.end(rest, why);
    return false;
  }
}

/**
 * `COPY … TO STDOUT` whose chunks are whole CopyData messages, for copyInFrames. It takes the
 * socket from pg for the COPY (as pg-copy-streams does) and reads it flowing, one chunk at a time:
 * paused when the consumer is full, resumed when it reads (a paused read() would join every
 * buffered chunk into a new one).
 */
export class CopyOutFrames extends Readable implements Submittable {
  private socket: SocketLike | undefined;
  private pgData: ((b: Buffer) => void) | undefined;
  private readonly splitter: FrameSplitter;
  private readonly onData = (chunk: Buffer) => {
    if (!this.splitter.write(chunk) && !this.splitter.ended) this.socket!.pause();
  };

  /** `mapError`: what a failure of the COPY (the server's error, a lost connection) is reported as. */
  constructor(readonly text: string, private readonly mapError: (e: Error) => Error = (e) => e) {
    // One pushed run is one item: never joined with the next.
    super({ objectMode: true, highWaterMark: 16 });
    this.splitter = new FrameSplitter((frames) => this.push(frames), (rest, why) => {
      this.detach(rest);
      if (why === 'done') this.push(null);
      if (why === 'unexpected') this.destroy(this.mapError(new Error('unexpected message from the server during COPY')));
    });
  }

  submit(connection: Connection): void {
    const socket = (connection as Connection & { stream: SocketLike }).stream;
    const listeners = socket.listeners('data');
    if (listeners.length !== 1) throw new Error(`COPY relay: expected pg's one data listener on the socket, found ${listeners.length}`);
    this.socket = socket;
    this.pgData = listeners[0]!;
    socket.removeListener('data', this.pgData);
    socket.on('data', this.onData);
    connection.query(this.text);
  }

  override _read(): void {
    if (this.socket && !this.splitter.ended) this.socket.resume();
  }

  /** The socket back to pg, with the bytes it has not seen. */
  private detach(rest: Buffer): void {
    const socket = this.socket!;
    socket.removeListener('data', this.onData);
    socket.addListener('data', this.pgData!);
    this.pgData!(rest);
    process.nextTick(() => socket.resume());
  }

  handleError(err: Error): void {
    this.destroy(this.mapError(err));
  }

  handleCommandComplete(): void {} // the target's COPY counts the rows

  handleReadyForQuery(): void {}
}

export function copyOutFrames(text: string, mapError?: (e: Error) => Error): CopyOutFrames {
  return new CopyOutFrames(text, mapError);
}

/** `COPY … FROM STDIN` that writes each chunk as it is: whole CopyData messages from copyOutFrames. */
export function copyInFrames(text: string): CopyStreamQuery {
  const stream = copyFrom(text);
  const raw = stream as unknown as { flushChunk?: unknown; connection?: { stream: { write(b: Buffer): boolean } } };
  // pg-copy-streams frames every chunk in flushChunk; ours are framed already.
  if (typeof raw.flushChunk !== 'function') throw new Error('COPY relay: this pg-copy-streams has no flushChunk to override');
  raw.flushChunk = (chunk: Buffer) => raw.connection!.stream.write(chunk);
  return stream;
}
