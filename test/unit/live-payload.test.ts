import { describe, expect, it } from 'vitest';
import { parseCaptureMessage } from '../../core/live/payload';

const keys = ['id', 'Region'];

describe('capture notification payloads', () => {
  it('reads an insert with its key as text and the source time', () => {
    expect(parseCaptureMessage('{"op":"insert","key":{"id":"9007199254740993","Region":"eu"},"ts":1700000000123.5}', keys))
      .toEqual({ op: 'insert', key: { id: '9007199254740993', Region: 'eu' }, ts: 1700000000123.5 });
  });

  it('reads a key change with the old key and a null key part', () => {
    expect(parseCaptureMessage('{"op":"update","key":{"id":"2","Region":null},"old_key":{"id":"1","Region":null},"ordinal":"5"}', keys))
      .toEqual({ op: 'update', key: { id: '2', Region: null }, oldKey: { id: '1', Region: null }, ordinal: '5' });
  });

  it('reads the source transaction id (text digits only)', () => {
    expect(parseCaptureMessage('{"op":"delete","key":{"id":"3","Region":"eu"},"ts":2,"tx":"18446744073709551"}', keys))
      .toEqual({ op: 'delete', key: { id: '3', Region: 'eu' }, ts: 2, tx: '18446744073709551' });
    expect(parseCaptureMessage('{"op":"truncate","tx":"77"}', keys)).toEqual({ op: 'truncate', tx: '77' });
    expect(parseCaptureMessage('{"op":"insert","key":{"id":"3","Region":"eu"},"tx":77}', keys)).toEqual({ op: 'insert', key: { id: '3', Region: 'eu' } });
  });

  it('passes truncate and rescan through', () => {
    expect(parseCaptureMessage('{"op":"truncate","ts":1}', keys)).toEqual({ op: 'truncate', ts: 1 });
    expect(parseCaptureMessage('{"op":"rescan"}', keys)).toEqual({ op: 'rescan' });
  });

  it('turns anything unreadable into a rescan rather than dropping it', () => {
    expect(parseCaptureMessage('hello', keys).op).toBe('rescan');
    expect(parseCaptureMessage(undefined, keys).op).toBe('rescan');
    expect(parseCaptureMessage('{"op":"insert","key":{"id":"1"}}', keys).op).toBe('rescan'); // missing key column
    expect(parseCaptureMessage('{"op":"insert","key":{"id":1,"Region":"x"}}', keys).op).toBe('rescan'); // not text
    expect(parseCaptureMessage('{"op":"upsert","key":{"id":"1","Region":"x"}}', keys).op).toBe('rescan');
  });
});
