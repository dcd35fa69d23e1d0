export { runExport, type ExportRun, type ExportOptions } from './run-export';
export { exportQuery, copySql } from './export-sql';
export { likePattern, searchCondition, searchSql } from './search-sql';
export { CsvRowCounter, CopyTextUnescaper } from './streams';
