// An open file on the server: random-access read/write (what FUSE's read(fd, offset, len) needs),
// attributes, fsync, POSIX locks. close() clunks its fid.
import { hostname } from 'node:os';
import type { P9Client, RequestOptions } from './P9Client.js';
import { LOCK } from './messages.js';
import type { Dialect, P9SetAttrs } from './dialect.js';
import type { P9Stat } from './stat.js';
import type { Qid } from './wire.js';

export interface P9LockRange {
  /** read (shared), write (exclusive) or unlock. */
  type: 'read' | 'write' | 'unlock';
  start?: number;
  /** 0 = to the end of the file. */
  length?: number;
  procId?: number;
  clientId?: string;
}

export type P9LockStatus = 'ok' | 'blocked' | 'error' | 'grace';

const LOCK_TYPES = { read: LOCK.RDLCK, write: LOCK.WRLCK, unlock: LOCK.UNLCK } as const;
const LOCK_NAMES = ['read', 'write', 'unlock'] as const;
const STATUS_NAMES: P9LockStatus[] = ['ok', 'blocked', 'error', 'grace'];

export class P9File {
  private closing?: Promise<void>;

  constructor(
    readonly client: P9Client,
    private readonly dialect: Dialect,
    readonly fid: number,
    readonly qid: Qid,
    /** Largest I/O the server prefers for this file (0: limited by msize only). */
    readonly iounit: number,
    readonly path: string,
  ) {}

  private o(signal?: AbortSignal): RequestOptions {
    return { path: this.path, signal };
  }

  /** Most bytes one Tread/Twrite moves for this file. */
  get ioSize(): number {
    return this.client.ioSize(this.iounit);
  }

  /** Reads up to `length` bytes at `position` (fewer at the end of the file), pipelined. */
  read(position: number, length: number, options: { signal?: AbortSignal; depth?: number } = {}): Promise<Buffer> {
    return this.client.read(this.fid, position, length, { ...this.o(options.signal), iounit: this.iounit, depth: options.depth });
  }

  /** Writes all of `data` at `position`; returns the bytes written. */
  write(position: number, data: Uint8Array, options: { signal?: AbortSignal; depth?: number } = {}): Promise<number> {
    return this.client.write(this.fid, position, data, { ...this.o(options.signal), iounit: this.iounit, depth: options.depth });
  }

  stat(signal?: AbortSignal): Promise<P9Stat> {
    return this.dialect.getattr(this.fid, this.o(signal));
  }

  setattr(attrs: P9SetAttrs, signal?: AbortSignal): Promise<void> {
    return this.dialect.setattr(this.fid, attrs, this.o(signal));
  }

  truncate(size = 0): Promise<void> {
    return this.setattr({ size });
  }

  fsync(datasync = false): Promise<void> {
    return this.dialect.fsync(this.fid, datasync, this.o());
  }

  /** Takes or releases a POSIX byte-range lock (9P2000.L Tlock); `block` waits server-side. */
  async lock(range: P9LockRange & { block?: boolean }): Promise<P9LockStatus> {
    const { status } = await this.client.request('lock', {
      fid: this.fid, type: LOCK_TYPES[range.type], flags: range.block ? LOCK.FLAGS_BLOCK : 0, start: range.start ?? 0, length: range.length ?? 0,
      proc_id: range.procId ?? process.pid, client_id: range.clientId ?? hostname(),
    }, this.o());
    return STATUS_NAMES[status] ?? 'error';
  }

  /** Tests for a conflicting lock (9P2000.L Tgetlock): type 'unlock' means none. */
  async getlock(range: P9LockRange): Promise<Required<P9LockRange>> {
    const r = await this.client.request('getlock', {
      fid: this.fid, type: LOCK_TYPES[range.type], start: range.start ?? 0, length: range.length ?? 0,
      proc_id: range.procId ?? process.pid, client_id: range.clientId ?? hostname(),
    }, this.o());
    return { type: LOCK_NAMES[r.type] ?? 'unlock', start: r.start, length: r.length, procId: r.proc_id, clientId: r.client_id };
  }

  /** Clunks the fid (once; later calls wait for the same clunk). */
  close(): Promise<void> {
    this.closing ??= this.client.clunk(this.fid, { path: this.path });
    return this.closing;
  }
}
