/**
 * Secrets in the desktop app: Electron's safeStorage (Keychain on macOS, DPAPI on Windows,
 * libsecret/kwallet on Linux). This Electron's typings have only the synchronous API
 * (encryptString/decryptString; no encryptStringAsync yet), so it is wrapped in the async
 * SecretCipher interface and can move to the async API without touching callers.
 *
 * On Linux without a keyring, safeStorage falls back to `basic_text` (a hard-coded key: obfuscation,
 * not encryption). We do not pretend: the status carries a warning the UI shows.
 */
import type { SecretStorageStatus } from '../core/api/contract';
import type { SecretCipher } from '../core/settings/secret-store';

/** The part of Electron's safeStorage used here. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  getSelectedStorageBackend?(): string;
}

export function safeStorageStatus(s: SafeStorageLike, platform: NodeJS.Platform): SecretStorageStatus {
  if (!s.isEncryptionAvailable()) {
    return { kind: 'file', encrypted: false, warning: 'The operating system offers no secret storage to TableSync: passwords are stored in plain text on disk with file permissions 0600.' };
  }
  if (platform === 'linux') {
    const backend = s.getSelectedStorageBackend?.() ?? 'unknown';
    if (backend === 'basic_text' || backend === 'unknown') {
      return {
        kind: 'os', encrypted: false, backend,
        warning: 'No desktop keyring (GNOME Keyring/libsecret or KWallet) is available: passwords are only obfuscated with a fixed key, not encrypted. Install and unlock a keyring, then restart TableSync.',
      };
    }
    return { kind: 'os', encrypted: true, backend };
  }
  return { kind: 'os', encrypted: true, backend: platform === 'darwin' ? 'keychain' : platform === 'win32' ? 'dpapi' : platform };
}

export function safeStorageCipher(s: SafeStorageLike, platform: NodeJS.Platform): SecretCipher {
  return {
    encrypt: async (plain) => s.encryptString(plain),
    decrypt: async (enc) => s.decryptString(enc),
    status: () => safeStorageStatus(s, platform),
  };
}
