import { describe, expect, it } from 'vitest';
import { FrameSplitter } from '../../core/sql/copy-relay';

// The COPY relay (core/sql/copy-relay.ts) passes the source's CopyData messages on untouched. What
// it hands the target must be exactly the data messages, each whole (a CopyFail may follow any
// chunk), however the socket cut the bytes; the rest goes back to pg.
const msg = (code: string, body: Buffer | string) => {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const h = Buffer.alloc(5);
  h[0] = code.charCodeAt(0);
  h.writeUInt32BE(b.length + 4, 1);
  return Buffer.concat([h, b]);
};
const data = (i: number) => msg('d', Buffer.from(`row ${i}\t${'x'.repeat(i % 37)}\n`));

/** The frames a run holds, checked whole. */
function frames(run: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < run.length;) {
    expect(run[off], `a run starts a CopyData message at ${off}`).toBe(0x64);
    const end = off + 1 + run.readUInt32BE(off + 1);
    expect(end, 'a run ends on a message boundary').toBeLessThanOrEqual(run.length);
    out.push(run.subarray(off, end));
    off = end;
  }
  return out;
}

function feed(bytes: Buffer, cuts: number[]) {
  const runs: Buffer[] = [];
  let ended: { rest: Buffer; why: string } | undefined;
  const s = new FrameSplitter((b) => { runs.push(Buffer.from(b)); return true; }, (rest, why) => { ended = { rest: Buffer.from(rest), why }; });
  let last = 0;
  for (const c of [...cuts, bytes.length]) {
    // After the end, the socket is pg's again: what follows reaches pg directly.
    if (c > last && ended) ended.rest = Buffer.concat([ended.rest, bytes.subarray(last, c)]);
    else if (c > last) s.write(bytes.subarray(last, c));
    last = c;
  }
  return { runs, ended };
}

describe('COPY relay frame splitting', () => {
  const dataMsgs = Array.from({ length: 40 }, (_, i) => data(i));
  const big = msg('d', Buffer.alloc(200_000, 7)); // one message over many socket chunks
  const after = Buffer.concat([msg('C', 'COPY 41\0'), msg('Z', 'I')]);
  const stream = Buffer.concat([
    msg('H', Buffer.from([0, 0, 0])), ...dataMsgs.slice(0, 20), msg('N', 'SNOTICE\0\0'), msg('S', 'a\0b\0'), big, ...dataMsgs.slice(20), msg('c', ''), after,
  ]);
  const expected = Buffer.concat([...dataMsgs.slice(0, 20), big, ...dataMsgs.slice(20)]);

  it('passes on exactly the data messages, whole, wherever the chunks are cut; the rest goes back to pg', () => {
    const cutsList: number[][] = [
      [],
      Array.from({ length: stream.length - 1 }, (_, i) => i + 1), // one byte at a time
      [3, 5, 6, 100, 101, 4000, 150_000, 150_001, stream.length - after.length - 2],
      Array.from({ length: 60 }, (_, i) => Math.floor(((i + 1) * stream.length) / 61) + (i % 5)),
    ];
    for (const cuts of cutsList) {
      const { runs, ended } = feed(stream, cuts);
      const all = runs.flatMap(frames);
      expect(Buffer.concat(all).equals(expected)).toBe(true);
      expect(all.length).toBe(41);
      expect(ended?.why).toBe('done');
      expect(ended?.rest.equals(after)).toBe(true);
    }
  });

  it('an ErrorResponse goes back to pg from its first byte; the data before it was passed on', () => {
    const err = Buffer.concat([msg('E', 'SERROR\0Mboom\0\0'), msg('Z', 'I')]);
    const bytes = Buffer.concat([msg('H', Buffer.from([0, 0, 0])), ...dataMsgs.slice(0, 5), err]);
    for (const cuts of [[], [7, 8, 9, bytes.length - err.length + 2]]) {
      const { runs, ended } = feed(bytes, cuts);
      expect(Buffer.concat(runs.flatMap(frames)).equals(Buffer.concat(dataMsgs.slice(0, 5)))).toBe(true);
      expect(ended?.why).toBe('error');
      expect(ended?.rest.equals(err)).toBe(true);
    }
  });

  it('a message that has no place in a COPY ends it as unexpected, unread', () => {
    const odd = msg('T', 'rowdesc');
    const { ended } = feed(Buffer.concat([dataMsgs[0]!, odd]), []);
    expect(ended?.why).toBe('unexpected');
    expect(ended?.rest.equals(odd)).toBe(true);
  });

  it('reports backpressure: false once the consumer wants no more', () => {
    const s = new FrameSplitter(() => false, () => {});
    expect(s.write(Buffer.concat(dataMsgs.slice(0, 3)))).toBe(false);
    const t = new FrameSplitter(() => true, () => {});
    expect(t.write(Buffer.concat(dataMsgs.slice(0, 3)))).toBe(true);
    expect(t.write(dataMsgs[3]!.subarray(0, 2))).toBe(true); // a header in pieces: wait for more
  });
});
