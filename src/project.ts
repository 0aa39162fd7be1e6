// Where Kindling is installed and which version it is: both read from its package.json, found above this file (src/ or dist/src/).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KindlingError } from './errors.js';

interface PackageJson {
  readonly name?: string;
  readonly version?: string;
}

let found: { readonly root: string; readonly pkg: PackageJson } | null = null;

function findPackage(): { readonly root: string; readonly pkg: PackageJson } {
  if (found) return found;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
      if (pkg.name === 'kindling') return (found = { root: dir, pkg });
    }
    const parent = dirname(dir);
    if (parent === dir) throw new KindlingError('NO_ROOT', "cannot find Kindling's package.json above " + import.meta.url);
    dir = parent;
  }
}

/** The project root: the nearest folder above this file with Kindling's package.json. */
export function projectRoot(): string {
  return findPackage().root;
}

/** Kindling's version, as package.json states it. */
export function kindlingVersion(): string {
  return findPackage().pkg.version ?? 'unknown';
}
