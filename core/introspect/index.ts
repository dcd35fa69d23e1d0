/** Catalog reads: schemas, relations, columns. */
export { listSchemas, type SchemaInfo } from './list-schemas';
export { listTables } from './list-tables';
export { describeTable } from './describe-table';
export { unusableReason, NO_PRIMARY_KEY_MESSAGE } from './relation-facts';
