// Exposes a P9Fs on a host mountpoint through FUSE (fuse-native): mounts, and returns the handle
// whose close() unmounts. Read-only mounts are mounted `ro` and refuse every write with EROFS.
import { stat } from 'node:fs/promises';
import { QemountError, type FrontendHandle, type FrontendRequest } from '@qemount/core';
import { P9FuseOperations } from './P9FuseOperations.js';
import { QemountFuse } from './QemountFuse.js';
import { canonicalMountpoint, forceUnmount, fuseMountsAt, unmountFuse } from './unmount.js';

export interface FuseMountOptions {
  /**
   * How long attributes, directory listings and symlink targets are cached, by us and by the
   * kernel (default: 5000 ms read-only, 1000 ms read-write; 0 disables caching).
   */
  cacheMs?: number;
  /** A single FUSE operation that takes longer is answered ETIMEDOUT (default 120000 ms; 0: never). */
  operationTimeoutMs?: number;
  /** Give up when the kernel has not started the filesystem after this long (default 15000 ms). */
  mountTimeoutMs?: number;
  /** Let other users than the one mounting in (needs user_allow_other in /etc/fuse.conf unless root). */
  allowOther?: boolean;
  /** libfuse's debug output (every request) on stderr. */
  debug?: boolean;
  /** Told about failures that are not 9P errors (answered EIO). */
  onError?: (op: string, path: string, error: unknown) => void;
}

export interface FuseMountHandle extends FrontendHandle {
  /** The canonical mountpoint (as the mount table shows it). */
  readonly mountpoint: string;
  readonly readOnly: boolean;
  /** Unmounts (retrying while busy, lazily as the last resort); resolves once detached. */
  close(): Promise<void>;
}

const MAX_IO = 128 * 1024;

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Refuses a missing or non-directory mountpoint; clears a dead FUSE mount left on it. */
async function prepareMountpoint(mountpoint: string): Promise<void> {
  if ((await fuseMountsAt(mountpoint)).length) {
    const alive = await Promise.race([
      stat(mountpoint).then(() => true, (error) => errorCode(error) !== 'ENOTCONN' && errorCode(error) !== 'ECONNABORTED'),
      new Promise<boolean>((r) => setTimeout(() => r(true), 2000).unref()),
    ]);
    if (alive) {
      throw new QemountError('E_MOUNTPOINT_BUSY', `${mountpoint} is already a FUSE mount point`, {
        plugin: 'frontend-fuse', hint: `qemount unmount ${JSON.stringify(mountpoint)}   (or choose another mountpoint)`,
      });
    }
    await forceUnmount(mountpoint);
  }
  let st;
  try {
    st = await stat(mountpoint);
  } catch (error) {
    throw new QemountError('E_MOUNTPOINT', `the mountpoint ${mountpoint} cannot be used: ${(error as Error).message}`, {
      plugin: 'frontend-fuse', cause: error, hint: errorCode(error) === 'ENOENT' ? `mkdir -p ${JSON.stringify(mountpoint)}` : undefined,
    });
  }
  if (!st.isDirectory()) throw new QemountError('E_MOUNTPOINT', `the mountpoint ${mountpoint} is not a directory`, { plugin: 'frontend-fuse' });
}

function mountError(error: Error, mountpoint: string): QemountError {
  const message = error.message === 'fuse failed'
    ? `FUSE refused to mount ${mountpoint} (libfuse's own message is on stderr)`
    : `cannot mount ${mountpoint}: ${error.message}`;
  return new QemountError('E_FUSE_MOUNT', message, {
    plugin: 'frontend-fuse', cause: error,
    hint: error.message === 'Mountpoint in use' ? `something is mounted on ${mountpoint} already` : 'qemount doctor   (checks /dev/fuse and fusermount3)',
  });
}

/** Mounts `request.fs` on `request.mountpoint` (an existing directory) and returns its handle. */
export async function mountFuse(request: FrontendRequest, options: FuseMountOptions = {}): Promise<FuseMountHandle> {
  const mountpoint = await canonicalMountpoint(request.mountpoint);
  await prepareMountpoint(mountpoint);
  const readOnly = request.readOnly;
  const cacheMs = options.cacheMs ?? (readOnly ? 5000 : 1000);
  const seconds = cacheMs / 1000;
  const operations = new P9FuseOperations(request.fs, {
    readOnly, cacheMs, timeoutMs: options.operationTimeoutMs ?? 120_000, onError: options.onError, extents: request.extents,
  });
  const fuse = new QemountFuse(mountpoint, operations.operations(), {
    readOnly, fsname: request.source, subtype: 'qemount',
    attrTimeout: seconds, entryTimeout: seconds, negativeTimeout: readOnly ? seconds : 0,
    maxIo: MAX_IO, allowOther: options.allowOther ?? false, debug: options.debug ?? false,
  });

  // Resolves when the kernel has sent FUSE_INIT (fuse-native's mount callback).
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      new Promise<void>((resolve, reject) => fuse.mount((error) => (error ? reject(mountError(error, mountpoint)) : resolve()))),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new QemountError('E_FUSE_MOUNT', `FUSE did not start on ${mountpoint} within ${options.mountTimeoutMs ?? 15000} ms`, { plugin: 'frontend-fuse' })), options.mountTimeoutMs ?? 15000);
      }),
    ]);
  } catch (error) {
    await forceUnmount(mountpoint).catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }

  const mountId = (await fuseMountsAt(mountpoint)).at(-1)?.id;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await unmountFuse(mountpoint, { mountId });
      } catch (error) {
        closing = undefined; // still mounted: let the caller try again
        throw error;
      }
      // Detached: release fuse-native's side and the files the kernel no longer holds.
      await new Promise<void>((resolve) => fuse.unmount(() => resolve()));
      await operations.closeAll();
    })();
    return closing;
  };

  return { mountpoint, readOnly, close };
}
