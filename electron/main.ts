/**
 * The desktop shell (thin): one window showing the renderer from app://, the contract over one IPC
 * handler (ipc.ts), events pushed in 50 ms batches, secrets through safeStorage. Everything else is
 * the engine in core/.
 *
 * Hardening: contextIsolation + sandbox, no nodeIntegration, a strict CSP on every app:// response,
 * navigation and new windows blocked (https links open in the browser through one checked door),
 * <webview> refused, every permission request denied, single instance (the demo's data folder
 * must have one owner).
 */
import { app, BrowserWindow, ipcMain, protocol, safeStorage, session, shell, type WebContents } from 'electron';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Engine } from '../core/app/engine';
import { createDispatcher } from '../core/api/dispatcher';
import { defaultDataDir } from '../core/settings/data-dir';
import { EncryptedFileSecretStore, FileSecretStore, type SecretStore } from '../core/settings/secret-store';
import { isAppUrl, resolveAppUrl } from './app-protocol';
import { staticSecurityHeaders } from '../core/api/static-files';
import { APP_ORIGIN, EVENTS_CHANNEL } from './channels';
import { createEventBatcher, registerIpc } from './ipc';
import { safeStorageCipher } from './secret-cipher';

// One data folder for the desktop app and `tablesync serve` (settings, saved connections, the demo):
// the same path Electron derives for the product name, also when run unpackaged as "tablesync".
app.setName('TableSync');
app.setPath('userData', defaultDataDir());

protocol.registerSchemesAsPrivileged([
  { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
]);

let mainWindow: BrowserWindow | undefined;
let engine: Engine | undefined;
let closing = false;

/** The one door for opening a URL outside the app: https only, in the user's browser. */
function openExternal(url: string): void {
  try {
    if (new URL(url).protocol === 'https:') void shell.openExternal(url);
  } catch {
    /* not a URL: ignore */
  }
}

function secretStore(dataDir: string): SecretStore {
  if (safeStorage.isEncryptionAvailable()) {
    return new EncryptedFileSecretStore(join(dataDir, 'secrets.enc.json'), safeStorageCipher(safeStorage, process.platform));
  }
  // No OS store at all: a 0600 file, and the status says so (never a silent downgrade).
  return new FileSecretStore(join(dataDir, 'secrets.json'));
}

function hardenContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openExternal(url);
    return { action: 'deny' };
  });
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'TableSync',
    webPreferences: {
      preload: join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = undefined;
  });
  void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}

async function start(): Promise<void> {
  const rendererRoot = join(app.getAppPath(), 'dist', 'renderer');
  protocol.handle('app', async (request) => {
    const hit = resolveAppUrl(request.url, rendererRoot);
    if (!hit || hit.kind === 'not-found') return new Response('Not found', { status: 404 });
    if (hit.kind === 'forbidden') return new Response('Forbidden', { status: 403 });
    try {
      const body = await readFile(hit.file);
      return new Response(body, { headers: { 'content-type': hit.contentType, ...staticSecurityHeaders() } });
    } catch {
      return new Response('Not found', { status: 404 });
    }
  });

  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents) => hardenContents(contents));

  const dataDir = app.getPath('userData');
  engine = new Engine({ dataDir, mode: 'electron', version: app.getVersion(), secrets: secretStore(dataDir) });
  // Outputs are validated in the packaged app too: the schemas are the whitelist of what may reach
  // the renderer (unknown fields are stripped), and a 5,000-row page costs ~10 ms to check.
  const dispatcher = createDispatcher(engine, { validateOutput: true });
  registerIpc(ipcMain, { dispatcher, trustedFrame: () => mainWindow?.webContents.mainFrame });

  const batcher = createEventBatcher((events) => {
    const win = mainWindow;
    if (win && !win.isDestroyed()) win.webContents.send(EVENTS_CHANNEL, events);
  });
  engine.events.on((e) => batcher.push(e));
  engine.onClose(async () => batcher.stop());

  // First run (and later runs while the demo is kept): the demo starts in the background; the
  // window shows its progress through demo.status events.
  if (engine.demo.shouldAutoStart()) void engine.demo.start().catch(() => { /* reported as demo.status "failed" */ });

  mainWindow = createWindow();
  app.on('activate', () => {
    if (!mainWindow) mainWindow = createWindow();
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  // Stop watches and the demo's PostgreSQL before exiting: an orphaned server would hold the data folder.
  app.on('will-quit', (event) => {
    if (closing || !engine) return;
    event.preventDefault();
    closing = true;
    void engine.close().finally(() => app.quit());
  });
  app.whenReady().then(start).catch((e: unknown) => {
    console.error('TableSync failed to start:', e);
    app.exit(1);
  });
}
