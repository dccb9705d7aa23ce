// Simple detection rules as data: the catalogue's "magic" rules (every check of a rule must match;
// any rule of a format may). Used for formats that no code prober covers.
import type { MagicRule } from '@qemount/registry';
import type { Reader } from './BlockSource.js';

export interface MagicFormat {
  /** Catalogue id. */
  id: string;
  magic: MagicRule[];
}

export async function matchMagic(r: Reader, formats: MagicFormat[]): Promise<string[]> {
  const found: string[] = [];
  for (const format of formats) {
    for (const rule of format.magic) {
      let ok = rule.checks.length > 0;
      for (const check of rule.checks) {
        const want = check.hex !== undefined ? Buffer.from(check.hex, 'hex') : Buffer.from(check.string ?? '', 'latin1');
        if (!want.length || check.offset + want.length > r.size || !(await r.bytes(check.offset, want.length)).equals(want)) {
          ok = false;
          break;
        }
      }
      if (ok) {
        found.push(format.id);
        break;
      }
    }
  }
  return found;
}
