// One mount, in this process: the image opened in a guest, its 9P tree exposed by a frontend,
// a record for `list`/`unmount`/`logs`, the image's write lock when read-write. Ends with
// close(): frontend detached, guest synced and powered off, record and lock removed.
import { randomBytes } from 'node:crypto';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import type { Access } from '@qemount/registry';
import type { FrontendHandle, MountContext, Qemount } from '../Qemount.js';
import { QemountError } from '../QemountError.js';
import { openImage, type OpenedImage, type OpenStep } from '../session/openImage.js';
import { extentReadsFor } from '../extents/extentReadsFor.js';
import type { ExtentReads } from '../extents/ExtentReads.js';
import { lockImage, type ImageLock } from './imageLock.js';
import { checkMountpoint } from './mountpoint.js';
import { mountsDir, removeMountDir, writeRecord, type MountRecord } from './MountRecord.js';

export type MountStep = OpenStep | 'frontend';

export interface MountOptions {
  part?: number;
  fs?: string;
  guest?: string;
  transport?: string;
  frontend?: string;
  /** Read-write (default: read-only). */
  rw?: boolean;
  /** Writes go to a throw-away overlay; the image is never written. */
  snapshot?: boolean;
  onStep?: (step: MountStep, detail?: string) => void;
  /** The mount's log (the background process's daemon.log): decisions worth knowing later. */
  log?: (line: string) => void;
  /** Where the mount's folder goes (default: a new one under the state folder). */
  dir?: string;
  /** When the command started (for readyMs). */
  startedAt?: number;
}

export class Mount {
  private closing?: Promise<void>;

  private constructor(
    private readonly core: Qemount,
    readonly record: MountRecord,
    readonly opened: OpenedImage,
    private readonly frontend: FrontendHandle,
    private readonly lock: ImageLock | undefined,
    private readonly context: MountContext,
    private readonly extents: ExtentReads | undefined,
  ) {
    // The guest may die under the mount: the frontend already answers EIO; say so in the record.
    opened.session.exited.then((exit) => {
      if (this.closing) return;
      const reason = exit.signal ? `qemu was killed (${exit.signal})` : `qemu exited with code ${exit.code}`;
      this.record.dead = { reason, at: new Date().toISOString() };
      writeRecord(this.record).catch(() => {});
      core.hooks.failed.promise(new QemountError('E_GUEST_DIED', `the guest of ${record.mountpoint} stopped: ${reason}`), { mount: record }).catch(() => {});
    });
  }

  static async start(core: Qemount, image: string, mountpoint: string, options: MountOptions = {}): Promise<Mount> {
    const startedAt = options.startedAt ?? Date.now();
    const step = options.onStep ?? (() => {});
    const target = await checkMountpoint(mountpoint);
    const accessMode: Access = options.rw ? 'rw' : 'ro';
    const transport = options.transport ?? core.config.transport;
    const frontendId = options.frontend ?? core.config.frontend;
    const disk = await core.detect(image);
    if (accessMode === 'rw') {
      await access(disk.image, constants.W_OK).catch(() => {
        throw new QemountError('E_IMAGE_READONLY', `cannot mount ${disk.image} read-write: the file is not writable by this user`, {
          hint: 'mount it read-only (without --rw), use --snapshot to write to a throw-away overlay, or fix its permissions',
          exitCode: 2,
        });
      });
    }
    const id = `${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
    const dir = options.dir ?? join(mountsDir(core.config.stateDir), id);
    const lock = accessMode === 'rw' ? await lockImage(core.config.stateDir, disk.image, `on ${target}, process ${process.pid}`) : undefined;
    let opened: OpenedImage | undefined;
    let extents: ExtentReads | undefined;
    try {
      const context: MountContext = { image: disk.image, guest: options.guest ?? '', fs: options.fs ?? '', readOnly: accessMode === 'ro', mountpoint: target };
      await core.hooks.beforeMount.promise(context);
      opened = await openImage(core, disk.image, { disk, part: options.part, fs: options.fs, guest: options.guest, access: accessMode, snapshot: options.snapshot, transport, dir, onStep: step });
      Object.assign(context, { guest: opened.guest, fs: opened.target.fs });
      step('frontend');
      await core.use(core.frontendPlugin(frontendId).name);
      extents = extentReadsFor(opened.session, options.log ?? (() => {}));
      const frontend = await core.hooks.frontend.get(frontendId)?.promise({
        mountpoint: target,
        fs: opened.session.fs,
        readOnly: accessMode === 'ro' && !options.snapshot,
        source: `qemount:${disk.image}${opened.target.partition ? `:${opened.target.partition.index}` : ''}`,
        extents,
      });
      if (!frontend) throw new QemountError('E_FRONTEND', `frontend ${frontendId} did not mount ${target}`, { plugin: core.frontendPlugin(frontendId).name, hook: 'frontend' });
      const record: MountRecord = {
        id, image: disk.image, mountpoint: target, pid: process.pid, qemuPid: opened.session.pid,
        guest: opened.guest, fs: opened.target.fs, part: opened.target.partition?.index, access: accessMode,
        snapshot: Boolean(options.snapshot), transport, frontend: frontendId, dir,
        consoleLog: opened.session.consoleLog, daemonLog: join(dir, 'daemon.log'),
        startedAt: new Date(startedAt).toISOString(), readyMs: Date.now() - startedAt,
      };
      await writeRecord(record);
      await core.hooks.afterMount.promise(context);
      return new Mount(core, record, opened, frontend, lock, context, extents);
    } catch (error) {
      await extents?.close();
      await opened?.session.shutdown().catch(() => {});
      await lock?.release();
      // Keep the folder when the guest was started: its console log explains the failure.
      if (!opened) await removeMountDir(dir);
      throw error;
    }
  }

  /**
   * Detaches the frontend, syncs and powers off the guest, removes the record and the lock. If
   * the mountpoint is busy (files open) nothing is torn down and the error says so.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.frontend.close();
      } catch (error) {
        this.closing = undefined;
        throw new QemountError('E_MOUNTPOINT_BUSY', `cannot unmount ${this.record.mountpoint}: ${(error as Error).message}`, {
          cause: error,
          hint: `close what uses it (fuser -vm ${this.record.mountpoint} lists it), or qemount unmount --force ${this.record.mountpoint}`,
        });
      }
      try {
        await this.extents?.close();
        await this.core.hooks.unmount.promise(this.context);
        await this.opened.session.shutdown();
      } finally {
        await this.lock?.release();
        await removeMountDir(this.record.dir);
      }
    })();
    return this.closing;
  }
}
