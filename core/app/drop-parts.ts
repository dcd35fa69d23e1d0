/**
 * What a flow's drop removes beyond the target, in one place: the engine (flows.drop) and the CLI
 * (`tablesync drop`) both pass `dropPartsFor(flow)` to dropFlow, so a drop never depends on which
 * module happened to be imported.
 */
import type { Flow } from '../flow/schema';
import { captureDropPart, logicalDropPart } from '../live/drop-parts';
import type { DropPart } from '../target';

/**
 * The live capture parts (trigger and logical) are always included, also for a flow without `notification` now: it may
 * have been watched before, and the part removes only objects marked as this flow's.
 * @example await dropFlow(ctx, dropPartsFor(ctx.flow), { dryRun: true })
 */
export function dropPartsFor(_flow: Flow): DropPart[] {
  // both captures: a flow may have switched between notification and replication
  return [captureDropPart, logicalDropPart];
}
