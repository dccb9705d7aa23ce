// What qemount knows about a running mount, kept as <stateDir>/mounts/<id>/state.json so that
// `list`, `unmount` and `logs` (other processes) can find it.
import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Access } from '@qemount/registry';

export interface MountRecord {
  id: string;
  image: string;
  mountpoint: string;
  /** The process serving the mount (FUSE, 9P, the guest's qemu as its child). */
  pid: number;
  qemuPid: number;
  guest: string;
  fs: string;
  part?: number;
  access: Access;
  snapshot: boolean;
  transport: string;
  frontend: string;
  /** The mount's folder: sockets, logs, this record. */
  dir: string;
  consoleLog: string;
  daemonLog: string;
  startedAt: string;
  /** Milliseconds from the command's start to a usable mount. */
  readyMs: number;
  /** Set when the guest stopped while mounted: operations now fail with EIO. */
  dead?: { reason: string; at: string };
  /** Why the last unmount request failed (e.g. the mountpoint was busy). */
  unmountError?: string;
}

export const mountsDir = (stateDir: string) => join(stateDir, 'mounts');
const recordFile = (dir: string) => join(dir, 'state.json');

export async function writeRecord(record: MountRecord): Promise<void> {
  await mkdir(record.dir, { recursive: true });
  const tmp = `${recordFile(record.dir)}.${process.pid}`;
  await writeFile(tmp, JSON.stringify(record, null, 2) + '\n');
  await rename(tmp, recordFile(record.dir));
}

export async function readRecord(dir: string): Promise<MountRecord | undefined> {
  try {
    return JSON.parse(await readFile(recordFile(dir), 'utf8')) as MountRecord;
  } catch {
    return undefined;
  }
}

/** Every mount folder's record (folders without one are mounts still starting, or debris). */
export async function readAllRecords(stateDir: string): Promise<{ dir: string; record?: MountRecord }[]> {
  const root = mountsDir(stateDir);
  const names = await readdir(root).catch(() => [] as string[]);
  return Promise.all(names.map(async (name) => ({ dir: join(root, name), record: await readRecord(join(root, name)) })));
}

export async function removeMountDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Whether a process runs (a zombie, exited but not yet reaped by its new parent, does not). */
export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // /proc/PID/stat: "pid (comm) STATE ..."; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}
