/**
 * Saved flows: the flow spec (the same JSON the CLI reads) in settings.json, keyed by its name.
 * The name is the flow's identity (tracking state and target ownership hang off it), so saving
 * under a new name is a new flow, and the answer says so.
 */
import type { FlowSummary, SavedFlow } from '../api/contract';
import { fillPassword, redactUrl, splitPassword } from '../connections/url';
import { hasRedactedPassword } from '../connections/redact';
import { TableSyncError } from '../errors';
import type { ConnectionRef, Flow } from '../flow/schema';
import type { SecretStore } from '../settings/secret-store';
import type { SettingsStore } from '../settings/settings-store';

type Role = 'source' | 'target';
const ROLES: Role[] = ['source', 'target'];

/** Where the password of a flow's inline URL is kept in the secret store. */
export const flowSecretId = (flowName: string, role: Role) => `flow:${flowName}:${role}`;

/** The flow as it may be shown: every inline URL's password replaced by `***`. */
export function redactFlow(flow: Flow): Flow {
  const redact = (ref: ConnectionRef): ConnectionRef => ('url' in ref ? { url: splitPassword(ref.url).url } : ref);
  return { ...flow, source: { ...flow.source, connection: redact(flow.source.connection) }, target: { ...flow.target, connection: redact(flow.target.connection) } };
}

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

/**
 * Inline passwords (`{ "url": "postgres://app:PASSWORD@…" }` or `?password=`) are secrets like a
 * saved connection's: on save they go to the secret store under flowSecretId and settings.json
 * keeps the URL with `***`; nothing the API returns carries them. `withSecrets` puts them back,
 * for pg only. A flow saved again with `***` keeps its stored password (the form shows `***` and
 * sends it back unchanged), also across a rename.
 */
export class FlowService {
  constructor(private readonly settings: SettingsStore, private readonly secrets: SecretStore) {}

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
    return { flow: redactFlow(f.flow), updatedAt: f.updatedAt };
  }

  async save(input: SaveFlowInput): Promise<SaveFlowResult> {
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
    const stored = await this.stashPasswords(flow, renamed ? input.previousName! : flow.name);
    this.settings.putFlow(stored, input.demo !== undefined ? { demo: input.demo } : {});
    if (renamed && input.removePrevious) await this.remove(input.previousName!);
    return { flow: redactFlow(stored), created: !existing, ...(renamed ? { renamedFrom: input.previousName! } : {}), warnings };
  }

  async remove(name: string): Promise<boolean> {
    const removed = this.settings.removeFlow(name);
    for (const role of ROLES) await this.secrets.delete(flowSecretId(name, role));
    return removed;
  }

  /**
   * The flow with its inline passwords put back where `***` stands (for pg only). A `***` with no
   * stored password is an error that says what to do.
   */
  async withSecrets(flow: Flow): Promise<Flow> {
    const fill = async (ref: ConnectionRef, role: Role): Promise<ConnectionRef> => {
      if (!('url' in ref) || !hasRedactedPassword(ref.url)) return ref;
      const password = await this.secrets.get(flowSecretId(flow.name, role));
      if (password === undefined) {
        // Saved before passwords moved out of settings.json: the stored URL still has it.
        const legacy = this.settings.getFlow(flow.name)?.flow[role].connection;
        if (legacy && 'url' in legacy && !hasRedactedPassword(legacy.url) && splitPassword(legacy.url).url === ref.url) return legacy;
        throw new TableSyncError('INVALID_INPUT', `${role}.connection of flow "${flow.name}": the URL's password is shown as *** and no password is stored for it; type the password into the URL again`, { flow: flow.name, role });
      }
      return { url: fillPassword(ref.url, password) };
    };
    return { ...flow, source: { ...flow.source, connection: await fill(flow.source.connection, 'source') }, target: { ...flow.target, connection: await fill(flow.target.connection, 'target') } };
  }

  /** Move inline passwords to the secret store; `***` keeps the one stored under `from` (the flow's previous name). */
  private async stashPasswords(flow: Flow, from: string): Promise<Flow> {
    const out: Record<Role, ConnectionRef> = { source: flow.source.connection, target: flow.target.connection };
    for (const role of ROLES) {
      const ref = flow[role].connection;
      const id = flowSecretId(flow.name, role);
      if (!('url' in ref)) {
        await this.secrets.delete(id);
        continue;
      }
      if (hasRedactedPassword(ref.url)) {
        if (from !== flow.name) {
          const kept = await this.secrets.get(flowSecretId(from, role));
          if (kept !== undefined) await this.secrets.set(id, kept);
        }
        continue;
      }
      const { url, password } = splitPassword(ref.url);
      if (password !== undefined) await this.secrets.set(id, password);
      else await this.secrets.delete(id);
      out[role] = { url };
    }
    return { ...flow, source: { ...flow.source, connection: out.source }, target: { ...flow.target, connection: out.target } };
  }

  /** How a connection reference reads in a list: the saved connection's name, `$VAR`, or a redacted URL. */
  /** How a connection reference reads in a list (sets use it too). */
  describeConnection(ref: ConnectionRef): string {
    return this.describeRef(ref);
  }

  private describeRef(ref: ConnectionRef): string {
    if ('saved' in ref) return this.settings.findConnection(ref.saved)?.name ?? ref.saved;
    if ('env' in ref) return `$${ref.env}`;
    return redactUrl(ref.url);
  }
}
