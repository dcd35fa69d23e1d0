/**
 * Running exports: to a file the engine writes (desktop app, CLI), or to a browser download (the
 * page fetches `/api/export/<id>` from `tablesync serve`, which streams the COPY into the HTTP
 * response). Progress goes out as `export.progress` events; `export.cancel` stops one. One
 * ExportManager per engine, closed with it.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { EXPORT_DOWNLOAD_PATH, EXPORT_DOWNLOAD_WAIT_MS, EXPORT_EXTENSIONS, EXPORT_MIME, type ExportProgress } from '../api/contract.export';
import type { MethodParsedInput } from '../api/contract';
import { runExport } from '../export';
import { TableSyncError, toTableSyncError } from '../errors';
import type { Engine } from './engine';

type StartInput = MethodParsedInput<'export.start'>;

interface Job {
  id: string;
  input: StartInput;
  fileName: string;
  controller: AbortController;
  progress: ExportProgress;
  expire?: ReturnType<typeof setTimeout>;
  running: Promise<void> | null;
}

const managers = new WeakMap<Engine, ExportManager>();

export function exportsOf(engine: Engine): ExportManager {
  let m = managers.get(engine);
  if (!m) {
    const made = new ExportManager(engine);
    managers.set(engine, made);
    engine.onClose(() => made.closeAll());
    m = made;
  }
  return m;
}

export class ExportManager {
  private readonly jobs = new Map<string, Job>();
  constructor(private readonly engine: Engine) {}

  start(input: StartInput): { exportId: string; fileName: string; downloadPath?: string; path?: string } {
    this.engine.connections.get(input.connectionId); // NOT_FOUND before anything starts
    const id = randomUUID();
    const base = input.source.kind === 'table' ? input.source.table : (input.source.name ?? 'query_result');
    const fileName = `${base.replace(/[^\w.-]+/g, '_') || 'export'}.${EXPORT_EXTENSIONS[input.format]}`;
    const job: Job = {
      id, input, fileName, controller: new AbortController(), running: null,
      progress: { exportId: id, state: 'waiting', rows: 0, bytes: 0, expectedRows: input.expectedRows ?? null, fileName },
    };
    this.jobs.set(id, job);
    if ('path' in input.destination || 'folder' in input.destination) {
      const path = 'path' in input.destination ? input.destination.path : freeName(join(homedir(), 'Downloads'), fileName);
      const file = createWriteStream(path, { flags: 'w' });
      // 'done' is said once the file holds every byte (a user opens it then), not before
      const flushed = () => new Promise<void>((resolve, reject) => {
        file.once('error', reject);
        file.end(resolve);
      });
      job.running = this.run(job, file, flushed).then(
        () => undefined,
        // the file may still be opening: remove it once it is closed, or the open would bring it back
        () => new Promise<void>((resolve) => {
          file.once('close', () => {
            rmSync(path, { force: true });
            resolve();
          });
          file.destroy();
        }),
      ).finally(() => this.jobs.delete(id));
      return { exportId: id, fileName, path };
    }
    job.expire = setTimeout(() => {
      if (job.progress.state === 'waiting') this.finish(job, 'failed', 'the download was not fetched in time');
    }, EXPORT_DOWNLOAD_WAIT_MS);
    job.expire.unref?.();
    return { exportId: id, fileName, downloadPath: `${EXPORT_DOWNLOAD_PATH}/${id}` };
  }

  /** Serve a browser download: stream the export into the HTTP response (the transport calls this). */
  serveDownload(id: string, res: ServerResponse, headers: Record<string, string>): void {
    const job = this.jobs.get(id);
    if (!job || job.progress.state !== 'waiting' || job.running) {
      res.writeHead(404, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end('No such export (it ran already, was cancelled, or expired): export again.\n');
      return;
    }
    if (job.expire) clearTimeout(job.expire);
    res.writeHead(200, {
      ...headers,
      'content-type': EXPORT_MIME[job.input.format],
      'content-disposition': `attachment; filename="${job.fileName}"`,
      'cache-control': 'no-store',
    });
    // The browser's own cancel (or a closed tab) closes the response: stop reading the database too.
    res.on('close', () => { if (!res.writableFinished) job.controller.abort(); });
    job.running = this.run(job, res).then(() => { res.end(); }, () => { res.destroy(); }).finally(() => this.jobs.delete(id));
  }

  cancel(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job) return false;
    job.controller.abort();
    if (job.progress.state === 'waiting' && !job.running) {
      this.finish(job, 'cancelled');
      this.jobs.delete(id);
    }
    return true;
  }

  async closeAll(): Promise<void> {
    const running = [...this.jobs.values()].map((j) => {
      j.controller.abort();
      if (j.expire) clearTimeout(j.expire);
      return j.running?.catch(() => {});
    });
    await Promise.all(running);
    this.jobs.clear();
  }

  /** Export into `sink`; `close` (a file's end) runs before the job is said done. */
  private async run(job: Job, sink: Writable, close?: () => Promise<void>): Promise<void> {
    const started = performance.now();
    job.progress = { ...job.progress, state: 'running' };
    this.emit(job);
    let last = 0;
    try {
      const out = await this.engine.connections.use(job.input.connectionId, (pool) => runExport(pool, job.input.source, job.input.format, sink, {
        signal: job.controller.signal,
        ...(job.input.insertInto !== undefined ? { insertInto: job.input.insertInto } : {}),
        onProgress: (p) => {
          job.progress = { ...job.progress, rows: p.rows, bytes: p.bytes };
          const now = performance.now();
          if (now - last > 100) {
            last = now;
            this.emit(job);
          }
        },
      }));
      await close?.();
      job.progress = { ...job.progress, rows: out.rows, bytes: out.bytes, durationMs: Math.round(performance.now() - started) };
      this.finish(job, 'done');
    } catch (e) {
      const err = toTableSyncError(e);
      const cancelled = job.controller.signal.aborted || (err instanceof TableSyncError && err.code === 'CANCELLED');
      job.progress = { ...job.progress, durationMs: Math.round(performance.now() - started) };
      this.finish(job, cancelled ? 'cancelled' : 'failed', cancelled ? undefined : err.message);
      throw err;
    }
  }

  private finish(job: Job, state: ExportProgress['state'], error?: string): void {
    job.progress = { ...job.progress, state, ...(error ? { error } : {}) };
    this.emit(job);
  }

  private emit(job: Job): void {
    this.engine.events.emit('export.progress', job.progress);
  }
}

/** `dir/name.ext`, or `dir/name (2).ext`… when taken. */
function freeName(dir: string, fileName: string): string {
  mkdirSync(dir, { recursive: true });
  const dot = fileName.lastIndexOf('.');
  const stem = dot > 0 ? fileName.slice(0, dot) : fileName;
  const ext = dot > 0 ? fileName.slice(dot) : '';
  for (let i = 1; ; i++) {
    const p = join(dir, i === 1 ? fileName : `${stem} (${i})${ext}`);
    if (!existsSync(p)) return p;
  }
}
