// Row numbers and the footer's range: what is visible, never negative, and a column wide enough.
import { describe, expect, it } from 'vitest';
import { maxRowNumber, rowNumberOf, rowNumberWidth, viewRangeText } from '../../renderer/src/lib/grid-text';

const rows = (n: number) => ({ length: n });

describe('row numbers', () => {
  it('the range names the visible rows, not the whole window', () => {
    const w = { firstIndex: 4800, fromEnd: null, exact: null, rows: rows(1000) };
    expect(viewRangeText(796, 821, w)).toBe('rows 5,597–5,622 in view');
    expect(viewRangeText(796, 821, { ...w, exact: 10_000 })).toBe('rows 5,597–5,622 in view');
  });

  it('after Last without an exact count: no numbers (never negative), and the footer counts from the end', () => {
    const w = { firstIndex: null, fromEnd: 0, exact: null, rows: rows(200) };
    expect(rowNumberOf(199, w)).toBeNull();
    expect(rowNumberOf(0, w)).toBeNull();
    expect(viewRangeText(175, 199, w)).toBe('the last 25 rows in view');
    expect(viewRangeText(100, 124, w)).toBe('25 rows in view, 75 before the last');
    // once counted, numbered from the count
    const counted = { ...w, exact: 5622 };
    expect(rowNumberOf(199, counted)).toBe(5622);
    expect(rowNumberOf(0, counted)).toBe(5423);
    expect(viewRangeText(175, 199, counted)).toBe('rows 5,598–5,622 in view');
    // a count from before live changes does not number rows from the end
    expect(rowNumberOf(199, { ...counted, countStale: true })).toBeNull();
  });

  it('the row-number column fits the digits of the largest number', () => {
    expect(rowNumberWidth(999)).toBe(56);
    expect(rowNumberWidth(1_000_000)).toBeGreaterThanOrEqual(18 + 7 * 8);
    expect(rowNumberWidth(maxRowNumber({ firstIndex: 99_990, fromEnd: null, exact: null, rows: rows(200) }))).toBe(18 + 6 * 8);
  });
});
