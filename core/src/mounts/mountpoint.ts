// Checks on a mountpoint before mounting, and whether something is mounted there now.
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { QemountError } from '../QemountError.js';

/** Mount points from /proc/mounts (octal escapes decoded). */
export async function mountedPaths(): Promise<Map<string, string>> {
  const text = await readFile('/proc/mounts', 'utf8').catch(() => '');
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return new Map(text.split('\n').filter(Boolean).map((line) => {
    const [source, target, type] = line.split(' ');
    return [unescape(target), `${unescape(source)} (${type})`] as const;
  }));
}

export async function isMounted(path: string): Promise<boolean> {
  return (await mountedPaths()).has(path);
}

/** The mountpoint as an absolute real path, or a clear error: missing, not a folder, busy, not empty. */
export async function checkMountpoint(path: string): Promise<string> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOTCONN') {
      throw new QemountError('E_MOUNTPOINT_STALE', `${path} is a dead mount (its process is gone)`, { hint: `qemount unmount --force ${path}`, exitCode: 2 });
    }
    throw new QemountError('E_MOUNTPOINT_MISSING', `mountpoint ${path} does not exist`, { hint: `mkdir -p ${path}`, exitCode: 2 });
  });
  if (!info.isDirectory()) throw new QemountError('E_MOUNTPOINT_NOT_DIR', `mountpoint ${path} is not a directory`, { exitCode: 2 });
  const real = await realpath(path);
  const busy = (await mountedPaths()).get(real);
  if (busy) {
    throw new QemountError('E_MOUNTPOINT_BUSY', `${real} is already a mount point (of ${busy})`, {
      hint: `unmount it first (qemount unmount ${real}, or umount ${real}), or choose another folder`,
      exitCode: 2,
    });
  }
  if ((await readdir(real)).length) {
    throw new QemountError('E_MOUNTPOINT_NOT_EMPTY', `mountpoint ${real} is not empty: mounting would hide its files`, { hint: 'mount on an empty folder', exitCode: 2 });
  }
  return real;
}
