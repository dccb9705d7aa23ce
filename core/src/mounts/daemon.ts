// The background process of `qemount mount`: holds the guest, the 9P connection and the
// frontend until SIGTERM/SIGINT (from `qemount unmount`), then shuts everything down cleanly.
// It reports progress and the outcome to the command that started it over an IPC channel.
import { Qemount } from '../Qemount.js';
import { QemountError } from '../QemountError.js';
import { Mount, type MountOptions } from './Mount.js';
import { writeRecord } from './MountRecord.js';

export interface DaemonRequest {
  image: string;
  mountpoint: string;
  options: Omit<MountOptions, 'onStep'>;
  configFile?: string;
  cwd: string;
}

export type DaemonMessage =
  | { type: 'step'; step: string; detail?: string }
  | { type: 'mounted'; record: Mount['record'] }
  | { type: 'error'; error: SerializedError };

export interface SerializedError {
  code: string;
  message: string;
  hint?: string;
  exitCode: number;
  causes: string[];
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof QemountError) return { code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode, causes: error.causes() };
  return { code: 'E_INTERNAL', message: error instanceof Error ? error.message : String(error), exitCode: 1, causes: [] };
}

const send = (message: DaemonMessage) => process.send?.(message);
const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

async function run(request: DaemonRequest): Promise<void> {
  process.chdir(request.cwd);
  const core = await Qemount.create({ file: request.configFile, cwd: request.cwd });
  const mount = await Mount.start(core, request.image, request.mountpoint, {
    ...request.options,
    log,
    onStep: (step, detail) => {
      log(`${step}${detail ? `: ${detail}` : ''}`);
      send({ type: 'step', step, detail });
    },
  });
  log(`mounted ${mount.record.image} on ${mount.record.mountpoint} (${mount.record.readyMs} ms)`);
  send({ type: 'mounted', record: mount.record });
  process.disconnect?.();
  mount.opened.session.exited.then((exit) => log(`the guest stopped (${JSON.stringify(exit)}); operations on the mount fail with EIO until it is unmounted`));
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: unmounting`);
    if (mount.record.unmountError) {
      delete mount.record.unmountError;
      await writeRecord(mount.record).catch(() => {});
    }
    try {
      await mount.close();
      log('unmounted; guest powered off');
      process.exit(0);
    } catch (error) {
      // Busy: keep serving, and leave the reason where `qemount unmount` looks.
      stopping = false;
      log(`unmount failed: ${(error as Error).message}`);
      mount.record.unmountError = (error as Error).message;
      await writeRecord(mount.record).catch(() => {});
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => {}); // the terminal that started it may close
}

const request = JSON.parse(process.argv[2] ?? '{}') as DaemonRequest;
run(request).catch((error) => {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  send({ type: 'error', error: serializeError(error) });
  // Let the message reach the parent before leaving.
  setTimeout(() => process.exit(1), 100);
});
