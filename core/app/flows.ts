/**
 * Saved flows: the flow spec (the same JSON the CLI reads) in settings.json, keyed by its name.
 * The name is the flow's identity (tracking state and target ownership hang off it), so saving
 * under a new name is a new flow, and the answer says so.
 */
import type { FlowSummary, SavedFlow } from '../api/contract';
import { redactUrl } from '../connections/url';
import { TableSyncError } from '../errors';
import type { ConnectionRef, Flow } from '../flow/schema';
import type { SettingsStore } from '../settings/settings-store';

export interface SaveFlowInput {
  flow: Flow;
  previousName?: string;
  removePrevious: boolean;
  overwrite: boolean;
  demo?: boolean;
}

export interface SaveFlowResult {
  flow: Flow;
  created: boolean;
  renamedFrom?: string;
  warnings: string[];
}

export class FlowService {
  constructor(private readonly settings: SettingsStore) {}

  list(watching: (name: string) => boolean): FlowSummary[] {
    return this.settings.listFlows().map(({ flow, updatedAt, demo }) => ({
      name: flow.name,
      source: { connection: this.describeRef(flow.source.connection), schema: flow.source.schema, table: flow.source.table },
      target: { connection: this.describeRef(flow.target.connection), schema: flow.target.schema, table: flow.target.table, managedBy: flow.target.managedBy },
      updatedAt,
      watching: watching(flow.name),
      demo,
    }));
  }

  get(name: string): SavedFlow {
    const f = this.settings.getFlow(name);
    if (!f) throw new TableSyncError('NOT_FOUND', `no saved flow named "${name}"`, { flow: name });
    return { flow: f.flow, updatedAt: f.updatedAt };
  }

  save(input: SaveFlowInput): SaveFlowResult {
    const { flow } = input;
    const warnings: string[] = [];
    const existing = this.settings.getFlow(flow.name);
    const renamed = input.previousName !== undefined && input.previousName !== flow.name;
    // Saving over another flow of that name is allowed only when asked: it would take over its identity.
    if (existing && (renamed || input.previousName === undefined) && !input.overwrite) {
      throw new TableSyncError('INVALID_INPUT', `a flow named "${flow.name}" already exists: choose another name, or overwrite it`, { flow: flow.name });
    }
    if (renamed) {
      const prev = this.settings.getFlow(input.previousName!);
      if (prev) {
        warnings.push(
          `Renaming makes a new flow: "${flow.name}" starts with no tracked rows and will not own what "${input.previousName}" wrote. `
          + `Drop "${input.previousName}" first if its target table and trigger should be removed.`,
        );
      }
    }
    this.settings.putFlow(flow, input.demo !== undefined ? { demo: input.demo } : {});
    if (renamed && input.removePrevious) this.settings.removeFlow(input.previousName!);
    return { flow, created: !existing, ...(renamed ? { renamedFrom: input.previousName! } : {}), warnings };
  }

  remove(name: string): boolean {
    return this.settings.removeFlow(name);
  }

  /** How a connection reference reads in a list: the saved connection's name, `$VAR`, or a redacted URL. */
  private describeRef(ref: ConnectionRef): string {
    if ('saved' in ref) return this.settings.findConnection(ref.saved)?.name ?? ref.saved;
    if ('env' in ref) return `$${ref.env}`;
    return redactUrl(ref.url);
  }
}
