// Detaches whatever is mounted at a path, even a dead FUSE mount whose process is gone
// ("Transport endpoint is not connected"): lazily, so open files cannot block it.
import { execa } from 'execa';
import { isMounted } from './mountpoint.js';

export async function detachMountpoint(path: string): Promise<void> {
  if (!(await isMounted(path))) return;
  const attempts: [string, string[]][] = process.getuid?.() === 0
    ? [['umount', ['-l', path]], ['fusermount3', ['-uz', path]], ['fusermount', ['-uz', path]]]
    : [['fusermount3', ['-uz', path]], ['fusermount', ['-uz', path]]];
  const errors: string[] = [];
  for (const [command, args] of attempts) {
    const run = await execa(command, args, { reject: false, all: true });
    if (!(await isMounted(path))) return;
    errors.push(`${command}: ${String(run.all ?? '').trim() || `exit ${run.exitCode}`}`);
  }
  throw new Error(`cannot detach ${path}: ${errors.join('; ')}`);
}
