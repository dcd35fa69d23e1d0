import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, type TestDatabase } from '../support/db';
import { Engine } from '../../core/app/engine';
import { MemorySecretStore } from '../../core/settings/secret-store';
import { createDispatcher, type Dispatcher } from '../../core/api/dispatcher';
import type { Envelope } from '../../core/api/errors';
import type { Plan } from '../../core/api/model';
import type { SavedConnection } from '../../core/api/contract';
import { flowSecretId } from '../../core/app/flows';
import { call as callApi } from '../support/api';

// Issue 9 D: secrets never come back. Inline flow passwords and `?password=` go to the secret
// store, the API shows `***`, the engine still logs in with them; error messages never echo a
// password, a DSN or an environment variable's value.
describe('secrets never come back', () => {
  let src: TestDatabase;
  let dst: TestDatabase;
  let dataDir: string;
  let secrets: MemorySecretStore;
  let engine: Engine;
  let api: Dispatcher;
  const call = <T = unknown>(method: string, input?: unknown) => callApi<T>(api, method, input);
  const settingsText = () => readFileSync(join(dataDir, 'settings.json'), 'utf8');
  const withPassword = (url: string, pw: string) => {
    const u = new URL(url);
    u.password = pw;
    return u.toString();
  };
  const failure = async (method: string, input: unknown) => {
    const env = (await api.dispatch(method, input)) as Envelope<unknown>;
    expect(env.ok).toBe(false);
    return (env as { ok: false; error: { code: string; message: string; detail?: unknown } }).error;
  };

  beforeAll(async () => {
    src = await freshDatabase('secsrc');
    dst = await freshDatabase('secdst');
    await src.sql(`CREATE TABLE items (id int PRIMARY KEY, name text)`);
    await src.sql(`INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 20) g`);
    await src.sql(`CREATE SEQUENCE items_seq`);
    dataDir = mkdtempSync(join(tmpdir(), 'tablesync-secrets-'));
    secrets = new MemorySecretStore();
    engine = new Engine({ dataDir, mode: 'browser', secrets, env: { ...process.env, NOT_A_URL: 'host=127.0.0.1 password=envsecret99 dbname=x' } });
    api = createDispatcher(engine);
  });
  afterAll(async () => {
    await engine?.close();
    await src.drop();
    await dst.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a flow saved with inline passwords keeps them in the secret store and shows ***', async () => {
    const flow = {
      version: 1, name: 'inline_pw',
      source: { connection: { url: withPassword(src.url, 'srcHunter2pw') }, table: 'items' },
      target: { connection: { url: `${dst.url}${dst.url.includes('?') ? '&' : '?'}password=dstHunter3pw` }, table: 'items_copy' },
    };
    const saved = await call<{ flow: { source: { connection: { url: string } }; target: { connection: { url: string } } } }>('flows.save', { flow });
    expect(saved.flow.source.connection.url).toMatch(/:\*\*\*@/);
    expect(saved.flow.target.connection.url).toContain('password=***');
    expect(JSON.stringify(saved)).not.toMatch(/Hunter/);
    const got = await call<{ flow: unknown }>('flows.get', { name: 'inline_pw' });
    expect(JSON.stringify(got)).not.toMatch(/Hunter/);
    expect(JSON.stringify(await call('flows.list'))).not.toMatch(/Hunter/);
    expect(settingsText()).not.toMatch(/Hunter/);
    expect(await secrets.get(flowSecretId('inline_pw', 'source'))).toBe('srcHunter2pw');
    expect(await secrets.get(flowSecretId('inline_pw', 'target'))).toBe('dstHunter3pw');

    // the engine logs in with the real password
    const { ctx } = await engine.openFlowContext((await engine.flows.get('inline_pw')).flow);
    try {
      expect(new URL(ctx.sourceUrl).password).toBe('srcHunter2pw');
      expect(new URL(ctx.targetUrl).searchParams.get('password')).toBe('dstHunter3pw');
    } finally {
      await ctx.close();
    }
    const plan = await call<Plan>('flows.plan', { name: 'inline_pw' });
    expect(plan.rows.insert).toBe(20);

    // saved again as shown (***), the password stays; renamed, it follows the flow
    await call('flows.save', { flow: got.flow, previousName: 'inline_pw' });
    expect(await secrets.get(flowSecretId('inline_pw', 'source'))).toBe('srcHunter2pw');
    await call('flows.save', { flow: { ...(got.flow as object), name: 'inline_pw2' }, previousName: 'inline_pw', removePrevious: true });
    expect(await secrets.get(flowSecretId('inline_pw2', 'source'))).toBe('srcHunter2pw');
    expect(await secrets.get(flowSecretId('inline_pw', 'source'))).toBeUndefined();
    expect((await call<Plan>('flows.plan', { name: 'inline_pw2' })).rows.insert).toBe(20);
    await call('flows.remove', { name: 'inline_pw2' });
    expect(await secrets.get(flowSecretId('inline_pw2', 'source'))).toBeUndefined();
    expect(settingsText()).not.toMatch(/Hunter/);
  });

  it('?password= in a connection URL is a password: secret, hasPassword, used to log in, never listed', async () => {
    const url = `${src.url}${src.url.includes('?') ? '&' : '?'}password=qpSecret77&application_name=probe`;
    const saved = await call<SavedConnection>('connections.save', { name: 'qp', connection: { url } });
    expect(saved.hasPassword).toBe(true);
    expect(saved.options).toEqual({ application_name: 'probe' });
    expect(JSON.stringify(await call('connections.list'))).not.toContain('qpSecret77');
    expect(settingsText()).not.toContain('qpSecret77');
    expect(await secrets.get(saved.id)).toBe('qpSecret77');
    expect(new URL(await engine.connections.url(saved.id)).password).toBe('qpSecret77');
    expect((await call<{ ok: boolean }>('connections.test', { id: saved.id })).ok).toBe(true);

    // the same typed into the form's extra options
    const u = new URL(src.url);
    const fields = await call<SavedConnection>('connections.save', {
      name: 'qp-fields',
      connection: { host: u.hostname, port: Number(u.port), database: u.pathname.slice(1), user: decodeURIComponent(u.username), sslmode: 'prefer', options: { password: 'optSecret66' } },
    });
    expect(fields.hasPassword).toBe(true);
    expect(fields.options).toEqual({});
    expect(settingsText()).not.toContain('optSecret66');
    expect(await secrets.get(fields.id)).toBe('optSecret66');
  });

  it('errors never echo a password, a DSN or an environment variable', async () => {
    const draft = (source: object) => ({ flow: { version: 1, name: 'bad', source: { table: 'items', ...source }, target: { connection: { url: dst.url }, table: 'x' } } });
    const path = await failure('flows.plan', draft({ connection: { env: 'PATH' } }));
    expect(path.message).toContain('PATH');
    expect(path.message).not.toContain(process.env.PATH!);
    const dsnEnv = await failure('flows.plan', draft({ connection: { env: 'NOT_A_URL' } }));
    expect(dsnEnv.message).toContain('NOT_A_URL');
    expect(JSON.stringify(dsnEnv)).not.toContain('envsecret99');
    const dsn = await failure('flows.plan', draft({ connection: { url: 'host=127.0.0.1 password=dsnSecret55 dbname=x' } }));
    expect(dsn.code).toBe('INVALID_INPUT');
    expect(JSON.stringify(dsn)).not.toContain('dsnSecret55');
    for (const url of ['postgres://app:typoSecret1@127.0.0.1:99999/x', 'postgress://app:typoSecret1@127.0.0.1/x', 'postgres://app:typo@Secret1@127.0.0.1:1/x?connect_timeout=2']) {
      const e = await failure('flows.plan', draft({ connection: { url } }));
      expect(JSON.stringify(e)).not.toMatch(/typoSecret1|Secret1/);
    }
    const conn = await failure('connections.save', { name: 'typo', connection: { url: 'host=h password=connSecret8' } });
    expect(JSON.stringify(conn)).not.toContain('connSecret8');
  });

  it('a sequence is a sequence, not a missing table', async () => {
    const e = await failure('flows.plan', { flow: { version: 1, name: 'seq', source: { connection: { url: src.url }, table: 'items_seq' }, target: { connection: { url: dst.url }, table: 'x' } } });
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toContain('"public"."items_seq" is a sequence, not a table');
  });

  it('a filter that ends its own session is refused and blamed on the filter', async () => {
    const e = await failure('flows.plan', { flow: { version: 1, name: 'kill', source: { connection: { url: src.url }, table: 'items', filter: 'pg_terminate_backend(pg_backend_pid())' }, target: { connection: { url: dst.url }, table: 'x' } } });
    expect(e.code).toBe('FILTER_INVALID');
    expect(e.message).toContain('the filter ended its own database session');
    // the source is fine afterwards
    expect((await src.sql('SELECT count(*) AS n FROM items')).rows[0].n).toBe('20');
  });
});
