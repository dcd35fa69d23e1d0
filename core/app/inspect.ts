/**
 * The engine's side of the inspecting methods where saved things matter: which saved flow owns a
 * capture trigger whose channel is not the default one, and opening another database of a saved
 * connection's server as a saved connection of its own (same host, user, sslmode and password).
 */
import type { SavedConnection } from '../api/contract';
import type { TableStructure } from '../api/contract.inspect';
import { parseConnectionUrl, buildConnectionUrl } from '../connections/url';
import { captureNames } from '../live/channel';
import type { Engine } from './engine';

/** Fill in the owning flow of TableSync triggers the catalog alone could not attribute. */
export function attributeTriggers(engine: Engine, s: TableStructure): TableStructure {
  if (!s.triggers.some((t) => t.tablesync && t.tablesync.flow === null)) return s;
  const byChannel = new Map<string, string>();
  for (const f of engine.settings.listFlows()) {
    const src = f.flow.source;
    if (src.schema !== s.schema || src.table !== s.name || !src.notification) continue;
    byChannel.set(captureNames(f.flow.name, src.table, src.notification.channelName).channel, f.flow.name);
  }
  return {
    ...s,
    triggers: s.triggers.map((t) => (t.tablesync && t.tablesync.flow === null && byChannel.has(t.tablesync.channel)
      ? { ...t, tablesync: { ...t.tablesync, flow: byChannel.get(t.tablesync.channel)! } }
      : t)),
  };
}

/**
 * A saved connection to `database` on the server of saved connection `id`: the existing one when
 * there is one (same host, port, user, database), else a new one named "<name> / <database>".
 */
export async function connectionForDatabase(engine: Engine, id: string, database: string): Promise<SavedConnection> {
  const base = engine.connections.get(id);
  if (base.database === database) return engine.connections.list().find((c) => c.id === id)!;
  const same = engine.connections.list().find((c) => c.host === base.host && c.port === base.port && c.user === base.user && c.database === database);
  if (same) return same;
  const params = parseConnectionUrl(await engine.connections.url(id));
  const url = buildConnectionUrl({ ...params, database });
  let name = `${base.name} / ${database}`;
  for (let i = 2; engine.connections.list().some((c) => c.name === name); i++) name = `${base.name} / ${database} (${i})`;
  return engine.connections.save({ name, connection: { url }, ...(base.poolMax ? { poolMax: base.poolMax } : {}) });
}
