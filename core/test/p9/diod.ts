// Starts Debian's diod on the host for tests and benchmarks: serving one connection on a socket
// pair (Node's extra stdio pipes are AF_UNIX socket pairs), or listening on loopback TCP or on a
// unix socket path. Flags per shared/guest-notes.md: no auth, no user db, no config file.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';

export const DIOD = process.env.DIOD ?? '/usr/sbin/diod';

export interface DiodOptions {
  /** Directory to export (also the attach name). */
  exportDir: string;
  /** Export read-only (diod -o ro). */
  readOnly?: boolean;
  /** Extra diod flags. */
  args?: string[];
}

export interface Diod {
  process: ChildProcess;
  /** Resolves when diod has exited. */
  exited: Promise<void>;
  stop(): Promise<void>;
}

function baseArgs(o: DiodOptions, temp: string[]): string[] {
  // diod's -o applies only to exports named in a config file (or -E), never to -e: a read-only
  // export needs a config file of its own.
  if (o.readOnly) {
    const dir = mkdtempSync(join(tmpdir(), 'qemount-diod-'));
    temp.push(dir);
    const conf = join(dir, 'diod.conf');
    writeFileSync(conf, `exports = { { path = ${JSON.stringify(o.exportDir)}, opts = "ro" } }\n`);
    return ['-f', '-n', '-N', '-c', conf, '-L', 'stderr', ...(o.args ?? [])];
  }
  return ['-f', '-n', '-N', '-c', '/dev/null', '-L', 'stderr', '-e', o.exportDir, ...(o.args ?? [])];
}

function track(child: ChildProcess, temp: string[]): Diod {
  let log = '';
  child.stderr?.on('data', (d) => (log += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      for (const dir of temp) rmSync(dir, { recursive: true, force: true });
      if (process.env.DIOD_LOG) process.stderr.write(log);
    },
  };
}

/** diod serving one connection on a socket pair: returns our end of it. */
export function diodOnSocketPair(o: DiodOptions): Diod & { stream: Duplex } {
  const temp: string[] = [];
  const child = spawn(DIOD, [...baseArgs(o, temp), '-r', '3', '-w', '3'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  const stream = child.stdio[3] as Socket;
  return { ...track(child, temp), stream };
}

/** A free loopback TCP port (bound then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** diod listening on `address` (IP:PORT or a unix socket path). */
export function diodListening(o: DiodOptions, address: string): Diod {
  const temp: string[] = [];
  return track(spawn(DIOD, [...baseArgs(o, temp), '-l', address], { stdio: ['ignore', 'ignore', 'pipe'] }), temp);
}

/**
 * Like QEMU's chardev socket: we listen on a unix socket path, and each accepted connection is
 * served by a diod of its own on that descriptor (the way the guest's diod serves its port).
 */
export async function diodBehindUnixSocket(o: DiodOptions, path: string): Promise<{ diods: Diod[]; close(): Promise<void> }> {
  const diods: Diod[] = [];
  const server = createServer((socket) => {
    // diod reads its descriptor blocking; Node's copy is non-blocking and the flag is shared.
    (socket as unknown as { _handle: { setBlocking(on: boolean): number } })._handle.setBlocking(true);
    const temp: string[] = [];
    const child = spawn(DIOD, [...baseArgs(o, temp), '-r', '3', '-w', '3'], { stdio: ['ignore', 'ignore', 'pipe', socket] });
    diods.push(track(child, temp));
    // diod holds its own copy now; ours must go, or its death would not reach the client.
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    diods,
    async close() {
      server.close();
      await Promise.all(diods.map((d) => d.stop()));
    },
  };
}

/** A temp directory removed by the returned function. */
export function tempDir(prefix = 'qemount-p9-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Rejects if `promise` takes longer than `ms`: a test can never hang on a dead server. */
export function within<T>(ms: number, promise: Promise<T>, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** The rejection of `promise` (fails if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; errno?: number }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string; errno?: number };
  }
  throw new Error('expected a rejection, got a result');
}

/** SIGSTOPs a server and waits until the kernel shows it stopped (kill(2) only queues the signal). */
export async function pause(diod: Diod): Promise<void> {
  diod.process.kill('SIGSTOP');
  const statFile = `/proc/${diod.process.pid}/stat`;
  for (let i = 0; i < 200; i++) {
    const state = readFileSync(statFile, 'utf8').replace(/^.*\) /s, '')[0];
    if (state === 'T' || state === 't') return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('the server did not stop');
}
