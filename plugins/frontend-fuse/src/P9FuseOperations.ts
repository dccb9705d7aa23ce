// The FUSE operations (fuse-native's callback shapes) answered from a P9Fs. Every callback is
// called exactly once: with the result, with -errno for a P9Error (EIO for anything unexpected),
// or with -ETIMEDOUT when the operation outlives `timeoutMs`. Nothing here throws into fuse-native
// and nothing is synchronous: fuse-native runs these on the Node thread that must also read the
// 9P replies.
import { posix } from 'node:path';
import { P9Error, errnoNumber, toErrno, type ExtentFile, type ExtentReads, type P9Dirent, type P9File, type P9Fs, type P9Stat, type P9StatFs, type P9Time } from '@qemount/core';
import type Fuse from 'fuse-native';
import { AttrCache } from './AttrCache.js';

const EIO = 5;
const EBADF = errnoNumber('EBADF')!;
const EROFS = errnoNumber('EROFS')!;
const ETIMEDOUT = errnoNumber('ETIMEDOUT')!;

// Linux open(2) flags (the kernel hands FUSE its own).
const O_ACCMODE = 0o3;
const O_RDONLY = 0;
const O_RDWR = 0o2;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;
const O_DSYNC = 0o10000;
const O_SYNC = 0o4010000;

const S_IFDIR = 0o040000;
/** statvfs f_flag: ST_RDONLY. */
const ST_RDONLY = 1;
const UINT32 = 0x1_0000_0000;
/** chown(2)'s "leave unchanged", as a uint32. */
const KEEP_ID = 0xffffffff;
/**
 * What fuse-native hands utimens for UTIME_NOW (and UTIME_OMIT): it converts the timespec
 * {0, 2^30-1} to milliseconds, 0 s + 1073 ms.
 */
const UTIME_SPECIAL_MS = Math.floor(((1 << 30) - 1) / 1e6);

export interface OperationsOptions {
  readOnly: boolean;
  /** How long attributes, listings and symlink targets stay cached (0: no cache). */
  cacheMs: number;
  /** Answer -ETIMEDOUT when a single operation takes longer (0: never). */
  timeoutMs: number;
  /** Called for every operation that fails for a reason other than a P9Error (a bug, or a dead guest). */
  onError?: (op: string, path: string, error: unknown) => void;
  /** Large files of a read-only mount read straight from the image. */
  extents?: ExtentReads;
}

/** A file read from the image instead of through 9P. */
interface DirectRead {
  file: ExtentFile;
  stat: P9Stat;
  /** Bytes served from the image through this handle. */
  bytes: number;
}

interface Handle {
  file: P9File;
  path: string;
  /** Opened O_APPEND: the server appends, so writes go one at a time, in order. */
  append: boolean;
  writable: boolean;
  /** Set once the guest said where a large file of a read-only mount lies; until then, and without it, 9P. */
  direct?: DirectRead;
  /** Reads wait for this: the guest's answer, or the end of the patience it is worth. */
  answered?: Promise<void>;
}

/** What fuse-native expects from the callbacks: (result, ...values). */
type Reply = (result: number, ...values: never[]) => void;

/** A folded 64-bit inode number: fuse-native passes 32 bits. */
function ino32(ino: bigint): number {
  return Number((ino ^ (ino >> 32n)) & 0xffffffffn);
}

function ms(value: number): number {
  return value > 0 ? Math.floor(value) : 0;
}

export function toFuseStat(st: P9Stat): Fuse.Stat {
  return {
    mode: st.mode, uid: st.uid, gid: st.gid, size: st.size, dev: 0, nlink: st.nlink, ino: ino32(st.ino),
    rdev: st.rdev >>> 0, blksize: st.blksize, blocks: st.blocks,
    atime: ms(st.atimeMs), mtime: ms(st.mtimeMs), ctime: ms(st.ctimeMs),
  };
}

/** fuse-native passes statvfs as 32-bit fields: big filesystems report bigger fragments instead. */
export function toFuseStatFs(s: P9StatFs, readOnly: boolean): Fuse.StatFs {
  let frsize = s.bsize || 4096;
  let { blocks, bfree, bavail } = s;
  while (blocks >= UINT32) {
    frsize *= 2;
    blocks = Math.floor(blocks / 2);
    bfree = Math.floor(bfree / 2);
    bavail = Math.floor(bavail / 2);
  }
  const clamp = (n: number) => Math.min(Math.max(0, n), UINT32 - 1);
  return {
    bsize: clamp(s.bsize || 4096), frsize: clamp(frsize), blocks: clamp(blocks), bfree: clamp(bfree), bavail: clamp(bavail),
    files: clamp(s.files), ffree: clamp(s.ffree), favail: clamp(s.ffree), fsid: Number(s.fsid & 0xffffffffn),
    flag: readOnly ? ST_RDONLY : 0, namemax: clamp(s.namelen || 255),
  };
}

export class P9FuseOperations {
  readonly cache: AttrCache;
  private readonly handles = new Map<number, Handle>();
  private nextFd = 1;
  private readonly pendingStats = new Map<string, { gen: number; promise: Promise<P9Stat> }>();
  private readonly pendingDirs = new Map<string, { gen: number; promise: Promise<P9Dirent[]> }>();

  constructor(readonly fs: P9Fs, readonly options: OperationsOptions) {
    this.cache = new AttrCache(options.cacheMs);
    // A dead guest: nothing cached may answer any more.
    fs.client.closed.then(() => this.cache.clear(), () => this.cache.clear());
  }

  /** Clunks every open file (the mount is gone). */
  async closeAll(): Promise<void> {
    const files = [...this.handles.values()].map((h) => h.file);
    this.handles.clear();
    this.cache.clear();
    await Promise.all(files.map((f) => f.close().catch(() => {})));
  }

  /** The operations object for fuse-native. */
  operations(): Fuse.Operations {
    const ro = this.options.readOnly;
    const refuse = (cb: Reply) => cb(-EROFS);
    return {
      getattr: (path, cb) => this.run('getattr', path, cb, async () => [0, toFuseStat(await this.stat(path))]),
      readdir: (path, cb) => this.run('readdir', path, cb, () => this.readdir(path)),
      readlink: (path, cb) => this.run('readlink', path, cb, async () => [0, await this.readlink(path)]),
      statfs: (path, cb) => this.run('statfs', path, cb, async () => [0, toFuseStatFs(await this.fs.statfs('/'), ro)]),
      open: (path, flags, cb) => this.run('open', path, cb, () => this.open(path, flags), (late) => this.dropLate(late)),
      read: (path, fd, buf, len, pos, cb) => this.run('read', path, cb, () => this.read(fd, buf, len, pos)),
      // Nothing to do on close(2) (writes are not buffered here), but say so if the guest is gone.
      flush: (path, _fd, cb) => this.run('flush', path, cb, async () => [0]),
      // Always succeeds and forgets the handle, even with the guest gone.
      release: (_path, fd, cb) => {
        this.release(fd);
        cb(0);
      },
      fsync: (path, datasync, fd, cb) => this.run('fsync', path, cb, () => this.fsync(fd, datasync)),
      // Writes: refused on a read-only mount (the kernel refuses most of them first: mounted `ro`).
      create: ro ? (_p, _m, cb) => refuse(cb) : (path, mode, cb) => this.run('create', path, cb, () => this.create(path, mode), (late) => this.dropLate(late)),
      write: ro ? (_p, _f, _b, _l, _o, cb) => refuse(cb) : (path, fd, buf, len, pos, cb) => this.run('write', path, cb, () => this.write(path, fd, buf, len, pos)),
      truncate: ro ? (_p, _s, cb) => refuse(cb) : (path, size, cb) => this.change('truncate', path, cb, () => this.fs.truncate(path, size), { parent: false }),
      ftruncate: ro ? (_p, _f, _s, cb) => refuse(cb) : (path, fd, size, cb) =>
        this.change('ftruncate', path, cb, () => (this.handles.get(fd)?.file.truncate(size) ?? this.fs.truncate(path, size)), { parent: false }),
      mkdir: ro ? (_p, _m, cb) => refuse(cb) : (path, mode, cb) => this.change('mkdir', path, cb, () => this.fs.mkdir(path, mode & 0o7777)),
      rmdir: ro ? (_p, cb) => refuse(cb) : (path, cb) => this.change('rmdir', path, cb, () => this.fs.rmdir(path)),
      unlink: ro ? (_p, cb) => refuse(cb) : (path, cb) => this.change('unlink', path, cb, () => this.fs.unlink(path)),
      rename: ro ? (_s, _d, cb) => refuse(cb) : (src, dest, cb) => this.run('rename', src, cb, () => this.rename(src, dest)),
      symlink: ro ? (_t, _p, cb) => refuse(cb) : (target, path, cb) => this.change('symlink', path, cb, () => this.fs.symlink(target, path)),
      link: ro ? (_e, _p, cb) => refuse(cb) : (existing, path, cb) => this.run('link', path, cb, () => this.link(existing, path)),
      mknod: ro ? (_p, _m, _d, cb) => refuse(cb) : (path, mode, dev, cb) => this.change('mknod', path, cb, () => this.fs.mknod(path, mode, dev)),
      chmod: ro ? (_p, _m, cb) => refuse(cb) : (path, mode, cb) => this.change('chmod', path, cb, () => this.fs.chmod(path, mode), { parent: false }),
      chown: ro ? (_p, _u, _g, cb) => refuse(cb) : (path, uid, gid, cb) => this.change('chown', path, cb, () => this.chown(path, uid, gid), { parent: false }),
      utimens: ro ? (_p, _a, _m, cb) => refuse(cb) : (path, atime, mtime, cb) => this.change('utimens', path, cb, () => this.utimens(path, atime, mtime), { parent: false }),
    };
  }

  // ---- the machinery: exactly one answer per operation ----

  /**
   * Runs `work` and answers `cb` once: with its values, with -errno, or with -ETIMEDOUT if it takes
   * longer than the timeout. `onLate` receives values that arrive after a timeout (to release them).
   */
  private run(op: string, path: string, cb: Reply, work: () => Promise<unknown[]>, onLate?: (values: unknown[]) => void): void {
    let answered = false;
    const timer = this.options.timeoutMs > 0
      ? setTimeout(() => answer([-ETIMEDOUT]), this.options.timeoutMs).unref()
      : undefined;
    const answer = (values: unknown[]) => {
      if (answered) {
        if (typeof values[0] === 'number' && values[0] >= 0) onLate?.(values);
        return;
      }
      answered = true;
      if (timer) clearTimeout(timer);
      try {
        (cb as (...args: unknown[]) => void)(...values);
      } catch (error) {
        this.options.onError?.(op, path, error);
      }
    };
    let promise: Promise<unknown[]>;
    try {
      promise = this.fs.client.alive ? work() : Promise.reject(new P9Error(EIO, { op, path, detail: 'the guest is gone' }));
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(answer, (error: unknown) => {
      if (!(error instanceof P9Error)) this.options.onError?.(op, path, error);
      const errno = toErrno(error);
      answer([-(errno > 0 && errno < 4096 ? errno : EIO)]);
    });
  }

  /** A change through the mount: run it, then forget what it touched (also when it failed). */
  private change(op: string, path: string, cb: Reply, work: () => Promise<unknown>, invalidate: { parent?: boolean; subtree?: boolean } = {}): void {
    this.run(op, path, cb, async () => {
      try {
        await work();
      } finally {
        this.cache.invalidate(path, invalidate);
      }
      return [0];
    });
  }

  /** An open that answered after its timeout: nobody holds the handle, release it. */
  private dropLate(values: unknown[]): void {
    const fd = values[1];
    if (typeof fd === 'number') this.release(fd);
  }

  // ---- reading ----

  /** Attributes: from the cache, or one getattr shared by concurrent askers. */
  stat(path: string): Promise<P9Stat> {
    const cached = this.cache.stat(path);
    if (cached) return Promise.resolve(cached);
    const gen = this.cache.gen;
    const pending = this.pendingStats.get(path);
    if (pending && pending.gen === gen) return pending.promise;
    const promise = this.fs.stat(path).then((st) => {
      this.cache.setStat(path, st, gen);
      return st;
    }).finally(() => {
      if (this.pendingStats.get(path)?.promise === promise) this.pendingStats.delete(path);
    });
    this.pendingStats.set(path, { gen, promise });
    return promise;
  }

  private listing(path: string): Promise<P9Dirent[]> {
    const cached = this.cache.dir(path);
    if (cached) return Promise.resolve(cached);
    const gen = this.cache.gen;
    const pending = this.pendingDirs.get(path);
    if (pending && pending.gen === gen) return pending.promise;
    const promise = this.fs.readdir(path, { stats: true }).then((entries) => {
      this.cache.setDir(path, entries, gen);
      return entries;
    }).finally(() => {
      if (this.pendingDirs.get(path)?.promise === promise) this.pendingDirs.delete(path);
    });
    this.pendingDirs.set(path, { gen, promise });
    return promise;
  }

  private async readdir(path: string): Promise<unknown[]> {
    const [entries, self] = await Promise.all([this.listing(path), this.stat(path)]);
    const parent = (path !== '/' && this.cache.stat(posix.dirname(path))) || self;
    const names = ['.', '..'];
    const stats = [toFuseStat(self), toFuseStat(parent)];
    for (const entry of entries) {
      names.push(entry.name);
      // Only the inode number and the type reach the kernel from here (FUSE 2.9 has no readdirplus).
      stats.push(entry.stat ? toFuseStat(entry.stat) : { ...toFuseStat(self), mode: kindMode(entry.kind), ino: ino32(entry.qid.path) });
    }
    return [0, names, stats];
  }

  private async readlink(path: string): Promise<string> {
    const cached = this.cache.link(path);
    if (cached !== undefined) return cached;
    const gen = this.cache.gen;
    const target = await this.fs.readlink(path);
    this.cache.setLink(path, target, gen);
    return target;
  }

  private async open(path: string, flags: number): Promise<unknown[]> {
    const access = flags & O_ACCMODE;
    const writable = access !== O_RDONLY;
    if (this.options.readOnly && (writable || flags & O_TRUNC)) return [-EROFS];
    // The kernel has already dealt with O_CREAT/O_EXCL (create) and usually O_TRUNC (a setattr).
    const file = await this.fs.open(path, access | (flags & (O_TRUNC | O_APPEND | O_SYNC | O_DSYNC)));
    if (flags & O_TRUNC) this.cache.invalidate(path, { parent: false });
    const handle: Handle = { file, path, append: !!(flags & O_APPEND), writable };
    if (!writable) this.askExtents(handle);
    return [0, this.keep(handle)];
  }

  /**
   * Asks (once per inode: ExtentReads keeps the answer) where a large file lies in the image.
   * Reads wait for the answer only as long as it is worth (patienceMs), then go through 9P until
   * it comes.
   */
  private askExtents(handle: Handle): void {
    const { extents } = this.options;
    if (!extents) return;
    handle.answered = this.stat(handle.path).then((stat) => {
      const answer = extents.open(handle.path, stat).then((file) => {
        if (file) handle.direct = { file, stat, bytes: 0 };
      });
      const patience = extents.patienceMs(stat.size);
      if (!patience) return answer;
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, patience)));
      return Promise.race([answer, waited]).finally(() => clearTimeout(timer));
    }, () => {});
  }

  private async read(fd: number, buf: Buffer, len: number, pos: number): Promise<unknown[]> {
    const handle = this.handles.get(fd);
    if (!handle) return [-EBADF];
    await handle.answered;
    const { direct } = handle;
    let data: Buffer | undefined;
    if (direct) {
      try {
        data = await direct.file.read(pos, len);
        direct.bytes += data.length;
      } catch (error) {
        // The image could not be read (a container feature, I/O): 9P still can.
        if (handle.direct) this.options.extents?.failed(direct.file, direct.stat, error);
        handle.direct = undefined;
      }
    }
    data ??= await handle.file.read(pos, len);
    // buf is the kernel request's memory, valid until we answer (empty if we answered already).
    return [data.copy(buf, 0, 0, Math.min(data.length, len, buf.length))];
  }

  private release(fd: number): void {
    const handle = this.handles.get(fd);
    if (!handle) return;
    this.handles.delete(fd);
    if (handle.direct) this.options.extents?.done(handle.direct.file, handle.direct.bytes);
    // The clunk need not be waited for: the fid returns to the pool when Rclunk arrives.
    handle.file.close().catch(() => {});
  }

  private async fsync(fd: number, datasync: number): Promise<unknown[]> {
    const handle = this.handles.get(fd);
    if (handle) await handle.file.fsync(!!datasync);
    return [0];
  }

  // ---- writing ----

  private async create(path: string, mode: number): Promise<unknown[]> {
    // fuse-native hands create() the mode only, not the open flags: open it read-write.
    try {
      const file = await this.fs.open(path, O_RDWR | O_CREAT, mode & 0o7777);
      return [0, this.keep({ file, path, append: false, writable: true })];
    } finally {
      this.cache.invalidate(path);
    }
  }

  private async write(path: string, fd: number, buf: Buffer, len: number, pos: number): Promise<unknown[]> {
    const handle = this.handles.get(fd);
    if (!handle) return [-EBADF];
    // Our own copy: the kernel's buffer goes away if this write times out while pieces are in flight.
    const data = Buffer.from(buf.subarray(0, len));
    try {
      const written = await handle.file.write(pos, data, { depth: handle.append ? 1 : 8 });
      return [written];
    } finally {
      this.cache.invalidate(path, { parent: false });
    }
  }

  private async rename(src: string, dest: string): Promise<unknown[]> {
    // Directories move their whole cached subtree; a file only itself.
    const kind = this.cache.stat(src)?.kind;
    const subtree = kind === undefined || kind === 'directory';
    try {
      await this.fs.rename(src, dest);
    } finally {
      this.cache.invalidate(src, { subtree });
      this.cache.invalidate(dest, { subtree: true });
    }
    return [0];
  }

  private async link(existing: string, path: string): Promise<unknown[]> {
    try {
      await this.fs.link(existing, path);
    } finally {
      this.cache.invalidate(existing, { parent: false }); // its link count
      this.cache.invalidate(path);
    }
    return [0];
  }

  private chown(path: string, uid: number, gid: number): Promise<void> {
    const attrs: { uid?: number; gid?: number } = {};
    if (uid !== KEEP_ID && uid >= 0) attrs.uid = uid;
    if (gid !== KEEP_ID && gid >= 0) attrs.gid = gid;
    return Object.keys(attrs).length ? this.fs.setattr(path, attrs) : Promise.resolve();
  }

  /**
   * Times in epoch ms. libfuse 2.9 calls utimens only when both times change (one-sided changes,
   * `touch -m`, never reach us), and fuse-native turns UTIME_NOW into 1073 ms: that is "now".
   */
  private utimens(path: string, atime: number, mtime: number): Promise<void> {
    const time = (t: number): P9Time => (t === UTIME_SPECIAL_MS ? 'now' : t);
    return this.fs.utimens(path, time(atime), time(mtime));
  }

  private keep(handle: Handle): number {
    while (this.handles.has(this.nextFd) || this.nextFd === 0) this.nextFd = (this.nextFd + 1) % 0x7fffffff;
    const fd = this.nextFd;
    this.nextFd = (this.nextFd + 1) % 0x7fffffff;
    this.handles.set(fd, handle);
    return fd;
  }
}

function kindMode(kind: string): number {
  switch (kind) {
    case 'directory': return S_IFDIR | 0o755;
    case 'symlink': return 0o120777;
    case 'block': return 0o060644;
    case 'char': return 0o020644;
    case 'fifo': return 0o010644;
    case 'socket': return 0o140644;
    default: return 0o100644;
  }
}
