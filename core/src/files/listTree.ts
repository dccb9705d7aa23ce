// Directory listings over 9P for `qemount ls`.
import { posix } from 'node:path';
import type { P9Fs } from '../p9/P9Fs.js';
import type { P9FileKind } from '../p9/stat.js';

export interface ListedEntry {
  /** Path relative to the listed directory (just the name unless recursive). */
  path: string;
  kind: P9FileKind;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtimeMs: number;
  /** Symlink target. */
  target?: string;
}

export async function listTree(fs: P9Fs, dir: string, options: { recursive?: boolean } = {}): Promise<ListedEntry[]> {
  const top = await fs.stat(dir);
  if (top.kind !== 'directory') {
    const target = top.kind === 'symlink' ? await fs.readlink(dir) : undefined;
    return [{ path: posix.basename(dir), kind: top.kind, size: top.size, mode: top.mode, uid: top.uid, gid: top.gid, nlink: top.nlink, mtimeMs: top.mtimeMs, target }];
  }
  const out: ListedEntry[] = [];
  const visit = async (relative: string): Promise<void> => {
    const entries = (await fs.readdir(posix.join(dir, relative), { stats: true })).filter((e) => e.name !== '.' && e.name !== '..');
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const targets = await Promise.all(entries.map((e) => (e.kind === 'symlink' ? fs.readlink(posix.join(dir, relative, e.name)) : undefined)));
    entries.forEach((e, i) => {
      const st = e.stat!;
      out.push({ path: posix.join(relative, e.name), kind: e.kind, size: st.size, mode: st.mode, uid: st.uid, gid: st.gid, nlink: st.nlink, mtimeMs: st.mtimeMs, target: targets[i] });
    });
    if (options.recursive) {
      for (const e of entries) if (e.kind === 'directory') await visit(posix.join(relative, e.name));
    }
  };
  await visit('');
  return out;
}
