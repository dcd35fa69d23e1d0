/**
 * Names of the capture objects for a flow (DESIGN §3 Live): the channel, `{channel}_n`,
 * `{channel}_t`, `{channel}_r`. The rules live in core/api/names, shared with the flow editor so it
 * shows the names watch creates; re-exported here for core/live's callers.
 */
export { captureNames, defaultChannel, type CaptureNames } from '../api/names';
