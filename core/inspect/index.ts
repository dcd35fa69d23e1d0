export { readStructure, dumpDdl } from './structure';
export { listSchemaObjects, listDatabases } from './objects';
