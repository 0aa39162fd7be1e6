// npm 11 skips msgpackr-extract's install script (package.json allowScripts): its prebuilt binary must still load.
import { createRequire } from 'node:module';
import { isNativeAccelerationEnabled } from 'msgpackr';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
/** The platform package holding msgpackr-extract's prebuilt binary, if npm installed one for this machine. */
function prebuilt(): string | null {
  try {
    return require.resolve(`@msgpackr-extract/msgpackr-extract-${process.platform}-${process.arch}/package.json`, { paths: [require.resolve('msgpackr-extract')] });
  } catch {
    return null;
  }
}

describe('msgpackr native accelerator', () => {
  it.skipIf(prebuilt() === null)('is enabled from the prebuilt package, without the install script npm skipped', () => {
    expect(isNativeAccelerationEnabled).toBe(true);
  });
});
