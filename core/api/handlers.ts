/**
 * What each contract method does, in terms of the engine. Inputs arrive validated and with
 * defaults filled (MethodParsedInput); outputs are checked against the contract by the dispatcher.
 * Long calls run through `engine.requests` under the caller's requestId, so `query.cancel` reaches
 * their PostgreSQL backends.
 */
import type { Engine } from '../app/engine';
import { browseRows, countRows, readCell, validateAndCount } from '../browse';
import { describeTable, listSchemas, listTables } from '../introspect';
import { applyFlow, dropFlow, initialLoadOf, planFlow, verifyFlow } from '../target';
import { listDatabases, listSchemaObjects, readStructure } from '../inspect';
import { attributeTriggers, connectionForDatabase } from '../app/inspect';
import { consolesOf } from '../app/console';
import { exportsOf } from '../app/exports';
import { completionSchema } from '../console';
import { CONSOLE_MAX_PAGE_ROWS } from './contract.console';
import { dropPartsFor } from '../app/drop-parts';
import type { MethodName, MethodOutput, MethodParsedInput } from './contract';
import { TableSyncError } from '../errors';
import type { SetSpec } from '../flow/schema.set';
import { applySet, dropSet, planSet, verifySet } from '../set';

type Handler<M extends MethodName> = (engine: Engine, input: MethodParsedInput<M>) => Promise<MethodOutput<M>> | MethodOutput<M>;
export type Handlers = { [M in MethodName]: Handler<M> };

export const handlers: Handlers = {
  // ------------------------------------------------------------ connections
  'connections.list': (e) => e.connections.list(),
  'connections.save': async (e, i) => {
    const saved = await e.connections.save(i);
    e.events.emit('settings.changed', { what: 'connections' });
    return saved;
  },
  'connections.test': (e, i) => e.connections.test(i),
  'connections.remove': async (e, i) => {
    const removed = await e.connections.remove(i.id);
    if (removed) e.events.emit('settings.changed', { what: 'connections' });
    return { removed };
  },

  // ------------------------------------------------------------ catalog
  'catalog.schemas': (e, i) => e.connections.use(i.connectionId, (pool) => listSchemas(pool)),
  'catalog.tables': (e, i) => e.connections.use(i.connectionId, (pool) => listTables(pool, i.schema)),
  'catalog.describe': (e, i) => e.connections.use(i.connectionId, (pool) => describeTable(pool, i.schema, i.table)),

  'catalog.objects': (e, i) => e.connections.use(i.connectionId, (pool) => listSchemaObjects(pool, i.schema)),
  'catalog.databases': (e, i) => e.connections.use(i.connectionId, (pool) => listDatabases(pool)),
  'connections.forDatabase': async (e, i) => {
    const saved = await connectionForDatabase(e, i.id, i.database);
    e.events.emit('settings.changed', { what: 'connections' });
    return saved;
  },
  'inspect.structure': (e, i) => e.connections.use(i.connectionId, async (pool) => attributeTriggers(e, await readStructure(pool, i.schema, i.table))),

  'console.run': (e, i) => e.requests.run(i.requestId, async (h) => {
    const url = await e.connections.url(i.connectionId);
    const c = e.connections.get(i.connectionId);
    if (c.poolMax !== 1) return consolesOf(e).run(url, i, { onBackend: (c) => h.backend(url, c) });
    // A server of one session at a time (the demo's PGlite): hold it only for this call.
    try {
      const out = await consolesOf(e).run(url, { ...i, limit: CONSOLE_MAX_PAGE_ROWS }, { onBackend: (c) => h.backend(url, c) });
      if (!out.done) {
        out.done = true;
        out.rowCount = out.rows.length;
        out.notices.push(`NOTICE: ${c.name} serves one session at a time, so the console shows the first ${CONSOLE_MAX_PAGE_ROWS} rows and lets the session go`);
      }
      return out;
    } finally {
      await consolesOf(e).close(i.consoleId);
    }
  }),
  'console.fetch': (e, i) => e.requests.run(i.requestId, (h) =>
    consolesOf(e).fetch(i.consoleId, i.resultId, i.offset, i.limit, { onBackend: (c) => h.backend(consolesOf(e).urlOf(i.consoleId) ?? '', c) })),
  'console.close': async (e, i) => ({ closed: await consolesOf(e).close(i.consoleId) }),
  'console.completions': (e, i) => e.connections.use(i.connectionId, (pool) => completionSchema(pool)),

  'export.start': (e, i) => exportsOf(e).start(i),
  'export.cancel': (e, i) => ({ cancelled: exportsOf(e).cancel(i.exportId) }),

  // ------------------------------------------------------------ browsing
  'browse.rows': (e, i) => e.requests.run(i.requestId, (h) =>
    e.connections.use(i.connectionId, (pool, url) => browseRows(pool, i, { onBackend: (c) => h.backend(url, c) }))),
  'browse.cell': (e, i) => e.requests.run(i.requestId, (h) =>
    e.connections.use(i.connectionId, (pool, url) => readCell(pool, i, { onBackend: (c) => h.backend(url, c) }))),
  'browse.count': (e, i) => e.requests.run(i.requestId, (h) =>
    e.connections.use(i.connectionId, (pool, url) => countRows(pool, i, { onBackend: (c) => h.backend(url, c) }))),
  'filter.validate': (e, i) => e.requests.run(i.requestId, (h) =>
    e.connections.use(i.connectionId, (pool, url) => validateAndCount(pool, i, { onBackend: (c) => h.backend(url, c), wasCancelled: h.cancelled }))),
  'query.cancel': async (e, i) => ({ cancelled: await e.requests.cancel(i.requestId) }),

  // ------------------------------------------------------------ sets
  'sets.list': (e) => e.settings.listSets().map(({ set, updatedAt }) => ({
    name: set.set,
    source: { connection: e.flows.describeConnection(set.source.connection), schema: set.source.schema },
    target: { connection: e.flows.describeConnection(set.target.connection), schema: set.target.schema },
    tables: set.tables,
    updatedAt,
  })),
  'sets.get': (e, i) => {
    const s = e.settings.getSet(i.name);
    if (!s) throw new TableSyncError('NOT_FOUND', `no saved set named "${i.name}"`, { set: i.name });
    return s;
  },
  'sets.save': (e, i) => {
    const existing = e.settings.getSet(i.set.set);
    if (existing && !i.overwrite) throw new TableSyncError('INVALID_INPUT', `a set named "${i.set.set}" already exists: choose another name, or overwrite it`, { set: i.set.set });
    e.settings.putSet(i.set);
    e.events.emit('settings.changed', { what: 'sets' });
    return { set: i.set, created: !existing };
  },
  'sets.remove': (e, i) => {
    const removed = e.settings.removeSet(i.name);
    if (removed) e.events.emit('settings.changed', { what: 'sets' });
    return { removed };
  },
  'sets.plan': (e, i) => e.requests.run(i.requestId, (h) => e.withSet('name' in i ? savedSetSpec(e, i.name) : i.set, (ctx) => planSet(ctx), { onBackend: h.backend })),
  'sets.apply': (e, i) => e.requests.run(i.requestId, (h) => e.withSet(savedSetSpec(e, i.name), (ctx) => applySet(ctx, {
    allowDestructive: i.allowDestructive,
    repair: i.repair,
    ...(i.expectedPlan ? { expectedPlan: i.expectedPlan } : {}),
    signal: h.signal,
    onProgress: (p) => e.events.emit('set.applyProgress', { ...p, ...(i.requestId !== undefined ? { requestId: i.requestId } : {}) }),
  }), { onBackend: h.backend })),
  'sets.verify': (e, i) => e.requests.run(i.requestId, (h) => e.withSet(savedSetSpec(e, i.name), (ctx) => verifySet(ctx, { signal: h.signal }), { onBackend: h.backend })),
  'sets.drop': (e, i) => e.requests.run(i.requestId, (h) => e.withSet(savedSetSpec(e, i.name), (ctx) => dropSet(ctx, { allowDestructive: i.allowDestructive, ...(i.tables ? { tables: i.tables } : {}) }), { onBackend: h.backend })),

  // ------------------------------------------------------------ flows
  'flows.list': (e) => e.flows.list((name) => e.watches.isWatching(name)),
  'flows.get': (e, i) => e.flows.get(i.name),
  'flows.save': async (e, i) => {
    const out = await e.flows.save(i);
    if (e.watches.isWatching(i.flow.name)) {
      out.warnings.push(`"${i.flow.name}" is being watched: the running watch keeps the previous version until you stop and start it again.`);
    }
    e.events.emit('settings.changed', { what: 'flows' });
    return out;
  },
  'flows.remove': async (e, i) => {
    await e.watches.stop(i.name);
    const removed = await e.flows.remove(i.name);
    if (removed) e.events.emit('settings.changed', { what: 'flows' });
    return { removed };
  },
  'flows.plan': (e, i) => e.requests.run(i.requestId, async (h) => {
    const plan = await e.withFlow('name' in i ? e.flows.get(i.name).flow : i.flow, (ctx) => planFlow(ctx), { onBackend: h.backend });
    return i.sampleLimit !== undefined ? { ...plan, samples: plan.samples.slice(0, i.sampleLimit) } : plan;
  }),
  'flows.loadChoice': async (e, i) => {
    // A one-session server serves whoever connects first: a hint must never take it from a plan,
    // an apply or a watch the user starts meanwhile.
    for (const [ref, where] of [[i.flow.source.connection, 'source.connection'], [i.flow.target.connection, 'target.connection']] as const) {
      if ((await e.resolveConnection(ref, where)).poolMax === 1) return { automatic: null, notAsked: `the ${where.split('.')[0]} serves one session at a time` };
    }
    return { automatic: (await e.withFlow(i.flow, (ctx) => initialLoadOf(ctx, { automatic: true }))) ?? null };
  },
  'flows.apply': (e, i) => e.requests.run(i.requestId, (h) =>
    e.withFlow(e.flows.get(i.name).flow, (ctx) => applyFlow(ctx, {
      allowDestructive: i.allowDestructive,
      ...(i.expectedFingerprint !== undefined ? { expectedFingerprint: i.expectedFingerprint } : {}),
      repair: i.repair,
      takeOver: i.takeOver,
      signal: h.signal,
      onProgress: (p) => e.events.emit('flow.applyProgress', { ...p, ...(i.requestId !== undefined ? { requestId: i.requestId } : {}) }),
    }), { onBackend: h.backend })),
  'flows.verify': (e, i) => e.requests.run(i.requestId, (h) =>
    e.withFlow('name' in i ? e.flows.get(i.name).flow : i.flow, (ctx) => verifyFlow(ctx, {
      signal: h.signal,
      ...(i.listLimit !== undefined ? { listLimit: i.listLimit } : {}),
    }), { onBackend: h.backend })),
  'flows.dropPreview': async (e, i) => {
    const flow = e.flows.get(i.name).flow;
    const out = await e.withFlow(flow, (ctx) => dropFlow(ctx, dropPartsFor(flow), { dryRun: true }));
    return { flow: flow.name, steps: out.steps };
  },
  'flows.drop': (e, i) => e.requests.run(i.requestId, async (h) => {
    const started = performance.now();
    const flow = e.flows.get(i.name).flow;
    await e.stopWatch(flow.name);
    const out = await e.withFlow(flow, (ctx) => dropFlow(ctx, dropPartsFor(flow), { allowDestructive: i.allowDestructive, cascade: i.cascade }), { onBackend: h.backend });
    return { flow: flow.name, steps: out.steps.map((s) => s.summary), durationMs: Math.round(performance.now() - started) };
  }),
  'flows.watchStart': (e, i) => e.watches.start(i.name, i.resync ? { resync: true } : {}),
  'flows.watchStop': async (e, i) => ({ stopped: await e.watches.stop(i.name) }),
  'flows.watchList': (e) => e.watches.list(),
  'flows.watchRecent': (e, i) => e.watches.recent(i.name, i.limit),
  'sets.watchStart': (e, i) => e.watches.startSet(i.name),
  'sets.watchStop': async (e, i) => ({ stopped: await e.watches.stop(i.name) }),

  // ------------------------------------------------------------ demo
  'demo.status': (e) => e.demo.status(),
  'demo.start': (e) => e.demo.start(),
  'demo.stop': async (e) => {
    await e.demo.stop();
    return e.demo.status();
  },
  'demo.reset': (e) => e.demo.reset(),
  'demo.activityStart': (e, i) => e.demo.activityStart(i.ratePerSecond),
  'demo.activityStop': (e) => e.demo.activityStop(),

  // ------------------------------------------------------------ app
  'app.info': (e) => e.info(),
};

function savedSetSpec(e: Engine, name: string): SetSpec {
  const s = e.settings.getSet(name);
  if (!s) throw new TableSyncError('NOT_FOUND', `no saved set named "${name}"`, { set: name });
  return s.set;
}
