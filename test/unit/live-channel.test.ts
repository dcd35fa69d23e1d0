import { describe, expect, it } from 'vitest';
import { captureNames, defaultChannel } from '../../core/live/channel';
import { identifierByteLength } from '../../core/sql/ident';

describe('capture object names', () => {
  it('defaults the channel to {flow}__{source table}__tablesync', () => {
    const n = captureNames('products_search', 'source_products');
    expect(n.channel).toBe('products_search__source_products__tablesync');
    expect(n.functionName).toBe('products_search__source_products__tablesync_n');
    expect(n.rowTrigger).toBe('products_search__source_products__tablesync_t');
    expect(n.truncateTrigger).toBe('products_search__source_products__tablesync_r');
  });

  it('uses the channel given, keeping its case', () => {
    expect(captureNames('f', 't', 'Products Changes').rowTrigger).toBe('Products Changes_t');
  });

  it('keeps the channel and every derived name within 63 bytes, distinct for long names sharing a prefix', () => {
    const long = 'ä'.repeat(40);
    const a = captureNames(long, 'table_one');
    const b = captureNames(long, 'table_two');
    for (const n of [a, b]) {
      for (const name of [n.channel, n.functionName, n.rowTrigger, n.truncateTrigger]) expect(identifierByteLength(name)).toBeLessThanOrEqual(63);
    }
    expect(a.channel).not.toBe(b.channel);
    expect(defaultChannel(long, 'table_one').startsWith(a.channel.slice(0, 20))).toBe(true);
  });

  it('leaves a 61-byte channel alone and shortens a 62-byte one', () => {
    expect(captureNames('f', 't', 'c'.repeat(61)).channel).toBe('c'.repeat(61));
    const fitted = captureNames('f', 't', 'c'.repeat(62)).channel;
    expect(identifierByteLength(fitted)).toBeLessThanOrEqual(61);
    expect(fitted).not.toBe('c'.repeat(62));
  });
});
