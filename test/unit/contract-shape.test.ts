import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { METHOD_NAMES, methods } from '../../core/api/contract';
import { EVENT_NAMES, events } from '../../core/api/events';
import { apiErrorCode, ENGINE_ERROR_CODES, TRANSPORT_ERROR_CODES } from '../../core/api/errors';
import { handlers } from '../../core/api/handlers';
import { ERROR_CODES } from '../../core/errors';

// The one contract: every method has zod input/output and a handler, the error codes are the
// engine's plus the transport's, and the files the renderer bundles import nothing but zod and
// each other.
describe('API contract', () => {
  it('names methods namespace.verb, each with zod input and output, each with a handler', () => {
    expect(METHOD_NAMES.length).toBeGreaterThan(25);
    for (const name of METHOD_NAMES) {
      expect(name).toMatch(/^[a-z]+\.[a-z][A-Za-z]*$/);
      expect(methods[name].input).toBeInstanceOf(z.ZodType);
      expect(methods[name].output).toBeInstanceOf(z.ZodType);
      expect(typeof handlers[name]).toBe('function');
    }
    expect(Object.keys(handlers).sort()).toEqual([...METHOD_NAMES].sort());
  });

  it('covers the screens of DESIGN §4', () => {
    for (const m of [
      'connections.list', 'connections.save', 'connections.test', 'connections.remove',
      'catalog.schemas', 'catalog.tables', 'catalog.describe', 'browse.rows', 'browse.count', 'filter.validate', 'query.cancel',
      'flows.list', 'flows.get', 'flows.save', 'flows.remove', 'flows.plan', 'flows.apply', 'flows.drop',
      'flows.watchStart', 'flows.watchStop', 'flows.watchList', 'demo.status', 'demo.start', 'demo.reset',
      'demo.activityStart', 'demo.activityStop', 'app.info',
    ]) expect(METHOD_NAMES).toContain(m);
    for (const e of ['flow.change', 'flow.listener', 'flow.applyProgress', 'demo.activity']) {
      expect(EVENT_NAMES).toContain(e);
      expect(events[e as keyof typeof events]).toBeInstanceOf(z.ZodType);
    }
  });

  it('never lets a secret through a saved connection', () => {
    const out = methods['connections.list'].output.parse([{ id: 'a', name: 'n', host: 'h', port: 1, database: 'd', user: 'u', sslmode: 'require', hasPassword: true, password: 'x' }]);
    expect(JSON.stringify(out)).not.toContain('password"');
  });

  it('uses the engine error codes plus INVALID_REQUEST and UNKNOWN_METHOD', () => {
    expect([...ENGINE_ERROR_CODES]).toEqual([...ERROR_CODES]);
    expect([...TRANSPORT_ERROR_CODES]).toEqual(['INVALID_REQUEST', 'UNKNOWN_METHOD']);
    expect(apiErrorCode.options).toHaveLength(ERROR_CODES.length + 2);
  });

  it('keeps the renderer-shared files free of anything but zod and contract files', () => {
    const allowed = new Set(['zod', './model', './contract', './errors', './events', '../flow/schema', './names', './contract.inspect', './contract.console', './contract.export', './model.set', '../flow/schema.set']);
    for (const file of ['core/api/contract.ts', 'core/api/events.ts', 'core/api/errors.ts', 'core/api/contract.transport.ts', 'core/api/model.ts', 'core/api/names.ts', 'core/api/contract.inspect.ts', 'core/api/contract.console.ts', 'core/api/contract.export.ts', 'core/api/model.set.ts']) {
      const src = readFileSync(file, 'utf8');
      const imports = [...src.matchAll(/^import\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
      for (const i of imports) expect(allowed, `${file} imports ${i}`).toContain(i);
    }
  });
});
