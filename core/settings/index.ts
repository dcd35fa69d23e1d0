export { defaultDataDir, PRODUCT_NAME } from './data-dir';
export { SettingsStore, type StoredConnection, type StoredFlow } from './settings-store';
export { MemorySecretStore, FileSecretStore, EncryptedFileSecretStore, type SecretStore, type SecretCipher } from './secret-store';
