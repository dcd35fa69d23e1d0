/**
 * The benchmark table of issue 2: bigint key, ~40-char text, integer, numeric(12,2), timestamptz,
 * ~100-byte jsonb, boolean. Generated inside the server with generate_series (a million rows in a
 * few seconds), then vacuumed so the first timed read does not pay for hint bits.
 */
import type pg from 'pg';
import { qualifiedName } from '../../core/sql/ident';

export const BENCH_COLUMNS = ['id', 'name', 'qty', 'price', 'updated_at', 'attrs', 'active'] as const;

/** The bench table's columns, for an empty table of the same shape (a baseline's target). */
export const BENCH_TABLE_DDL = `(id bigint PRIMARY KEY, name text NOT NULL, qty integer, price numeric(12,2), updated_at timestamptz, attrs jsonb, active boolean)`;

export async function createBenchTable(pool: pg.Pool, opts: { table?: string; schema?: string; rows?: number } = {}): Promise<{ table: string; schema: string; rows: number }> {
  const table = opts.table ?? 'bench_rows';
  const schema = opts.schema ?? 'public';
  const rows = opts.rows ?? 1_000_000;
  const rel = qualifiedName(schema, table);
  await pool.query(`DROP TABLE IF EXISTS ${rel}`);
  await pool.query(`CREATE TABLE ${rel} ${BENCH_TABLE_DDL}`);
  await pool.query({
    text: `INSERT INTO ${rel}
      SELECT g, md5(g::text) || lpad(g::text, 8, '0'),
             (g * 7919) % 100000, ((g * 31) % 10000000) / 100.0,
             timestamptz '2024-01-01 00:00:00+00' + g * interval '1.234567 second',
             jsonb_build_object('sku', 'SKU-' || g, 'color', (ARRAY['red', 'green', 'blue'])[g % 3 + 1],
                                'size', g % 50, 'brand', 'Brand ' || (g % 97), 'stock', g % 1000, 'tags', jsonb_build_array('a', 'b')),
             g % 2 = 0
        FROM generate_series(1, $1::bigint) g`,
    values: [rows],
  });
  await pool.query(`VACUUM (ANALYZE) ${rel}`);
  return { table, schema, rows };
}
