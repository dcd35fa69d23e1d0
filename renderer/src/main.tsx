import { createRoot } from 'react-dom/client';
import './styles/app.css';
import { clientOver } from './api/client';
import { ipcBridge, ipcTransport } from './api/transport.ipc';
import { wsTransport } from './api/transport.ws';
import { AppContext, createAppStores } from './app-context';
import { App } from './App';

// Electron's preload gives a bridge; otherwise this is browser mode on the serving origin.
const bridge = ipcBridge();
const api = clientOver(bridge ? ipcTransport(bridge) : wsTransport());
const saved = localStorage.getItem('tablesync.theme');
const theme = saved === 'dark' || saved === 'light' ? saved : window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
const stores = createAppStores(api, theme, localStorage);
// For the e2e tests and the benchmark: the stores, read-only in spirit.
(window as unknown as { __tablesync?: unknown }).__tablesync = stores;

createRoot(document.getElementById('root')!).render(
  <AppContext.Provider value={stores}>
    <App />
  </AppContext.Provider>,
);
