/** The `tablesync` state schema in the target database and the per-flow advisory lock. */
export * from './lock';
export * from './store';
