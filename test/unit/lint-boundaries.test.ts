import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

// The folder boundaries of DESIGN §1 live in eslint.config.js: a wrong import must fail lint, so it
// fails CI instead of waiting for review. Lint virtual files at the real paths and check the rule fires.
const eslint = new ESLint({ cwd: process.cwd() });

async function importErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('lint enforces the folder boundaries', () => {
  it('core/ may not import Electron or React', async () => {
    expect(await importErrors('core/source/x.ts', `import { app } from 'electron';\nexport const a = app;\n`)).toHaveLength(1);
    expect(await importErrors('core/target/x.ts', `import React from 'react';\nexport const r = React;\n`)).toHaveLength(1);
    expect(await importErrors('core/live/x.ts', `import { create } from 'zustand';\nexport const c = create;\n`)).toHaveLength(1);
  });
  it('renderer/ may not import pg, Node built-ins, or core/ beyond the contract', async () => {
    expect(await importErrors('renderer/src/x.ts', `import pg from 'pg';\nexport const p = pg;\n`)).toHaveLength(1);
    expect(await importErrors('renderer/src/x.ts', `import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n`)).toHaveLength(1);
    expect(await importErrors('renderer/src/x.ts', `import { readFileSync } from 'fs';\nexport const r = readFileSync;\n`)).toHaveLength(1);
    expect(await importErrors('renderer/src/x.ts', `import { resolveSource } from '../../core/source';\nexport const r = resolveSource;\n`)).toHaveLength(1);
  });
  it('allows what belongs: pg in core/, the contract in renderer/', async () => {
    expect(await importErrors('core/source/x.ts', `import pg from 'pg';\nexport const p = pg;\n`)).toEqual([]);
    expect(await importErrors('renderer/src/x.ts', `import type { Plan } from '../../core/api/model';\nexport type P = Plan;\n`)).toEqual([]);
    expect(await importErrors('renderer/src/x.ts', `import { captureNames } from '../../core/api/names';\nexport const c = captureNames;\n`)).toEqual([]);
  });
  it('the contract shared with the renderer may not import Node or engine code', async () => {
    expect(await importErrors('core/api/contract.ts', `import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n`)).toHaveLength(1);
    expect(await importErrors('core/api/events.ts', `import pg from 'pg';\nexport const p = pg;\n`)).toHaveLength(1);
  });
});
