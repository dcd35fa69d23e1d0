import { describe, expect, it } from 'vitest';
import { mergeCompletions } from '../../renderer/src/lib/sql-completion';

describe('SQL completion merge', () => {
  it('offers a column named like a keyword once, as the column', () => {
    const names = [{ label: 'id', type: 'property' }, { label: 'name', type: 'property' }, { label: 'position', type: 'property' }];
    const keywords = [{ label: 'name', type: 'keyword' }, { label: 'select', type: 'keyword' }, { label: 'POSITION', type: 'keyword' }];
    const out = mergeCompletions(names, keywords);
    expect(out.map((o) => `${o.label}:${o.type}`)).toEqual(['id:property', 'name:property', 'position:property', 'select:keyword']);
  });
  it('keeps a name listed twice by the schema only once', () => {
    expect(mergeCompletions([{ label: 'a', type: 'property' }, { label: 'a', type: 'property' }], [])).toHaveLength(1);
  });
});
