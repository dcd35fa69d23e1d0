/**
 * The Structure tab: a table's columns, constraints, foreign keys both ways (each opens the other
 * table), indexes with sizes, triggers (TableSync's own marked with their flow), size, estimate,
 * partitions and the DDL as pg_dump prints it, with a Copy button.
 */
import { useEffect } from 'react';
import { useApp, useS } from '../app-context';
import type { ForeignKeyInfo, TableStructure } from '../api/types';
import { ErrorBox } from '../components/States';
import { fmtCount } from '../lib/format';
import { fmtBytes } from '../lib/bytes';

export function StructurePanel(props: { connectionId: string; schema: string; table: string }) {
  const app = useApp();
  const s = useS(app.structure, (x) => x);
  const { connectionId, schema, table } = props;

  useEffect(() => {
    void app.structure.getState().load({ connectionId, schema, table });
  }, [app, connectionId, schema, table]);

  const openTable = (schema: string, table: string) => {
    app.catalog.getState().select({ schema, table });
  };

  const d = s.data && s.ref?.schema === schema && s.ref.table === table ? s.data : null;
  return (
    <div className="structure" data-testid="structure">
      {s.error && <ErrorBox message={s.error} action={<button className="btn small" onClick={() => void app.structure.getState().load({ connectionId, schema, table }, true)}>Retry</button>} testId="structure-error" />}
      {!d && s.loading && <div className="faint row"><span className="spinner" /> Reading the catalog…</div>}
      {d && <StructureBody d={d} onOpen={openTable} onReload={() => void app.structure.getState().load({ connectionId, schema, table }, true)} />}
    </div>
  );
}

function StructureBody({ d, onOpen, onReload }: { d: TableStructure; onOpen(schema: string, table: string): void; onReload(): void }) {
  const app = useApp();
  const copyDdl = () => {
    void navigator.clipboard?.writeText(d.ddl).then(
      () => app.ui.getState().toast('ok', 'DDL copied'),
      () => app.ui.getState().toast('error', 'The browser refused the clipboard: select the text and copy it'),
    );
  };
  return (
    <>
      <section className="st-summary" data-testid="structure-summary">
        <span className="badge accent">{d.kind}</span>
        <span title="planner estimate (pg_class.reltuples)">
          {d.estimatedRows === null ? 'rows: never analyzed' : `~${fmtCount(d.estimatedRows)} rows (estimate)`}
        </span>
        <span title="heap + TOAST">table {fmtBytes(d.sizes.tableBytes)}</span>
        <span>indexes {fmtBytes(d.sizes.indexBytes)}</span>
        <span><b>total {fmtBytes(d.sizes.totalBytes)}</b></span>
        <span className="faint">owner {d.owner}</span>
        {d.partitionKey && <span className="mono">PARTITION BY {d.partitionKey}</span>}
        {d.partitionOf && (
          <span>
            partition of{' '}
            <a href="#" className="link" onClick={(e) => { e.preventDefault(); onOpen(d.partitionOf!.schema, d.partitionOf!.name); }}>
              {d.partitionOf.schema}.{d.partitionOf.name}
            </a>{' '}
            <span className="mono faint">{d.partitionOf.bound}</span>
          </span>
        )}
        <span className="grow" />
        <button className="btn small" onClick={onReload} title="Read the catalog again">↻ Reload</button>
      </section>
      {d.comment && <p className="muted st-comment">{d.comment}</p>}

      <h3 className="st-h">Columns <span className="faint">{d.columns.length}</span></h3>
      <table className="st-table" data-testid="structure-columns">
        <thead>
          <tr><th>#</th><th>name</th><th>type</th><th>null</th><th>default / generated</th><th>comment</th></tr>
        </thead>
        <tbody>
          {d.columns.map((c) => (
            <tr key={c.name} data-column={c.name}>
              <td className="faint">{c.position}</td>
              <td>
                {c.keyPosition !== null && <span className="key-badge" title={`primary key, position ${c.keyPosition}`}>PK</span>} <span className="mono">{c.name}</span>
              </td>
              <td className="mono">
                {c.type}
                {c.collation && <span className="faint"> COLLATE {c.collation}</span>}
                {c.enumLabels && <div className="faint" title="enum labels">{c.enumLabels.join(' | ')}</div>}
                {c.domainBaseType && <div className="faint">domain over {c.domainBaseType}</div>}
              </td>
              <td>{c.nullable ? <span className="faint">null</span> : <span className="badge">NOT NULL</span>}</td>
              <td className="mono">
                {c.identity ? <span className="badge info">identity {c.identity}</span> : null}
                {c.generated ? <><span className="badge info">generated</span> {c.default}</> : c.default}
              </td>
              <td className="muted">{c.comment}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h3 className="st-h">Constraints <span className="faint">{d.constraints.length}</span></h3>
      {d.constraints.length === 0 ? <p className="faint">None.</p> : (
        <table className="st-table" data-testid="structure-constraints">
          <thead><tr><th>name</th><th>kind</th><th>definition</th></tr></thead>
          <tbody>
            {d.constraints.map((k) => (
              <tr key={k.name}>
                <td className="mono">{k.name}</td>
                <td>{k.kind}{k.inherited && <span className="faint"> (inherited)</span>}{!k.validated && <span className="badge warn">not valid</span>}</td>
                <td className="mono">{k.definition}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h3 className="st-h">Foreign keys</h3>
      <div className="st-fks">
        <FkList title="References" testId="fk-out" fks={d.foreignKeys} side="to" onOpen={onOpen} empty="This table references no other table." />
        <FkList title="Referenced by" testId="fk-in" fks={d.referencedBy} side="from" onOpen={onOpen} empty="No table references this one." />
      </div>

      <h3 className="st-h">Indexes <span className="faint">{d.indexes.length}</span></h3>
      {d.indexes.length === 0 ? <p className="faint">None.</p> : (
        <table className="st-table" data-testid="structure-indexes">
          <thead><tr><th>name</th><th>method</th><th>size</th><th>definition</th></tr></thead>
          <tbody>
            {d.indexes.map((i) => (
              <tr key={i.name}>
                <td className="mono">
                  {i.name} {i.primary ? <span className="key-badge">PK</span> : i.unique ? <span className="badge">unique</span> : null}
                  {!i.valid && <span className="badge danger" title="an unfinished or failed CREATE INDEX CONCURRENTLY">invalid</span>}
                </td>
                <td>{i.method}</td>
                <td className="num">{fmtBytes(i.sizeBytes)}</td>
                <td className="mono">{i.definition}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h3 className="st-h">Triggers <span className="faint">{d.triggers.length}</span></h3>
      {d.triggers.length === 0 ? <p className="faint">None.</p> : (
        <table className="st-table" data-testid="structure-triggers">
          <thead><tr><th>name</th><th>owner</th><th>definition</th></tr></thead>
          <tbody>
            {d.triggers.map((t) => (
              <tr key={t.name} data-trigger={t.name}>
                <td className="mono">{t.name}{!t.enabled && <span className="badge warn">disabled</span>}</td>
                <td>
                  {t.tablesync ? (
                    <span className="badge ok" data-testid="tablesync-trigger" title={`TableSync live capture (${t.tablesync.role === 'row' ? 'row changes' : 'TRUNCATE → rescan'}) on channel ${t.tablesync.channel}`}>
                      TableSync · {t.tablesync.flow ? <>flow <b>{t.tablesync.flow}</b></> : 'flow unknown'}
                    </span>
                  ) : <span className="faint">not TableSync's</span>}
                </td>
                <td className="mono">{t.definition}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {d.partitions.length > 0 && (
        <>
          <h3 className="st-h">Partitions <span className="faint">{d.partitions.length}</span></h3>
          <table className="st-table" data-testid="structure-partitions">
            <thead><tr><th>partition</th><th>bound</th><th>rows (estimate)</th></tr></thead>
            <tbody>
              {d.partitions.map((p) => (
                <tr key={`${p.schema}.${p.name}`}>
                  <td><a href="#" className="link mono" onClick={(e) => { e.preventDefault(); onOpen(p.schema, p.name); }}>{p.schema}.{p.name}</a></td>
                  <td className="mono">{p.bound}</td>
                  <td className="num">{p.estimatedRows === null ? 'never analyzed' : fmtCount(p.estimatedRows)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}

      <h3 className="st-h row">
        DDL <span className="faint" style={{ textTransform: 'none', fontWeight: 400 }}>as pg_dump prints it</span>
        <button className="btn small" onClick={copyDdl} data-testid="copy-ddl">Copy</button>
      </h3>
      <pre className="st-ddl mono" data-testid="structure-ddl">{d.ddl}</pre>
    </>
  );
}

function FkList(props: { title: string; testId: string; fks: ForeignKeyInfo[]; side: 'to' | 'from'; onOpen(schema: string, table: string): void; empty: string }) {
  return (
    <div className="st-fk" data-testid={props.testId}>
      <div className="muted" style={{ marginBottom: 4 }}>{props.title}</div>
      {props.fks.length === 0 && <div className="faint">{props.empty}</div>}
      {props.fks.map((f) => {
        const schema = props.side === 'to' ? f.toSchema : f.fromSchema;
        const table = props.side === 'to' ? f.toTable : f.fromTable;
        return (
          <div key={`${f.fromSchema}.${f.fromTable}.${f.name}`} className="st-fk-row" title={f.definition}>
            {props.side === 'to' ? (
              <>
                <span className="mono">({f.fromColumns.join(', ')})</span> →{' '}
                <a href="#" className="link mono" data-fk-table={`${schema}.${table}`} onClick={(e) => { e.preventDefault(); props.onOpen(schema, table); }}>{schema}.{table}</a>
                <span className="mono"> ({f.toColumns.join(', ')})</span>
              </>
            ) : (
              <>
                <a href="#" className="link mono" data-fk-table={`${schema}.${table}`} onClick={(e) => { e.preventDefault(); props.onOpen(schema, table); }}>{schema}.{table}</a>
                <span className="mono"> ({f.fromColumns.join(', ')})</span> → <span className="mono">({f.toColumns.join(', ')})</span>
              </>
            )}
            <span className="faint"> · {f.name}{f.onDelete !== 'NO ACTION' ? ` · ON DELETE ${f.onDelete}` : ''}</span>
          </div>
        );
      })}
    </div>
  );
}
