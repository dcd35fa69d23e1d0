/**
 * Exports started from this window: each one's progress (from export.progress events), cancel,
 * and how a finished one is reported. The browser download itself is started by the caller with
 * the path the engine gave (`downloadPath`); the desktop app writes to the Downloads folder.
 */
import { createStore } from 'zustand/vanilla';
import { errorMessage, type ApiClient } from '../api/client';
import type { ExportProgress, ExportStartInput } from '../api/types';

export interface ExportJob extends ExportProgress { path?: string }

export interface ExportsState {
  jobs: ExportJob[];
  error: string | null;
  /** Start an export; resolves with where the browser should fetch it (browser mode). */
  start(input: Omit<ExportStartInput, 'destination'>, mode: 'browser' | 'electron'): Promise<{ downloadPath?: string; fileName: string } | null>;
  onProgress(p: ExportProgress): void;
  cancel(exportId: string): Promise<void>;
  dismiss(exportId: string): void;
}

export function createExportsStore(api: ApiClient) {
  return createStore<ExportsState>()((set, get) => ({
    jobs: [],
    error: null,
    async start(input, mode) {
      set({ error: null });
      try {
        const r = await api.call('export.start', { ...input, destination: mode === 'browser' ? { download: true } : { folder: 'downloads' } });
        const job: ExportJob = { exportId: r.exportId, state: 'waiting', rows: 0, bytes: 0, expectedRows: input.expectedRows ?? null, fileName: r.fileName, ...(r.path ? { path: r.path } : {}) };
        // An event may have come first: keep the newer state.
        if (!get().jobs.some((j) => j.exportId === r.exportId)) set({ jobs: [...get().jobs, job] });
        return { fileName: r.fileName, ...(r.downloadPath ? { downloadPath: r.downloadPath } : {}) };
      } catch (e) {
        set({ error: errorMessage(e) });
        return null;
      }
    },
    onProgress(p) {
      const jobs = get().jobs;
      const i = jobs.findIndex((j) => j.exportId === p.exportId);
      if (i < 0) set({ jobs: [...jobs, p] });
      else set({ jobs: jobs.map((j, k) => (k === i ? { ...j, ...p } : j)) });
    },
    async cancel(exportId) {
      await api.call('export.cancel', { exportId }).catch(() => {});
    },
    dismiss(exportId) {
      set({ jobs: get().jobs.filter((j) => j.exportId !== exportId) });
    },
  }));
}
export type ExportsStore = ReturnType<typeof createExportsStore>;
