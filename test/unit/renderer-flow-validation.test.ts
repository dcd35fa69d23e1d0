// The flow setup form is validated field by field: its own rules first, then the flow file's zod
// schema with each issue shown on the field it is about.
import { describe, expect, it } from 'vitest';
import { fieldOf, LOAD_STREAMS_WORDS, validateFlowForm } from '../../renderer/src/lib/flow-validation';
import { MAX_LOAD_STREAMS } from '../../core/flow/schema';
import { formFromTable, type FlowForm } from '../../renderer/src/lib/flow-draft';
import type { ColumnInfo, SavedConnection, TableDescription } from '../../renderer/src/api/types';

const col = (name: string, type: string, over: Partial<ColumnInfo> = {}): ColumnInfo => ({
  name, position: 1, type, typeOid: 0, typeName: type, category: 'base', nullable: true, default: null, identity: null, generated: false, keyPosition: null, ...over,
});
const desc: TableDescription = {
  schema: 'public', name: 'docs', kind: 'table', primaryKey: ['id'], estimatedRows: 1,
  columns: [col('id', 'bigint', { keyPosition: 1 }), col('title', 'text'), col('body', 'text'), col('embedding', 'text')],
};
const conn: SavedConnection = { id: 'c1', name: 'db', host: 'h', port: 5432, database: 'd', user: 'u', sslmode: 'prefer', options: {}, hasPassword: false, demo: false };
const form = (): FlowForm => formFromTable(desc, conn, conn, [conn]);
const fields = (v: FlowForm) => validateFlowForm(v).map((i) => i.field);

describe('flow form validation', () => {
  it('accepts the default form', () => {
    expect(validateFlowForm(form())).toEqual([]);
  });

  it('needs a name and a target table', () => {
    const v = form();
    v.name = ' ';
    v.targetTable = '';
    expect(fields(v)).toEqual(expect.arrayContaining(['name', 'targetTable']));
  });

  it('refuses two columns with the same target name', () => {
    const v = form();
    v.columns[2]!.targetName = 'title';
    expect(validateFlowForm(v)).toContainEqual({ field: 'columns', message: 'Two columns would both be named “title” in the target.' });
  });

  it('checks vector dimensions and that an index is on a vector column', () => {
    const v = form();
    v.columns[3]!.targetType = 'vector(3)';
    v.columns[3]!.dims = '0';
    v.vectorIndexes = [
      { name: '', column: 'title', metric: 'cosine', method: 'hnsw', lists: '', m: 'x', efConstruction: '' },
      { name: '', column: 'embedding', metric: 'l2', method: 'ivfflat', lists: '100', m: '', efConstruction: '' },
    ];
    const f = fields(v);
    expect(f).toContain('columns.3.dims');
    expect(f).toContain('vectorIndexes.0.column');
    expect(f).toContain('vectorIndexes.0.m');
    expect(f).not.toContain('vectorIndexes.1.column');
  });

  it('shows the flow schema’s own issues on the attachment fields', () => {
    const v = form();
    v.attachments = [
      { name: 'a', setupSql: '   ', teardownSql: '' },
      { name: 'a', setupSql: 'select 1', teardownSql: '' },
    ];
    const issues = validateFlowForm(v);
    expect(issues.map((i) => i.field)).toEqual(expect.arrayContaining(['attachments.0.setupSql', 'attachments.1.name']));
    expect(issues.find((i) => i.field === 'attachments.1.name')!.message).toMatch(/duplicate attachment name "a"/);
  });

  it('says what an empty attachment lacks in words, never zod’s developer text', () => {
    const v = form();
    v.attachments = [{ name: '', setupSql: '', teardownSql: '' }]; // what "+ Add" appends
    const issues = validateFlowForm(v).filter((i) => i.field.startsWith('attachments.0'));
    expect(issues[0]).toEqual({ field: 'attachments.0.name', message: expect.stringMatching(/needs a name/) });
    expect(issues.find((i) => i.field === 'attachments.0.setupSql')!.message).toMatch(/What SQL sets it up/);
    expect(issues.map((i) => i.message).join(' ')).not.toMatch(/Too small|expected string/);
  });

  it('initial load streams: automatic needs nothing; a fixed number is held to the flow schema’s 1..MAX_LOAD_STREAMS', () => {
    expect(validateFlowForm({ ...form(), loadMode: 'auto', loadStreams: 'nonsense' })).toEqual([]);
    for (const ok of ['1', '3', String(MAX_LOAD_STREAMS), ' 2 ']) expect(validateFlowForm({ ...form(), loadMode: 'fixed', loadStreams: ok }), ok).toEqual([]);
    for (const bad of ['', '0', '-1', '2.5', 'four', String(MAX_LOAD_STREAMS + 1)]) {
      expect(validateFlowForm({ ...form(), loadMode: 'fixed', loadStreams: bad }), bad).toEqual([{ field: 'loadStreams', message: LOAD_STREAMS_WORDS }]);
    }
    expect(LOAD_STREAMS_WORDS).toBe(`Streams: a whole number from 1 to ${MAX_LOAD_STREAMS}.`);
  });

  it('maps flow-file paths onto form fields', () => {
    expect(fieldOf(['load', 'streams'])).toBe('loadStreams');
    expect(fieldOf(['source', 'ordinalColumn'])).toBe('ordinalColumn');
    expect(fieldOf(['source', 'notification', 'channelName'])).toBe('channelName');
    expect(fieldOf(['target', 'vectorIndexes', 2, 'lists'])).toBe('vectorIndexes.2.lists');
    expect(fieldOf(['target', 'sqlAttachments', 0])).toBe('attachments.0.name');
    expect(fieldOf(['version'])).toBe('root');
  });
});
