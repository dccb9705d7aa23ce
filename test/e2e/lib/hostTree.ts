// Reads a host folder (what `qemount cp -r` wrote) as entries comparable with the source tree.
import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceEntry } from '../../images/corpus.ts';

export type FoundEntry =
  | { path: string; type: 'dir' }
  | { path: string; type: 'file'; size: number; sha256: string }
  | { path: string; type: 'symlink'; target: string };

export async function readHostTree(dir: string, relative = ''): Promise<FoundEntry[]> {
  const out: FoundEntry[] = [];
  for (const name of (await readdir(join(dir, relative))).sort()) {
    const path = relative ? `${relative}/${name}` : name;
    const info = await lstat(join(dir, path));
    if (info.isSymbolicLink()) out.push({ path, type: 'symlink', target: await readlink(join(dir, path)) });
    else if (info.isDirectory()) {
      out.push({ path, type: 'dir' });
      out.push(...(await readHostTree(dir, path)));
    } else {
      const data = await readFile(join(dir, path));
      out.push({ path, type: 'file', size: data.length, sha256: createHash('sha256').update(data).digest('hex') });
    }
  }
  return out;
}

/** Names a filesystem adds on its own (not content): left out of comparisons. */
const fsOwn = new Set(['lost+found', '.nilfs']);

/** Differences between what a mount showed and what the source says, one line each ([] = equal). */
export function compareTrees(found: FoundEntry[], expected: SourceEntry[]): string[] {
  const problems: string[] = [];
  const seen = new Map(found.filter((f) => !fsOwn.has(f.path.split('/')[0])).map((f) => [f.path.normalize('NFC'), f]));
  for (const want of expected) {
    const got = seen.get(want.path.normalize('NFC'));
    seen.delete(want.path.normalize('NFC'));
    if (!got) problems.push(`missing: ${want.path}`);
    else if (got.type !== want.type) problems.push(`${want.path}: a ${got.type}, expected a ${want.type}`);
    else if (want.type === 'file' && got.type === 'file') {
      if (got.size !== want.size) problems.push(`${want.path}: ${got.size} bytes, expected ${want.size}`);
      else if (got.sha256 !== want.sha256) problems.push(`${want.path}: content differs (sha256 ${got.sha256.slice(0, 12)}…)`);
    } else if (want.type === 'symlink' && got.type === 'symlink' && got.target !== want.target) {
      problems.push(`${want.path}: links to ${got.target}, expected ${want.target}`);
    }
  }
  for (const extra of seen.keys()) problems.push(`unexpected: ${extra}`);
  return problems;
}
