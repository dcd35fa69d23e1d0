/**
 * The ready-made demo flow: active products into a pgvector search table on the demo target, with
 * the float4[] embedding overridden to vector(16) and an HNSW cosine index, live through NOTIFY.
 * Connections are referenced by the demo connections' fixed ids.
 */
import type { Flow } from '../flow/schema';

export const DEMO_SOURCE_ID = 'demo-source';
export const DEMO_TARGET_ID = 'demo-target';
export const DEMO_SOURCE_NAME = 'Demo source';
export const DEMO_TARGET_NAME = 'Demo target (pgvector)';
export const DEMO_FLOW_NAME = 'demo_products_search';
export const DEMO_DATABASE = 'shop';

export function demoFlow(): Flow {
  return {
    version: 1,
    name: DEMO_FLOW_NAME,
    source: {
      connection: { saved: DEMO_SOURCE_ID },
      schema: 'public',
      table: 'products',
      includedColumns: ['sku', 'name', 'description', 'price', 'tags', 'attributes', 'embedding', 'modified_time'],
      ordinalColumn: 'modified_time',
      filter: "status = 'active'",
      notification: {},
    },
    target: {
      connection: { saved: DEMO_TARGET_ID },
      schema: 'public',
      table: 'products_search',
      managedBy: 'system',
      columns: { embedding: { type: 'vector(16)' }, name: { name: 'title' } },
      vectorIndexes: [{ column: 'embedding', metric: 'cosine', method: 'hnsw', m: 16, efConstruction: 64 }],
    },
  };
}
