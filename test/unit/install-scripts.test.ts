// npm skips the dependencies' install scripts (package.json allowScripts): what they would have set up must work without them.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { isNativeAccelerationEnabled } from 'msgpackr';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
/** The path of a package's file if npm installed that package for this machine, else null. */
function installed(request: string, from?: string): string | null {
  try {
    return require.resolve(request, from ? { paths: [require.resolve(from)] } : undefined);
  } catch {
    return null;
  }
}

describe('dependencies whose install scripts npm skips', () => {
  const platform = `${process.platform}-${process.arch}`;

  it.skipIf(installed(`@msgpackr-extract/msgpackr-extract-${platform}/package.json`, 'msgpackr-extract') === null)(
    "msgpackr's native accelerator is enabled from its prebuilt platform package",
    () => {
      expect(isNativeAccelerationEnabled).toBe(true);
    },
  );

  it.skipIf(installed('@bufbuild/buf/package.json') === null)('buf (npm run proto) runs from its platform package', () => {
    const r = spawnSync(process.execPath, [require.resolve('@bufbuild/buf/bin/buf'), '--version'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
