/** The table browser's reads: keyset pages, counts, filter check with matching-row count. */
export { browseRows, type BrowseRowsRequest, type QueryHooks } from './rows';
export { countRows, validateAndCount, type CountRequest } from './count';
export { readCell } from './cell';
