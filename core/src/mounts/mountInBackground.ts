// `qemount mount` without --foreground: start the mount's own process (daemon.ts), follow its
// progress, and return once the mount is usable; the process stays behind, detached.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Qemount } from '../Qemount.js';
import { QemountError } from '../QemountError.js';
import type { DaemonMessage, DaemonRequest } from './daemon.js';
import type { MountOptions, MountStep } from './Mount.js';
import { mountsDir, removeMountDir, type MountRecord } from './MountRecord.js';

const daemonScript = fileURLToPath(new URL('./daemon.js', import.meta.url));

export async function mountInBackground(core: Qemount, image: string, mountpoint: string, options: MountOptions = {}): Promise<MountRecord> {
  const id = `${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const dir = join(mountsDir(core.config.stateDir), id);
  await mkdir(dir, { recursive: true });
  const daemonLog = join(dir, 'daemon.log');
  const log = await open(daemonLog, 'a');
  const { onStep, ...rest } = options;
  const request: DaemonRequest = { image, mountpoint, options: { ...rest, dir, startedAt: options.startedAt ?? Date.now() }, configFile: core.config.file, cwd: process.cwd() };
  const child = fork(daemonScript, [JSON.stringify(request)], { detached: true, stdio: ['ignore', log.fd, log.fd, 'ipc'] });
  await log.close();
  try {
    return await new Promise<MountRecord>((resolve, reject) => {
      child.on('message', (message: DaemonMessage) => {
        if (message.type === 'step') onStep?.(message.step as MountStep, message.detail);
        else if (message.type === 'mounted') resolve(message.record);
        else if (message.type === 'error') {
          const e = message.error;
          reject(new QemountError(e.code, e.message, { hint: e.hint, exitCode: e.exitCode, cause: e.causes.length ? new Error(e.causes.join('\n')) : undefined }));
        }
      });
      child.on('exit', async (code, signal) => {
        const tail = (await readFile(daemonLog, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join('\n  ');
        reject(new QemountError('E_MOUNT_PROCESS', `the mount process stopped before the mount was ready (${signal ?? `exit ${code}`})${tail ? `:\n  ${tail}` : ''}`, { hint: `its log: ${daemonLog}` }));
      });
    });
  } catch (error) {
    // A failed mount leaves its folder only if the guest wrote a console log worth reading.
    if (child.exitCode === null) child.kill('SIGKILL');
    const kept = await readFile(join(dir, 'console.log')).then(() => true, () => false);
    if (!kept) await removeMountDir(dir);
    throw error;
  } finally {
    child.removeAllListeners();
    if (child.connected) child.disconnect();
    child.unref();
  }
}
