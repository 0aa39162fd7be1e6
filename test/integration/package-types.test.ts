// `import { col, … } from 'kindling'` comes with types: a TypeScript query module type-checks, a misspelt method does not.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const TSC = resolve('node_modules/.bin/tsc');
const typeCheck = (name: string) => spawnSync(TSC, ['-p', `test/fixtures/typed-query/tsconfig.${name}.json`], { encoding: 'utf8' });

describe("the package's types (declarations emitted by the build)", () => {
  it("README's query, written in TypeScript, type-checks against 'kindling'", () => {
    const r = typeCheck('good');
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('a misspelt builder method is a type error, named with its fix', () => {
    const r = typeCheck('bad');
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain("Property 'filtr' does not exist on type 'DataFrame'. Did you mean 'filter'?");
  });
});
