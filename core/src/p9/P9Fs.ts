// The typed path API the frontends use (FUSE, `qemount ls/cat/cp`): every call walks from the
// attached root, does its work, and clunks what it walked without waiting for the answer (the fid
// returns to the pool when Rclunk arrives), so independent calls pipeline freely on one connection.
import { posix } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { P9Client, runWindow, type P9ConnectOptions, type RequestOptions } from './P9Client.js';
import { L_O } from './messages.js';
import type { Dialect, P9Dirent, P9SetAttrs } from './dialect.js';
import { dialectL } from './dialectL.js';
import { dialectU } from './dialectU.js';
import { P9File } from './P9File.js';
import { P9ReadStream, type P9ReadStreamOptions } from './P9ReadStream.js';
import { P9Error } from './P9Error.js';
import { errnoNumber } from './errno.js';
import type { P9Stat, P9StatFs, P9Time } from './stat.js';

/** Node-style flag strings, or Linux open(2) flags. */
export type P9OpenFlags = 'r' | 'r+' | 'w' | 'wx' | 'w+' | 'wx+' | 'a' | 'ax' | 'a+' | 'ax+' | number;

const FLAG_STRINGS: Record<Exclude<P9OpenFlags, number>, number> = {
  r: L_O.RDONLY, 'r+': L_O.RDWR,
  w: L_O.WRONLY | L_O.CREAT | L_O.TRUNC, wx: L_O.WRONLY | L_O.CREAT | L_O.TRUNC | L_O.EXCL,
  'w+': L_O.RDWR | L_O.CREAT | L_O.TRUNC, 'wx+': L_O.RDWR | L_O.CREAT | L_O.TRUNC | L_O.EXCL,
  a: L_O.WRONLY | L_O.CREAT | L_O.APPEND, ax: L_O.WRONLY | L_O.CREAT | L_O.APPEND | L_O.EXCL,
  'a+': L_O.RDWR | L_O.CREAT | L_O.APPEND, 'ax+': L_O.RDWR | L_O.CREAT | L_O.APPEND | L_O.EXCL,
};

export interface P9ReaddirOptions {
  /** Also fetch each entry's attributes (pipelined walk+getattr+clunk). */
  stats?: boolean;
  /** Attribute requests in flight at once (default 64). */
  concurrency?: number;
  signal?: AbortSignal;
}

export interface P9WriteFileOptions {
  mode?: number;
  /** Open flags (default 'w': create or truncate). */
  flags?: P9OpenFlags;
  /** Twrites in flight (default 8). */
  depth?: number;
  signal?: AbortSignal;
}

/** Splits a path into walk names; '..' is resolved here so the server never walks above the root. */
export function pathNames(path: string): string[] {
  const normal = posix.normalize(`/${path}`);
  return normal === '/' ? [] : normal.slice(1).replace(/\/$/, '').split('/');
}

function toFlags(flags: P9OpenFlags): number {
  return typeof flags === 'number' ? flags : FLAG_STRINGS[flags];
}

export class P9Fs {
  readonly client: P9Client;
  private readonly d: Dialect;

  constructor(client: P9Client, options: { gid?: number } = {}) {
    this.client = client;
    this.d = client.dialect === 'L' ? dialectL(client, options.gid) : dialectU(client);
  }

  /** Negotiates, attaches and returns the path API over `stream`. */
  static async connect(stream: Duplex, options: P9ConnectOptions = {}): Promise<P9Fs> {
    return new P9Fs(await P9Client.connect(stream, options), { gid: options.n_uname });
  }

  get version(): string {
    return this.client.version;
  }

  close(): void {
    this.client.close();
  }

  /** Walks to `names` (a clone of the root for none, so it may be opened), runs fn, clunks. */
  private async at<T>(path: string, op: string, fn: (fid: number, o: RequestOptions) => Promise<T>, signal?: AbortSignal, names = pathNames(path)): Promise<T> {
    const o: RequestOptions = { path, signal };
    let fid: number;
    try {
      fid = (await this.client.walk(this.client.root, names, o)).fid;
    } catch (error) {
      throw error instanceof P9Error ? error.withPath(path, op) : error;
    }
    try {
      return await fn(fid, o);
    } catch (error) {
      throw error instanceof P9Error ? error.withPath(path, op) : error;
    } finally {
      this.client.clunk(fid).catch(() => {});
    }
  }

  /** Like at(), on the parent directory, with the last name. */
  private atParent<T>(path: string, op: string, fn: (dirfid: number, name: string, o: RequestOptions) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const names = pathNames(path);
    const name = names.pop();
    if (name === undefined) return Promise.reject(new P9Error(errnoNumber('EBUSY')!, { op, path, detail: 'the root cannot be changed' }));
    return this.at(path, op, (dirfid, o) => fn(dirfid, name, o), signal, names);
  }

  /** Attributes of `path` (not following a final symlink, like lstat). */
  stat(path: string, options: { signal?: AbortSignal } = {}): Promise<P9Stat> {
    return this.at(path, 'stat', (fid, o) => this.d.getattr(fid, o), options.signal);
  }

  /** The entries of a directory, optionally with attributes. */
  async readdir(path: string, options: P9ReaddirOptions = {}): Promise<P9Dirent[]> {
    return this.at(path, 'readdir', async (fid, o) => {
      await this.d.open(fid, L_O.RDONLY | L_O.DIRECTORY, o);
      const entries: P9Dirent[] = [];
      for await (const page of this.d.readdir(fid, o)) entries.push(...page);
      if (options.stats) {
        const missing = entries.filter((e) => !e.stat);
        // Entries that vanish between readdir and getattr are dropped, as ls does.
        const gone = new Set<P9Dirent>();
        await runWindow(missing.length, options.concurrency ?? 64, async (i) => {
          const entry = missing[i];
          try {
            entry.stat = await this.at(posix.join(path, entry.name), 'stat', (f, fo) => this.d.getattr(f, fo), options.signal);
          } catch (error) {
            if ((error as P9Error).code !== 'ENOENT') throw error;
            gone.add(entry);
          }
          return true;
        });
        if (gone.size) return entries.filter((e) => !gone.has(e));
      }
      return entries;
    }, options.signal);
  }

  readlink(path: string): Promise<string> {
    return this.at(path, 'readlink', (fid, o) => this.d.readlink(fid, o));
  }

  /** Opens (or, with a creating flag, creates) a file for random access. */
  async open(path: string, flags: P9OpenFlags = 'r', mode = 0o644): Promise<P9File> {
    const bits = toFlags(flags);
    if (bits & L_O.CREAT) {
      try {
        return await this.create(path, bits, mode);
      } catch (error) {
        if ((error as P9Error).code !== 'EEXIST' || bits & L_O.EXCL) throw error;
      }
    }
    const { fid } = await this.walkOrThrow(path, 'open');
    try {
      const opened = await this.d.open(fid, bits & ~(L_O.CREAT | L_O.EXCL), { path });
      return new P9File(this.client, this.d, fid, opened.qid, opened.iounit, path);
    } catch (error) {
      this.client.clunk(fid).catch(() => {});
      throw error instanceof P9Error ? error.withPath(path, 'open') : error;
    }
  }

  private async walkOrThrow(path: string, op: string) {
    try {
      return await this.client.walk(this.client.root, pathNames(path), { path });
    } catch (error) {
      throw error instanceof P9Error ? error.withPath(path, op) : error;
    }
  }

  /** Creates a new file (EEXIST if it exists) and returns it open. */
  async create(path: string, flags: P9OpenFlags = 'wx', mode = 0o644): Promise<P9File> {
    const names = pathNames(path);
    const name = names.pop();
    if (name === undefined) throw new P9Error(errnoNumber('EEXIST')!, { op: 'create', path });
    const { fid } = await this.walkOrThrow(posix.join('/', ...names), 'create');
    try {
      const opened = await this.d.create(fid, name, (toFlags(flags) | L_O.CREAT | L_O.EXCL) & ~L_O.DIRECTORY, mode, { path });
      return new P9File(this.client, this.d, fid, opened.qid, opened.iounit, path);
    } catch (error) {
      this.client.clunk(fid).catch(() => {});
      throw error instanceof P9Error ? error.withPath(path, 'create') : error;
    }
  }

  /** A Readable of the file's bytes, with `readAhead` reads in flight. */
  createReadStream(path: string, options: P9ReadStreamOptions = {}): Readable {
    return new P9ReadStream(() => this.open(path, 'r'), options);
  }

  /** The whole file in memory. */
  async readFile(path: string, options: { signal?: AbortSignal } = {}): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.createReadStream(path, { signal: options.signal })) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** Writes a whole file from bytes, a string or a stream of chunks; returns the bytes written. */
  async writeFile(path: string, data: string | Uint8Array | AsyncIterable<Uint8Array | string>, options: P9WriteFileOptions = {}): Promise<number> {
    const file = await this.open(path, options.flags ?? 'w', options.mode ?? 0o644);
    const depth = options.depth ?? 8;
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) {
        const bytes = typeof data === 'string' ? Buffer.from(data) : data;
        return await file.write(0, bytes, { signal: options.signal, depth });
      }
      // Stream: cut into ioSize pieces, `depth` Twrites in flight.
      const io = file.ioSize;
      const inflight = new Set<Promise<unknown>>();
      let failure: unknown;
      let position = 0;
      let written = 0;
      let held: Buffer[] = [];
      let heldBytes = 0;
      const issue = async (piece: Buffer) => {
        const at = position;
        position += piece.length;
        const p = file.write(at, piece, { signal: options.signal, depth: 1 }).then((n) => (written += n), (e) => (failure ??= e));
        inflight.add(p);
        p.finally(() => inflight.delete(p));
        if (inflight.size >= depth) await Promise.race(inflight);
      };
      for await (const chunk of data) {
        if (failure) break;
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        held.push(bytes);
        heldBytes += bytes.length;
        while (heldBytes >= io) {
          const all = held.length === 1 ? held[0] : Buffer.concat(held, heldBytes);
          await issue(all.subarray(0, io));
          held = [all.subarray(io)];
          heldBytes -= io;
        }
      }
      if (heldBytes && !failure) await issue(held.length === 1 ? held[0] : Buffer.concat(held, heldBytes));
      await Promise.all(inflight);
      if (failure) throw failure;
      return written;
    } finally {
      await file.close().catch(() => {});
    }
  }

  async mkdir(path: string, mode = 0o755): Promise<void> {
    await this.atParent(path, 'mkdir', (dirfid, name, o) => this.d.mkdir(dirfid, name, mode, o));
  }

  async symlink(target: string, path: string): Promise<void> {
    await this.atParent(path, 'symlink', (dirfid, name, o) => this.d.symlink(dirfid, name, target, o));
  }

  /** Creates a device, fifo or socket node (mode carries the S_IF* type). */
  async mknod(path: string, mode: number, rdev = 0): Promise<void> {
    await this.atParent(path, 'mknod', (dirfid, name, o) => this.d.mknod(dirfid, name, mode, rdev, o));
  }

  /** A hard link `newPath` to `existing`. */
  async link(existing: string, newPath: string): Promise<void> {
    await this.at(existing, 'link', (fid) => this.atParent(newPath, 'link', (dirfid, name, o) => this.d.link(dirfid, fid, name, o)));
  }

  unlink(path: string): Promise<void> {
    return this.atParent(path, 'unlink', (dirfid, name, o) => this.d.unlink(dirfid, name, false, o));
  }

  rmdir(path: string): Promise<void> {
    return this.atParent(path, 'rmdir', (dirfid, name, o) => this.d.unlink(dirfid, name, true, o));
  }

  rename(from: string, to: string): Promise<void> {
    return this.atParent(from, 'rename', (olddir, oldname) =>
      this.atParent(to, 'rename', (newdir, newname, o) => this.d.rename(olddir, oldname, newdir, newname, o)));
  }

  setattr(path: string, attrs: P9SetAttrs): Promise<void> {
    return this.at(path, 'setattr', (fid, o) => this.d.setattr(fid, attrs, o));
  }

  chmod(path: string, mode: number): Promise<void> {
    return this.setattr(path, { mode: mode & 0o7777 });
  }

  chown(path: string, uid: number, gid: number): Promise<void> {
    return this.setattr(path, { uid, gid });
  }

  utimens(path: string, atime: P9Time, mtime: P9Time): Promise<void> {
    return this.setattr(path, { atime, mtime });
  }

  truncate(path: string, size = 0): Promise<void> {
    return this.setattr(path, { size });
  }

  statfs(path = '/'): Promise<P9StatFs> {
    return this.at(path, 'statfs', (fid, o) => this.d.statfs(fid, o));
  }

  // ---- extended attributes (9P2000.L) ----

  /** Reads an xattr fid made by Txattrwalk (name '' lists the names). */
  private xattrRead(path: string, name: string, op: string): Promise<Buffer> {
    return this.at(path, op, async (fid, o) => {
      const xfid = this.client.allocFid();
      let size: number;
      try {
        size = (await this.client.request('xattrwalk', { fid, newfid: xfid, name }, o)).size;
      } catch (error) {
        this.client.releaseFid(xfid);
        throw error;
      }
      try {
        return size ? await this.client.read(xfid, 0, size, o) : Buffer.alloc(0);
      } finally {
        this.client.clunk(xfid).catch(() => {});
      }
    });
  }

  getxattr(path: string, name: string): Promise<Buffer> {
    return this.xattrRead(path, name, 'getxattr');
  }

  async listxattr(path: string): Promise<string[]> {
    const list = await this.xattrRead(path, '', 'listxattr');
    return list.toString('utf8').split('\0').filter(Boolean);
  }

  /** Sets an xattr: Txattrcreate turns a fid into the attribute, the value is written to it, Tclunk commits. */
  setxattr(path: string, name: string, value: Uint8Array | string, flags = 0): Promise<void> {
    const bytes = typeof value === 'string' ? Buffer.from(value) : value;
    return this.at(path, 'setxattr', async (fid, o) => {
      const { fid: xfid } = await this.client.walk(fid, [], o);
      try {
        await this.client.request('xattrcreate', { fid: xfid, name, attr_size: bytes.length, flags }, o);
        if (bytes.length) await this.client.write(xfid, 0, bytes, o);
      } catch (error) {
        this.client.clunk(xfid).catch(() => {});
        throw error;
      }
      await this.client.clunk(xfid, o); // the commit: its error is the setxattr's error
    });
  }

  /** Removes an xattr (a zero-length Txattrcreate with XATTR_REPLACE, as Linux's v9fs does). */
  removexattr(path: string, name: string): Promise<void> {
    return this.setxattr(path, name, Buffer.alloc(0), 2);
  }
}
