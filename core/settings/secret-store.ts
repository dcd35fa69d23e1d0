/**
 * Secrets (connection passwords) live apart from settings.json, behind this interface: the desktop
 * app encrypts them with the OS store (Electron safeStorage, see electron/secret-cipher.ts), the CLI
 * and browser mode keep them in a 0600 file and say so. Reading a secret is the one door: only the
 * engine calls `get`, to build a connection URL; nothing returns a secret to a UI.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { SecretStorageStatus } from '../api/contract';
import { writeFileAtomic } from './atomic-write';

export interface SecretStore {
  get(id: string): Promise<string | undefined>;
  set(id: string, secret: string): Promise<void>;
  delete(id: string): Promise<void>;
  status(): SecretStorageStatus;
}

/** Secrets in memory only (tests, or a store that must not touch the disk). */
export class MemorySecretStore implements SecretStore {
  private readonly map = new Map<string, string>();
  async get(id: string) { return this.map.get(id); }
  async set(id: string, secret: string) { this.map.set(id, secret); }
  async delete(id: string) { this.map.delete(id); }
  status(): SecretStorageStatus {
    return { kind: 'memory', encrypted: false, warning: 'Passwords are kept in memory only and are forgotten when TableSync stops.' };
  }
}

/**
 * Plain-text secrets in a file readable only by the user (0600). Honest about it: the status
 * carries a warning the UI shows next to the password field.
 */
export class FileSecretStore implements SecretStore {
  constructor(private readonly path: string) {}

  private read(): Record<string, string> {
    if (!existsSync(this.path)) return {};
    const parsed: unknown = JSON.parse(readFileSync(this.path, 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
  }

  async get(id: string) { return this.read()[id]; }
  async set(id: string, secret: string) {
    const all = this.read();
    all[id] = secret;
    writeFileAtomic(this.path, JSON.stringify(all, null, 2), 0o600);
  }
  async delete(id: string) {
    const all = this.read();
    if (!(id in all)) return;
    delete all[id];
    writeFileAtomic(this.path, JSON.stringify(all, null, 2), 0o600);
  }
  status(): SecretStorageStatus {
    return {
      kind: 'file',
      encrypted: false,
      backend: this.path,
      warning: 'Passwords are stored in plain text on disk with file permissions 0600 (readable by your user account only). Use the desktop app for OS-encrypted storage.',
    };
  }
}

/** Encrypts and decrypts one secret (Electron's safeStorage behind it). */
export interface SecretCipher {
  encrypt(plain: string): Promise<Buffer>;
  decrypt(encrypted: Buffer): Promise<string>;
  status(): SecretStorageStatus;
}

/** Secrets encrypted by a cipher (the OS store), kept as base64 in a 0600 file (a FileSecretStore of ciphertexts). */
export class EncryptedFileSecretStore implements SecretStore {
  private readonly file: FileSecretStore;
  constructor(path: string, private readonly cipher: SecretCipher) {
    this.file = new FileSecretStore(path);
  }

  async get(id: string) {
    const b64 = await this.file.get(id);
    return b64 === undefined ? undefined : this.cipher.decrypt(Buffer.from(b64, 'base64'));
  }
  async set(id: string, secret: string) {
    await this.file.set(id, (await this.cipher.encrypt(secret)).toString('base64'));
  }
  async delete(id: string) { await this.file.delete(id); }
  status(): SecretStorageStatus { return this.cipher.status(); }
}
