// `qemount cp`: copies a file or a tree out of a guest's 9P tree onto the host, keeping symlinks,
// permission bits and modification times.
import { createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, symlink, utimes } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { P9Fs } from '../p9/P9Fs.js';
import type { P9Stat } from '../p9/stat.js';
import { QemountError } from '../QemountError.js';

export interface CopyOptions {
  recursive?: boolean;
  /** Called after each file, directory or link is written. */
  onCopied?: (hostPath: string, stat: P9Stat) => void;
}

export interface CopyTotals {
  files: number;
  directories: number;
  links: number;
  bytes: number;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isDirectory() ?? false;
}

export async function copyOut(fs: P9Fs, source: string, dest: string, options: CopyOptions = {}): Promise<CopyTotals> {
  const totals: CopyTotals = { files: 0, directories: 0, links: 0, bytes: 0 };
  const top = await fs.stat(source);
  if (top.kind === 'directory' && !options.recursive) {
    throw new QemountError('E_IS_DIRECTORY', `${source} is a directory`, { hint: 'add -r to copy a directory and everything in it', exitCode: 2 });
  }
  // cp semantics: into an existing directory, keep the source's name.
  const target = (await isDirectory(dest)) ? join(dest, basename(source) || 'root') : dest;
  const copy = async (from: string, to: string, st: P9Stat): Promise<void> => {
    switch (st.kind) {
      case 'directory': {
        await mkdir(to, { recursive: true });
        const entries = (await fs.readdir(from, { stats: true })).filter((e) => e.name !== '.' && e.name !== '..');
        for (const e of entries) await copy(posix.join(from, e.name), join(to, e.name), e.stat!);
        totals.directories++;
        break;
      }
      case 'symlink':
        await symlink(await fs.readlink(from), to);
        totals.links++;
        options.onCopied?.(to, st);
        return; // a link's own times and mode are not worth an lutimes
      case 'file':
        await pipeline(fs.createReadStream(from), createWriteStream(to, { mode: st.mode & 0o7777 }));
        totals.files++;
        totals.bytes += st.size;
        break;
      default:
        // Devices, FIFOs and sockets are not data: skip them rather than fail the whole copy.
        return;
    }
    await chmod(to, st.mode & 0o7777);
    await utimes(to, st.atimeMs / 1000, st.mtimeMs / 1000);
    options.onCopied?.(to, st);
  };
  await copy(source, target, top);
  return totals;
}
