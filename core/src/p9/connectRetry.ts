// Connecting to a guest's 9P endpoint while it may still be booting: QEMU's chardev socket may not
// exist yet, a forwarded port may refuse. Transports share this loop: retry the errors that mean
// "not yet", until a deadline or an AbortSignal, with a short backoff.
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { QemountError } from '../QemountError.js';

export interface ConnectRetryOptions {
  /** Give up after this many milliseconds (default 10 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** What is being connected to, for messages ("unix socket /run/x.sock"). */
  describe: string;
  /** The plugin doing it, for the error. */
  plugin?: string;
}

/** Errors that mean the other end is not there yet. */
const RETRYABLE = new Set(['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EAGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

function once(socket: Socket, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.off('connect', onConnect).off('error', done);
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        socket.destroy();
        reject(error);
      } else resolve();
    };
    const onConnect = () => done();
    const onAbort = () => done(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }));
    const timer = setTimeout(() => done(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), Math.max(1, timeoutMs));
    socket.once('connect', onConnect).once('error', done);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Calls `open` (which starts a connection) until one connects; returns the connected socket. */
export async function connectWithRetry(open: () => Socket, options: ConnectRetryOptions): Promise<Socket> {
  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? 10_000);
  let delay = 20;
  let attempts = 0;
  for (;;) {
    attempts++;
    let error: NodeJS.ErrnoException;
    try {
      if (options.signal?.aborted) throw Object.assign(new Error('aborted'), { code: 'ABORT_ERR' });
      const socket = open();
      await once(socket, deadline - Date.now(), options.signal);
      return socket;
    } catch (caught) {
      error = caught as NodeJS.ErrnoException;
    }
    const elapsed = Date.now() - started;
    if (error.code === 'ABORT_ERR') {
      throw new QemountError('E_CONNECT_ABORTED', `connecting to ${options.describe} was aborted after ${elapsed} ms`, { cause: options.signal?.reason ?? error, plugin: options.plugin, hook: 'connect' });
    }
    if (!RETRYABLE.has(error.code ?? '') || Date.now() >= deadline) {
      throw new QemountError('E_CONNECT', `cannot connect to ${options.describe}: ${error.message} (${attempts} attempt${attempts > 1 ? 's' : ''} in ${elapsed} ms)`, {
        cause: error, plugin: options.plugin, hook: 'connect',
        hint: RETRYABLE.has(error.code ?? '') ? 'the guest did not start serving 9P in time: see `qemount logs` for its console' : undefined,
      });
    }
    try {
      // The last try lands on the deadline itself.
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())), undefined, { signal: options.signal });
    } catch {
      // aborted while waiting: the next turn reports it
    }
    delay = Math.min(delay * 2, 250);
  }
}
