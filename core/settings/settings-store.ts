/**
 * Saved connections and flows: one JSON file (`settings.json`) in the data folder. Secrets are not
 * in it (see secret-store.ts). Every operation re-reads the file, so the desktop app and a
 * `tablesync serve` sharing a data folder see each other's saves; writes are atomic.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { flowSpec, type Flow } from '../flow/schema';
import { setSpec, type SetSpec } from '../flow/schema.set';
import { savedConnection } from '../api/contract';
import { TableSyncError } from '../errors';
import { writeFileAtomic } from './atomic-write';

/** A saved connection on disk: what the renderer sees (no password, ever), plus engine-only fields. */
export const storedConnection = savedConnection.extend({
  hasPassword: z.boolean().default(false),
  /** Pool size cap: 1 for servers that take one session at a time (the demo's PGlite target). */
  poolMax: z.number().int().positive().optional(),
  updatedAt: z.string(),
});
export type StoredConnection = z.infer<typeof storedConnection>;

export const storedFlow = z.object({
  flow: flowSpec,
  updatedAt: z.string(),
  demo: z.boolean().default(false),
});
export type StoredFlow = z.infer<typeof storedFlow>;

/** A saved set (core/flow/schema.set.ts), keyed by its name like a flow. */
export const storedSet = z.object({
  set: setSpec,
  updatedAt: z.string(),
});
export type StoredSet = z.infer<typeof storedSet>;

const settingsFile = z.object({
  version: z.literal(1),
  connections: z.array(storedConnection).default([]),
  flows: z.array(storedFlow).default([]),
  sets: z.array(storedSet).default([]),
});
type SettingsFile = z.infer<typeof settingsFile>;

export class SettingsStore {
  readonly path: string;
  constructor(readonly dataDir: string) {
    this.path = join(dataDir, 'settings.json');
  }

  /** True before anything was ever saved (the app offers the demo). */
  isFirstRun(): boolean {
    return !existsSync(this.path);
  }

  private read(): SettingsFile {
    if (!existsSync(this.path)) return { version: 1, connections: [], flows: [], sets: [] };
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (e) {
      throw new TableSyncError('INTERNAL', `settings file ${this.path} is not valid JSON: ${(e as Error).message}`);
    }
    const parsed = settingsFile.safeParse(raw);
    if (!parsed.success) {
      throw new TableSyncError('INTERNAL', `settings file ${this.path} is not in the expected shape: ${parsed.error.issues[0]?.message ?? ''}`, { issues: parsed.error.issues });
    }
    return parsed.data;
  }

  private write(s: SettingsFile): void {
    writeFileAtomic(this.path, `${JSON.stringify(s, null, 2)}\n`, 0o600);
  }

  private update<T>(fn: (s: SettingsFile) => T): T {
    const s = this.read();
    const out = fn(s);
    this.write(s);
    return out;
  }

  // ---------------------------------------------------------------- connections

  listConnections(): StoredConnection[] {
    return this.read().connections;
  }

  getConnection(id: string): StoredConnection | undefined {
    return this.read().connections.find((c) => c.id === id);
  }

  /** By id, else by name (flow files refer to saved connections as `{ "saved": "name" }`). */
  findConnection(idOrName: string): StoredConnection | undefined {
    const all = this.read().connections;
    return all.find((c) => c.id === idOrName) ?? all.find((c) => c.name === idOrName);
  }

  putConnection(c: StoredConnection): void {
    this.update((s) => {
      const i = s.connections.findIndex((x) => x.id === c.id);
      if (i >= 0) s.connections[i] = c;
      else s.connections.push(c);
    });
  }

  removeConnection(id: string): boolean {
    return this.update((s) => {
      const before = s.connections.length;
      s.connections = s.connections.filter((c) => c.id !== id);
      return s.connections.length !== before;
    });
  }

  // ---------------------------------------------------------------- flows

  listFlows(): StoredFlow[] {
    return this.read().flows;
  }

  getFlow(name: string): StoredFlow | undefined {
    return this.read().flows.find((f) => f.flow.name === name);
  }

  putFlow(flow: Flow, opts: { demo?: boolean } = {}): StoredFlow {
    const entry: StoredFlow = { flow, updatedAt: new Date().toISOString(), demo: opts.demo ?? false };
    this.update((s) => {
      const i = s.flows.findIndex((f) => f.flow.name === flow.name);
      if (i >= 0) s.flows[i] = { ...entry, demo: opts.demo ?? s.flows[i]!.demo };
      else s.flows.push(entry);
    });
    return entry;
  }

  removeFlow(name: string): boolean {
    return this.update((s) => {
      const before = s.flows.length;
      s.flows = s.flows.filter((f) => f.flow.name !== name);
      return s.flows.length !== before;
    });
  }

  // ---------------------------------------------------------------- sets

  listSets(): StoredSet[] {
    return this.read().sets;
  }

  getSet(name: string): StoredSet | undefined {
    return this.read().sets.find((x) => x.set.set === name);
  }

  putSet(set: SetSpec): StoredSet {
    const entry: StoredSet = { set, updatedAt: new Date().toISOString() };
    this.update((s) => {
      const i = s.sets.findIndex((x) => x.set.set === set.set);
      if (i >= 0) s.sets[i] = entry;
      else s.sets.push(entry);
    });
    return entry;
  }

  removeSet(name: string): boolean {
    return this.update((s) => {
      const before = s.sets.length;
      s.sets = s.sets.filter((x) => x.set.set !== name);
      return s.sets.length !== before;
    });
  }
}
