// From an image path to a live 9P tree: detect → choose the partition and the guest → guest
// assets → boot → mount in the guest → connect. Used by the file commands and by mounts.
import { randomBytes } from 'node:crypto';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { isAlive } from '../mounts/MountRecord.js';
import { join } from 'node:path';
import type { Access } from '@qemount/registry';
import type { Qemount } from '../Qemount.js';
import { QemountError } from '../QemountError.js';
import type { DetectedDisk } from '../detect/types.js';
import type { GuestChoice } from '../guests/chooseGuest.js';
import type { GuestDriver } from '../guests/GuestDriver.js';
import { chooseAccelerator } from '../qemu/accelerator.js';
import { GuestSession, type SessionStep } from './GuestSession.js';
import { selectTarget, type MountTarget, type TargetRequest } from './selectTarget.js';

export type OpenStep = 'detect' | 'guest' | SessionStep;

export interface OpenOptions extends TargetRequest {
  /** Guest id to use instead of the automatic choice. */
  guest?: string;
  access?: Access;
  /** Writes go to a throw-away overlay; the image is never written. */
  snapshot?: boolean;
  transport?: string;
  /** Progress: a step starts (with a detail line once known). */
  onStep?: (step: OpenStep, detail?: string) => void;
  /** Folder for this session's sockets and console log (default: a new one under the state folder). */
  dir?: string;
  /** The image's detection, when the caller has it already. */
  disk?: DetectedDisk;
}

export interface OpenedImage {
  disk: DetectedDisk;
  target: MountTarget;
  choice: GuestChoice;
  guest: string;
  accel: { accel: 'kvm' | 'tcg'; reason: string };
  session: GuestSession;
  /** The session's folder (sockets, console log). */
  dir: string;
}

/**
 * Cleans up after file commands that were killed: a session folder is named after the process
 * that owns it; when that process is gone, its qemu (if still running) is stopped and the folder
 * removed. Folders of finished sessions are kept a day for their console logs.
 */
async function pruneSessions(root: string): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  const dayAgo = Date.now() - 86_400_000;
  await Promise.all(names.map(async (name) => {
    const dir = join(root, name);
    const owner = Number(name.split('-')[0]);
    if (owner && !isAlive(owner)) {
      const qemuPid = Number(await readFile(join(dir, 'qemu.pid'), 'utf8').catch(() => ''));
      const cmdline = qemuPid ? await readFile(`/proc/${qemuPid}/cmdline`, 'utf8').catch(() => '') : '';
      if (cmdline.includes(dir)) process.kill(qemuPid, 'SIGKILL');
    }
    const info = await stat(dir).catch(() => undefined);
    if (info && info.mtimeMs < dayAgo) await rm(dir, { recursive: true, force: true });
  }));
}

export function explainNoGuest(choice: GuestChoice): QemountError {
  const { fs, access } = choice.request;
  const reasons = choice.rejected.filter((r) => !r.why.startsWith('does not support'));
  const why = reasons.length ? reasons.map((r) => `${r.guest} ${r.why}`).join('; ') : `no installed guest supports ${fs}`;
  const hint = choice.request.guest
    ? 'qemount formats   (shows which guest mounts what)'
    : access === 'rw' && reasons.length ? 'mount it read-only (without --rw), or use --snapshot' : 'qemount formats   (shows which guest mounts what)';
  return new QemountError('E_NO_GUEST', `cannot mount ${fs} ${access === 'rw' ? 'read-write' : 'read-only'}: ${why}`, { hint, exitCode: 3 });
}

export async function openImage(core: Qemount, image: string, options: OpenOptions = {}): Promise<OpenedImage> {
  const step = options.onStep ?? (() => {});
  step('detect');
  const disk = options.disk ?? (await core.detect(image));
  const target = selectTarget(core, disk, options);
  const access: Access = options.access ?? 'ro';
  // A snapshot mount writes, but only to qemu's throw-away overlay.
  const readOnly = access === 'ro' && !options.snapshot;
  step('detect', `${target.fs}${target.partition ? ` in partition ${target.partition.index}` : ''} (${disk.container.format})`);

  const guestId = options.guest === undefined ? undefined : core.guest(options.guest).id;
  // A snapshot writes only to an overlay, so a read-only driver would refuse what the user asked.
  const choice = core.chooseGuest({ fs: target.fs, access: options.snapshot ? 'rw' : access, guest: guestId });
  if (!choice.candidates.length) throw explainNoGuest(choice);
  // The best candidate that can boot here: a guest without assets (and no way to build them) yields.
  const unbootable: string[] = [];
  let picked: { candidate: GuestChoice['candidates'][number]; driver: GuestDriver } | undefined;
  for (const candidate of choice.candidates) {
    const driver = await core.guestDriver(candidate.guest);
    if (driver.bootSpec) {
      picked = { candidate, driver };
      break;
    }
    unbootable.push(`${candidate.guest} (${(await driver.assets()).detail})`);
  }
  if (!picked) {
    throw new QemountError('E_GUEST_UNAVAILABLE', `no guest that can mount ${target.fs} can boot on this host: ${unbootable.join('; ')}`, {
      hint: (await (await core.guestDriver(choice.candidates[0].guest)).assets()).fix,
    });
  }
  const { candidate: best, driver } = picked;
  const chosen = `${best.guest}: ${best.reasons.join(', ')}${unbootable.length ? `; skipped ${unbootable.join(', ')}` : ''}`;
  step('guest', chosen);
  // The first use builds the guest's assets: say so while it happens.
  const boot = await driver.bootSpec!(target.fs, { progress: (message) => step('guest', `building guest ${best.guest}: ${message}`) });
  step('guest', chosen);
  const accel = await chooseAccelerator(core.config.accelerator, core.config.cacheDir, await driver.probeKernel?.());

  const sessions = join(core.config.stateDir, 'sessions');
  await pruneSessions(sessions);
  const dir = options.dir ?? join(sessions, `${process.pid}-${randomBytes(3).toString('hex')}`);
  const session = await GuestSession.start(core, {
    guest: best.guest,
    fs: target.fs,
    support: best.support,
    boot,
    // A driver that must open its device for writing gets an overlay on read-only mounts.
    disk: { image: disk.image, format: disk.container.qemuDriver, offset: target.offset, size: target.size, readOnly, snapshot: Boolean(options.snapshot) || (readOnly && Boolean(best.support.writableDevice)) },
    readOnly,
    accel: accel.accel,
    transport: options.transport ?? core.config.transport,
    dir,
    memoryMiB: core.config.memory,
    onStep: (s) => step(s),
  });
  return { disk, target, choice, guest: best.guest, accel, session, dir };
}
