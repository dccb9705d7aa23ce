// The error every 9P operation rejects with: a QemountError whose code is the errno name, so the
// CLI prints it like any other error and a FUSE frontend answers `-error.errno`.
import { QemountError } from '../QemountError.js';
import { EIO, errnoMessage, errnoName, errnoNumber } from './errno.js';

export interface P9ErrorOptions {
  /** The operation (a 9P message name or an API call: getattr, readFile...). */
  op?: string;
  /** The path involved, when there is one. */
  path?: string;
  /** Server's own error text (9P2000.u), or why the client failed. */
  detail?: string;
  cause?: unknown;
  /** The caller cancelled (AbortSignal); the request was flushed. */
  cancelled?: boolean;
}

export class P9Error extends QemountError {
  /** Linux errno number (ENOENT = 2). */
  readonly errno: number;
  readonly op?: string;
  readonly path?: string;
  readonly detail?: string;
  readonly cancelled: boolean;

  constructor(errno: number, options: P9ErrorOptions = {}) {
    const name = errnoName(errno);
    const where = [options.op, options.path === undefined ? undefined : `'${options.path}'`].filter(Boolean).join(' ');
    const detail = options.detail && options.detail.toLowerCase() !== errnoMessage(errno) ? ` (${options.detail})` : '';
    super(name, `${name}: ${errnoMessage(errno)}${detail}${where ? `, ${where}` : ''}`, { cause: options.cause });
    this.name = 'P9Error';
    this.errno = errno;
    this.op = options.op;
    this.path = options.path;
    this.detail = options.detail;
    this.cancelled = options.cancelled ?? false;
  }

  /** The same error, told which path the operation was about. */
  withPath(path: string, op = this.op): P9Error {
    return new P9Error(this.errno, { op, path, detail: this.detail, cause: this.cause, cancelled: this.cancelled });
  }

  static fromName(name: string, options?: P9ErrorOptions): P9Error {
    return new P9Error(errnoNumber(name) ?? EIO, options);
  }
}

export function isP9Error(error: unknown, code?: string): error is P9Error {
  return error instanceof P9Error && (code === undefined || error.code === code);
}

/** The positive errno for any error (P9Error, Node system error, anything else = EIO): FUSE returns its negation. */
export function toErrno(error: unknown): number {
  if (error instanceof P9Error) return error.errno;
  const e = error as { errno?: unknown; code?: unknown } | undefined;
  if (typeof e?.code === 'string') {
    const n = errnoNumber(e.code);
    if (n) return n;
  }
  if (typeof e?.errno === 'number' && e.errno !== 0) return Math.abs(e.errno);
  return EIO;
}
