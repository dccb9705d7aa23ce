// list, unmount and logs: they read the mount records other processes wrote, check that those
// processes still live, and clean up what a killed process left behind.
import { readFile, realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Qemount } from '../Qemount.js';
import { QemountError } from '../QemountError.js';
import { detachMountpoint } from './detachMountpoint.js';
import { releaseImageLock } from './imageLock.js';
import { isMounted } from './mountpoint.js';
import { isAlive, readAllRecords, readRecord, removeMountDir, type MountRecord } from './MountRecord.js';

export type MountStatus = 'mounted' | 'guest-dead' | 'stale';

export interface ListedMount extends MountRecord {
  status: MountStatus;
}

function statusOf(record: MountRecord): MountStatus {
  if (!isAlive(record.pid)) return 'stale';
  if (record.dead || !isAlive(record.qemuPid)) return 'guest-dead';
  return 'mounted';
}

/** Removes everything a mount whose process is gone left: the FUSE mount, qemu, the lock, the folder. */
async function cleanUp(stateDir: string, record: MountRecord): Promise<void> {
  if (isAlive(record.pid)) process.kill(record.pid, 'SIGKILL');
  if (isAlive(record.qemuPid)) process.kill(record.qemuPid, 'SIGKILL');
  await detachMountpoint(record.mountpoint);
  if (record.access === 'rw') await releaseImageLock(stateDir, record.image);
  await removeMountDir(record.dir);
}

/** Every mount, after removing those left by killed processes (stale ones are cleaned up, not listed). */
export async function listMounts(core: Qemount): Promise<ListedMount[]> {
  const out: ListedMount[] = [];
  for (const { dir, record } of await readAllRecords(core.config.stateDir)) {
    if (!record) continue; // starting, or a failed mount's folder kept for its log
    const status = statusOf(record);
    if (status === 'stale') await cleanUp(core.config.stateDir, record).catch(() => {});
    else out.push({ ...record, dir, status });
  }
  return out;
}

async function findRecord(core: Qemount, mountpoint: string): Promise<MountRecord | undefined> {
  const wanted = new Set([resolve(mountpoint), await realpath(mountpoint).catch(() => resolve(mountpoint))]);
  for (const { record } of await readAllRecords(core.config.stateDir)) if (record && wanted.has(record.mountpoint)) return record;
  return undefined;
}

const notMounted = (path: string) =>
  new QemountError('E_NOT_MOUNTED', `nothing is mounted by qemount on ${path}`, { hint: 'qemount list   (shows what is mounted)', exitCode: 2 });

export async function findMount(core: Qemount, mountpoint: string): Promise<MountRecord> {
  const record = await findRecord(core, mountpoint);
  if (!record) throw notMounted(resolve(mountpoint));
  return record;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface UnmountOptions {
  /** Kill what does not stop, detach the mountpoint lazily, remove the state. */
  force?: boolean;
  timeoutMs?: number;
}

export async function unmount(core: Qemount, mountpoint: string, options: UnmountOptions = {}): Promise<{ mountpoint: string; how: 'clean' | 'forced' }> {
  const record = await findRecord(core, mountpoint);
  if (!record) {
    // No record, but maybe a dead mount (state folder wiped): --force still detaches it.
    const path = resolve(mountpoint);
    if (options.force && (await isMounted(path))) {
      await detachMountpoint(path);
      return { mountpoint: path, how: 'forced' };
    }
    throw notMounted(path);
  }
  if (options.force || statusOf(record) === 'stale') {
    await cleanUp(core.config.stateDir, record);
    return { mountpoint: record.mountpoint, how: 'forced' };
  }
  // The mount's process unmounts, syncs and powers the guest off on SIGTERM, then exits.
  process.kill(record.pid, 'SIGTERM');
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (!isAlive(record.pid)) return { mountpoint: record.mountpoint, how: 'clean' };
    const now = await readRecord(record.dir);
    if (now?.unmountError) {
      throw new QemountError('E_MOUNTPOINT_BUSY', now.unmountError, {
        hint: `close what uses it (fuser -vm ${record.mountpoint}), or qemount unmount --force ${record.mountpoint}`,
        exitCode: 2,
      });
    }
    await sleep(100);
  }
  throw new QemountError('E_UNMOUNT_TIMEOUT', `the mount process ${record.pid} did not finish unmounting ${record.mountpoint} in time`, {
    hint: `qemount unmount --force ${record.mountpoint}`,
  });
}

/** The guest's console log and the mount process's own log. */
export async function mountLogs(core: Qemount, mountpoint: string): Promise<{ console: string; daemon: string; record: MountRecord }> {
  const record = await findMount(core, mountpoint);
  const [consoleText, daemon] = await Promise.all([readFile(record.consoleLog, 'utf8').catch(() => ''), readFile(record.daemonLog, 'utf8').catch(() => '')]);
  return { console: consoleText, daemon, record };
}
