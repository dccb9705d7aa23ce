// One running guest: qemu started with the partition attached, the guest told what to mount over
// its control port, and a 9P connection to what it serves. If qemu exits, every pending and
// future 9P request fails with EIO at once and the session reports the guest dead.
import { execa, type ResultPromise } from 'execa';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import type { FilesystemSupport } from '@qemount/registry';
import type { LaunchContext, Qemount, TransportAddress } from '../Qemount.js';
import { QemountError } from '../QemountError.js';
import { P9Fs } from '../p9/P9Fs.js';
import { connectWithRetry } from '../p9/connectRetry.js';
import type { GuestBootSpec } from '../guests/GuestDriver.js';
import { qemuArgs, type DiskAttachment } from '../qemu/qemuArgs.js';
import { bestMachine, qemuSystemBinary } from '../qemu/qemuBinary.js';
import { ControlChannel, type QueryReply } from './ControlChannel.js';

export type SessionStep = 'boot' | 'mount' | 'serve';

export interface GuestSessionOptions {
  guest: string;
  /** Catalogue fs id and how the guest mounts it. */
  fs: string;
  support: FilesystemSupport;
  boot: GuestBootSpec;
  disk: DiskAttachment;
  /** Mount read-only in the guest (the disk itself may still be writable, e.g. an overlay). */
  readOnly: boolean;
  accel: 'kvm' | 'tcg';
  transport: string;
  /** A folder of its own for sockets and the console log. */
  dir: string;
  memoryMiB: number;
  /** Called when a step starts. */
  onStep?: (step: SessionStep) => void;
  /** Time limits (ms); the defaults allow a loaded machine under TCG. */
  bootTimeoutMs?: number;
  mountTimeoutMs?: number;
}

export interface GuestExit {
  code: number | null;
  signal: string | null;
}

/** The MOUNT line for the guest's control port. */
export function mountCommand(fs: string, support: FilesystemSupport, readOnly: boolean): string {
  const options = [...(support.options ?? []), ...(readOnly ? (support.readOnlyOptions ?? []) : [])];
  const word = (s: string | undefined) => (s && s.length ? s.replace(/\s/g, '') : '-');
  return ['MOUNT', fs, readOnly ? 'ro' : 'rw', support.fstype ?? fs, word(options.join(',')), word(support.helper)].join(' ');
}

/**
 * A path as one word of the control protocol: bytes outside [A-Za-z0-9._/-] as %XX (UTF-8), which
 * the guest's shell turns back into bytes with printf.
 */
export function encodePathWord(path: string): string {
  let word = '';
  for (const byte of Buffer.from(path, 'utf8')) {
    const c = String.fromCharCode(byte);
    word += /[A-Za-z0-9._/-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return word;
}

export class GuestSession {
  readonly fs: P9Fs;
  readonly consoleLog: string;
  readonly pid: number;
  readonly exited: Promise<GuestExit>;
  /** Milliseconds from qemu's start to each step's end. */
  readonly timings: Record<SessionStep, number>;
  private closing = false;

  private constructor(
    private readonly qemu: ResultPromise,
    private readonly control: ControlChannel,
    fs: P9Fs,
    exited: Promise<GuestExit>,
    readonly options: GuestSessionOptions,
    timings: Record<SessionStep, number>,
  ) {
    this.fs = fs;
    this.exited = exited;
    this.pid = qemu.pid!;
    this.consoleLog = join(options.dir, 'console.log');
    this.timings = timings;
  }

  get alive(): boolean {
    return this.qemu.exitCode === null && this.qemu.signalCode === null;
  }

  static async start(core: Qemount, options: GuestSessionOptions): Promise<GuestSession> {
    const { dir } = options;
    await mkdir(dir, { recursive: true });
    const controlSocket = join(dir, 'control.sock');
    const ninepSocket = join(dir, '9p.sock');
    const consoleLog = join(dir, 'console.log');
    await Promise.all([controlSocket, ninepSocket].map((s) => rm(s, { force: true })));
    const { readOnly } = options;
    // The transport's plugin may need to add to the command line (tcp: a forwarded port).
    await core.use(core.transportPlugin(options.transport).name);
    const context: LaunchContext = { guest: options.guest, fs: options.fs, transport: options.transport, readOnly, dir, address: { transport: options.transport, path: ninepSocket } };
    const args = await core.hooks.qemuArgs.promise(
      qemuArgs({ machine: await bestMachine(), accel: options.accel, memoryMiB: options.memoryMiB, boot: options.boot, disk: options.disk, controlSocket, ninepSocket, consoleLog }),
      context,
    );
    const started = Date.now();
    options.onStep?.('boot');
    const qemu = execa(qemuSystemBinary(), args, { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', buffer: false });
    // For cleaning up after a killed owner (see pruneSessions).
    await writeFile(join(dir, 'qemu.pid'), `${qemu.pid}\n`).catch(() => {});
    let stderr = '';
    qemu.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited: Promise<GuestExit> = qemu.then((r) => ({ code: r.exitCode ?? null, signal: r.signal ?? null }));
    // A guest that dies before it is ready: say why, with its own words.
    const died = exited.then(async (exit) => {
      throw new QemountError('E_GUEST_DIED', `the ${options.guest} guest stopped before it was ready (${describeExit(exit)})${await lastWords(stderr, consoleLog)}`, {
        hint: `the guest's console log: ${consoleLog}`,
      });
    });
    died.catch(() => {});
    /** `work`, unless the guest dies first; the loser never becomes an unhandled rejection. */
    const unlessDead = <T>(work: Promise<T>): Promise<T> => {
      work.catch(() => {});
      return Promise.race([work, died]);
    };
    let control: ControlChannel | undefined;
    let stream: Duplex | undefined;
    try {
      const socket = await unlessDead(connectWithRetry(() => createConnection(controlSocket), { describe: `the guest's control port ${controlSocket}`, timeoutMs: 15_000 }));
      control = new ControlChannel(socket);
      const channel = control;
      exited.then((exit) => channel.fail(new QemountError('E_GUEST_DIED', `the guest stopped (${describeExit(exit)})`)));
      await unlessDead(control.ready(options.bootTimeoutMs ?? 60_000));
      const bootMs = Date.now() - started;
      options.onStep?.('mount');
      await unlessDead(control.command(mountCommand(options.fs, options.support, readOnly), options.mountTimeoutMs ?? 120_000));
      const mountMs = Date.now() - started;
      options.onStep?.('serve');
      const attached = await unlessDead(attach9p(core, context.address, 15_000));
      stream = attached.stream;
      const { fs } = attached;
      const serveMs = Date.now() - started;
      const session = new GuestSession(qemu, control, fs, exited, options, { boot: bootMs, mount: mountMs, serve: serveMs });
      // Once qemu or its 9P server is gone, nothing can answer: fail 9P requests with EIO now
      // rather than hang.
      const connection = stream;
      exited.then(() => {
        connection.destroy();
        channel.close();
      });
      channel.on('event', (name) => {
        if (name === '9p-exited') connection.destroy();
      });
      return session;
    } catch (error) {
      stream?.destroy();
      control?.close();
      qemu.kill('SIGKILL');
      await exited;
      throw error;
    }
  }

  /** Syncs, unmounts in the guest and powers it off; kills qemu if it does not stop in time. */
  async shutdown(timeoutMs = 10_000): Promise<GuestExit> {
    if (this.closing) return this.exited;
    this.closing = true;
    this.fs.close();
    if (this.alive) {
      // POWEROFF syncs and unmounts; qemu exits when the guest powers off.
      await this.control.command('POWEROFF', timeoutMs).catch(() => undefined);
      const timer = setTimeout(() => this.qemu.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
    this.control.close();
    return this.exited;
  }

  /** Asks the guest to flush its caches to the image. */
  sync(timeoutMs = 60_000): Promise<void> {
    return this.control.command('SYNC', timeoutMs).then(() => undefined);
  }

  /** The guest's report of where a file of the mounted tree lies on its disk (filefrag -e -b1). */
  fileExtents(path: string, timeoutMs = 10_000): Promise<QueryReply> {
    if (!path.startsWith('/') || path.includes('\0') || path.split('/').includes('..')) {
      return Promise.reject(new QemountError('E_INVALID_PATH', `not a path of the mounted tree: ${JSON.stringify(path)}`));
    }
    return this.control.query('EXTENTS', [encodePathWord(path)], timeoutMs);
  }

  /** The guest kernel's last messages. */
  kernelLog(): Promise<string[]> {
    return this.control.kernelLog(5_000);
  }

  /** Stops qemu at once (no sync). */
  kill(): void {
    this.qemu.kill('SIGKILL');
  }
}

/**
 * Connects to the guest's 9P server and attaches to its tree, retrying until the deadline: a
 * forwarded TCP port accepts before the guest listens, then drops the connection.
 */
async function attach9p(core: Qemount, address: TransportAddress, timeoutMs: number): Promise<{ stream: Duplex; fs: P9Fs }> {
  const deadline = Date.now() + timeoutMs;
  const connect = core.hooks.connect.get(address.transport);
  if (!connect) throw new QemountError('E_TRANSPORT', `no plugin connects the ${address.transport} transport`);
  for (;;) {
    const left = () => Math.max(1000, deadline - Date.now());
    const stream = await connect.promise(address, { timeoutMs: left() });
    if (!stream) throw new QemountError('E_TRANSPORT', `transport ${address.transport} gave no connection`);
    try {
      return { stream, fs: await P9Fs.connect(stream, { aname: '/mnt', timeoutMs: left() }) };
    } catch (error) {
      stream.destroy();
      if (Date.now() >= deadline) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function describeExit(exit: GuestExit): string {
  return exit.signal ? `qemu was killed by ${exit.signal}` : `qemu exited with code ${exit.code}`;
}

/** qemu's own error, else the console's last lines. */
async function lastWords(stderr: string, consoleLog: string): Promise<string> {
  const qemuSaid = stderr.trim().split('\n').filter(Boolean).slice(-3).join('\n  ');
  if (qemuSaid) return `:\n  ${qemuSaid}`;
  const console = (await readFile(consoleLog, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).slice(-5).join('\n  ');
  return console ? `; the guest's console ended with:\n  ${console}` : '';
}
