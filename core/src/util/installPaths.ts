// Where this installation lives, found from this module's own location: the nearest folder above
// it with a package.json is core's, whether this code runs from src/ or bundled in dist/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findCoreRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
  }
}

/** core's folder (holding its package.json). */
export const coreRoot = findCoreRoot();
/** The folder holding core/ and plugins/ (the qemount installation). */
export const installRoot = dirname(coreRoot);
