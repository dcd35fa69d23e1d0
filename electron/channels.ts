/** IPC channel names shared by main and preload (kept free of imports: the preload bundles it). */
export const CALL_CHANNEL = 'tablesync:call';
export const EVENTS_CHANNEL = 'tablesync:events';
/** The renderer's origin: the app:// scheme's one host. */
export const APP_ORIGIN = 'app://tablesync';
