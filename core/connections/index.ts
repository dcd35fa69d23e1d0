/** Connections: URLs (parse, validate, redact), a pool per URL, the connection test. */
export { redactSecrets, hasRedactedPassword, REDACTED } from './redact';
export { connectionFailure, connectionHint, describeAddress, type ConnectionLabel } from './failure';
export { parseConnectionUrl, buildConnectionUrl, redactUrl, sslOptionFor, SSL_MODES, type SslMode, type ConnectionParams } from './url';
export { createPool, connectClient, PoolRegistry, RAW_TYPES, poolConfig, type PoolOptions } from './pool';
export { testConnection, type ConnectionTestResult, type TablePrivileges } from './test-connection';
