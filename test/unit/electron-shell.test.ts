import { afterAll, describe, expect, it } from 'vitest';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { APP_CSP, isAppUrl, resolveAppUrl } from '../../electron/app-protocol';
import { safeStorageCipher, safeStorageStatus, type SafeStorageLike } from '../../electron/secret-cipher';
import { EncryptedFileSecretStore } from '../../core/settings/secret-store';

// The rest of the desktop shell that runs without the binary: the app:// file mapping and CSP,
// what the user is told about secret storage, and the packaging config (fuses hardened).
describe('app:// protocol', () => {
  // A real renderer folder: the mapping checks what exists (core/api/static-files.ts).
  const root = mkdtempSync(join(tmpdir(), 'ts-app-proto-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html>');
  writeFileSync(join(root, 'assets', 'index-abc.js'), '//');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('maps app://tablesync URLs into the renderer folder, and nothing else', () => {
    expect(resolveAppUrl('app://tablesync/', root)).toMatchObject({ kind: 'file', file: `${root}/index.html`, contentType: 'text/html; charset=utf-8' });
    expect(resolveAppUrl('app://tablesync/assets/index-abc.js', root)).toMatchObject({ kind: 'file', contentType: expect.stringMatching(/javascript/) });
    // The URL parser already folds the dots: it stays inside (an app route, so the page).
    expect(resolveAppUrl('app://tablesync/../../etc/passwd', root)).toMatchObject({ kind: 'file', file: `${root}/index.html`, fallback: true });
    expect(resolveAppUrl('app://tablesync/..%2f..%2fetc%2fpasswd', root)).toMatchObject({ kind: 'forbidden' });
    expect(resolveAppUrl('app://tablesync/assets/missing.js', root)).toEqual({ kind: 'not-found' });
    expect(resolveAppUrl('app://other/index.html', root)).toBeNull();
    expect(resolveAppUrl('https://tablesync/index.html', root)).toBeNull();
    expect(resolveAppUrl('app://tablesync/%E0%A4%A', root)).toMatchObject({ kind: 'forbidden' });
  });

  it('allows navigation only inside the app, and serves a strict CSP', () => {
    expect(isAppUrl('app://tablesync/index.html')).toBe(true);
    expect(isAppUrl('app://tablesyncevil/')).toBe(false);
    expect(isAppUrl('https://example.com/')).toBe(false);
    expect(APP_CSP).toContain("default-src 'self'");
    expect(APP_CSP).toContain("script-src 'self'");
    expect(APP_CSP).not.toMatch(/unsafe-eval/);
    expect(APP_CSP).toContain("object-src 'none'");
  });
});

describe('secret storage through safeStorage', () => {
  // A real cipher (AES-256-GCM with a random key) standing in for the OS keyring.
  const key = randomBytes(32);
  const storage = (backend: string, available = true): SafeStorageLike => ({
    isEncryptionAvailable: () => available,
    getSelectedStorageBackend: () => backend,
    encryptString: (plain) => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]);
    },
    decryptString: (buf) => {
      const d = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
      d.setAuthTag(buf.subarray(12, 28));
      return Buffer.concat([d.update(buf.subarray(28)), d.final()]).toString('utf8');
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'tablesync-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('tells the user about the Linux plain-text fallback instead of pretending', () => {
    expect(safeStorageStatus(storage('gnome_libsecret'), 'linux')).toEqual({ kind: 'os', encrypted: true, backend: 'gnome_libsecret' });
    const fallback = safeStorageStatus(storage('basic_text'), 'linux');
    expect(fallback).toMatchObject({ kind: 'os', encrypted: false, backend: 'basic_text' });
    expect(fallback.warning).toMatch(/not encrypted/);
    expect(safeStorageStatus(storage('', false), 'linux')).toMatchObject({ kind: 'file', encrypted: false });
    expect(safeStorageStatus(storage(''), 'darwin')).toMatchObject({ kind: 'os', encrypted: true, backend: 'keychain' });
  });

  it('stores only ciphertext, in a 0600 file, and reads it back', async () => {
    const path = join(dir, 'secrets.enc.json');
    const store = new EncryptedFileSecretStore(path, safeStorageCipher(storage('kwallet6'), 'linux'));
    await store.set('conn-1', 'hunter2-pässword');
    expect(readFileSync(path, 'utf8')).not.toContain('hunter2');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await store.get('conn-1')).toBe('hunter2-pässword');
    await store.delete('conn-1');
    expect(await store.get('conn-1')).toBeUndefined();
    expect(store.status()).toMatchObject({ kind: 'os', encrypted: true });
  });
});

describe('electron-builder.yml', () => {
  const require = createRequire(import.meta.url);

  it('is valid for the installed electron-builder, with every fuse hardened and all targets', async () => {
    const yaml = require('js-yaml') as { load: (s: string) => Record<string, unknown> };
    const cfg = yaml.load(readFileSync('electron-builder.yml', 'utf8'));
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as { validateConfiguration: (c: unknown, l: unknown) => Promise<void> };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await validateConfiguration(cfg, new DebugLogger(false));
    expect(cfg['electronFuses']).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
    expect((cfg['linux'] as { target: string[] }).target).toEqual(['AppImage', 'deb']);
    expect((cfg['mac'] as { target: string[] }).target).toEqual(['dmg']);
    expect((cfg['win'] as { target: string[] }).target).toEqual(['nsis']);
    expect(cfg['asar']).toBe(true);
  });
});
