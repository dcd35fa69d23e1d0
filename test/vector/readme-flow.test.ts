import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { createPool } from '../../core/connections/pool';
import { connectionResolver, parseFlow } from '../../core/flow/load';
import { applyFlow, dropFlow, planFlow, type FlowContext } from '../../core/target';
import { dropPartsFor } from '../../core/app/drop-parts';
import { freshDatabase, type TestDatabase } from '../support/db';

// README's own flow example, taken from README.md as written, must plan (no blockers) and apply
// against a real source and a pgvector target. Only where it points is changed: its source URL comes
// from $SOURCE_DATABASE_URL as the example says, its target URL is swapped for the test's server.
function readmeFlow(): Record<string, unknown> {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The flow file'));
  const m = /```json\n([\s\S]*?)\n```/.exec(section);
  if (!m) throw new Error('README.md: no ```json block under "## The flow file"');
  return JSON.parse(m[1]!) as Record<string, unknown>;
}

describe("README's flow example", () => {
  let src: TestDatabase;
  let target: pg.Pool;
  let source: pg.Pool;
  let ctx: FlowContext;

  beforeAll(async () => {
    src = await freshDatabase('readme', inject('pgUrl'));
    // the table the README describes under the example
    await src.sql(`CREATE TABLE source_products (id bigint PRIMARY KEY, name text, description text, price numeric, modified_time timestamptz, embedding real[])`);
    await src.sql(`INSERT INTO source_products SELECT g, 'product ' || g, 'about ' || g, g - 3, now(), array_fill(g::real / 10, ARRAY[384]) FROM generate_series(1, 20) g`);
    const raw = readmeFlow();
    const t = raw.target as { connection: { url: string } };
    expect(t.connection.url).toMatch(/^postgres:\/\//);
    t.connection.url = inject('vectorUrl');
    const flow = parseFlow(raw);
    const resolver = connectionResolver({ env: { SOURCE_DATABASE_URL: src.url } });
    source = createPool((await resolver.resolveConnection(flow.source.connection, 'source.connection')).url, { max: 2 });
    target = createPool(inject('vectorUrl'), { max: 1 });
    ctx = { flow, sourcePool: source, targetPool: target, sourceUrl: src.url, targetUrl: inject('vectorUrl') };
  });
  afterAll(async () => {
    await dropFlow(ctx, dropPartsFor(ctx.flow), { allowDestructive: true }).catch(() => {});
    await target?.end();
    await source?.end();
    await src?.drop();
  });

  it('plans as written: no blockers, the overrides and the index in its steps', async () => {
    const plan = await planFlow(ctx);
    expect(plan.blockers).toEqual([]);
    expect(plan.rows.insert).toBe(17); // price > 0
    const sql = plan.steps.flatMap((s) => s.sql).join('\n');
    expect(sql).toMatch(/"title" text/);
    expect(sql).toMatch(/"price" numeric\(12,2\)/);
    expect(sql).toMatch(/"embedding" vector\(384\)/);
    expect(sql).toMatch(/USING hnsw/);
    expect(sql).toContain('products_title_fts');
  });

  it('applies as written', async () => {
    const r = await applyFlow(ctx);
    expect(r.rows.insert).toBe(17);
    const idx = await target.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'products' ORDER BY 1`);
    expect(idx.rows.map((x: { indexname: string }) => x.indexname)).toEqual(expect.arrayContaining(['products__vector__embedding', 'products_title_fts']));
  });
});
