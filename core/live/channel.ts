/**
 * Names of the capture objects for a flow (DESIGN §3 Live). The channel defaults to
 * `{flow_name}__{source_name}__tablesync`; the function is `{channel}_n`, the row trigger
 * `{channel}_t`, and the TRUNCATE trigger `{channel}_r` ("rescan"): a trigger is either row-level or
 * statement-level, and TRUNCATE only fires statement-level triggers, so it needs a second trigger
 * of its own. Both triggers call the one function.
 *
 * PostgreSQL silently truncates identifiers past 63 bytes, which would make LISTEN and pg_notify
 * disagree or two flows share a channel, so the channel is fitted to 61 bytes (room for the two-byte
 * suffixes) with a stable hash when it had to be shortened. Case is kept: the channel is always
 * quoted in LISTEN and passed as exact text to pg_notify.
 */
import { fitIdentifier, MAX_IDENTIFIER_BYTES } from '../sql/ident';

export interface CaptureNames {
  channel: string;
  /** `{channel}_n`: the plpgsql function both triggers call. */
  functionName: string;
  /** `{channel}_t`: AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW. */
  rowTrigger: string;
  /** `{channel}_r`: AFTER TRUNCATE FOR EACH STATEMENT (asks for a rescan). */
  truncateTrigger: string;
}

const SUFFIX_BYTES = 2;

/** The default channel of a flow reading `sourceTable`. */
export function defaultChannel(flowName: string, sourceTable: string): string {
  return `${flowName}__${sourceTable}__tablesync`;
}

/**
 * @example captureNames('products_search', 'source_products').rowTrigger
 *   // 'products_search__source_products__tablesync_t'
 */
export function captureNames(flowName: string, sourceTable: string, channelName?: string): CaptureNames {
  const channel = fitIdentifier(channelName ?? defaultChannel(flowName, sourceTable), MAX_IDENTIFIER_BYTES - SUFFIX_BYTES);
  return {
    channel,
    functionName: `${channel}_n`,
    rowTrigger: `${channel}_t`,
    truncateTrigger: `${channel}_r`,
  };
}
