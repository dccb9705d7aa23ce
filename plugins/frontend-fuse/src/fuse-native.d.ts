// Types for the parts of fuse-native 2.2.6 this plugin uses (the package ships none).
declare module 'fuse-native' {
  namespace Fuse {
    /** What getattr answers: times are epoch milliseconds (fuse-native drops sub-millisecond parts). */
    interface Stat {
      mode: number;
      uid: number;
      gid: number;
      size: number;
      dev?: number;
      nlink: number;
      /** Truncated to 32 bits by fuse-native. */
      ino: number;
      rdev: number;
      blksize: number;
      blocks: number;
      atime: number | Date;
      mtime: number | Date;
      ctime: number | Date;
    }

    /** Every field is truncated to 32 bits by fuse-native. */
    interface StatFs {
      bsize: number;
      frsize: number;
      blocks: number;
      bfree: number;
      bavail: number;
      files: number;
      ffree: number;
      favail: number;
      fsid: number;
      flag: number;
      namemax: number;
    }

    /** 0 or a negative errno. */
    type Done = (result: number) => void;

    interface Operations {
      init?(cb: Done): void;
      statfs?(path: string, cb: (result: number, statfs?: StatFs) => void): void;
      getattr?(path: string, cb: (result: number, stat?: Stat) => void): void;
      readdir?(path: string, cb: (result: number, names?: string[], stats?: Stat[]) => void): void;
      readlink?(path: string, cb: (result: number, target?: string) => void): void;
      open?(path: string, flags: number, cb: (result: number, fd?: number) => void): void;
      create?(path: string, mode: number, cb: (result: number, fd?: number) => void): void;
      read?(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (bytesOrError: number) => void): void;
      write?(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (bytesOrError: number) => void): void;
      flush?(path: string, fd: number, cb: Done): void;
      release?(path: string, fd: number, cb: Done): void;
      fsync?(path: string, datasync: number, fd: number, cb: Done): void;
      truncate?(path: string, size: number, cb: Done): void;
      ftruncate?(path: string, fd: number, size: number, cb: Done): void;
      mkdir?(path: string, mode: number, cb: Done): void;
      rmdir?(path: string, cb: Done): void;
      unlink?(path: string, cb: Done): void;
      rename?(src: string, dest: string, cb: Done): void;
      /** symlink(target, path) */
      symlink?(target: string, path: string, cb: Done): void;
      /** link(existing, newPath) */
      link?(existing: string, path: string, cb: Done): void;
      chmod?(path: string, mode: number, cb: Done): void;
      chown?(path: string, uid: number, gid: number, cb: Done): void;
      utimens?(path: string, atime: number, mtime: number, cb: Done): void;
      mknod?(path: string, mode: number, dev: number, cb: Done): void;
    }

    interface Options {
      /** Per-operation timeout in ms (default 15000); false disables it. */
      timeout?: number | false | Record<string, number | false>;
      force?: boolean;
      mkdir?: boolean;
      debug?: boolean;
      [option: string]: unknown;
    }
  }

  class Fuse {
    constructor(mnt: string, ops: Fuse.Operations, opts?: Fuse.Options);
    readonly mnt: string;
    readonly opts: Fuse.Options;
    mount(cb: (error: Error | null) => void): void;
    unmount(cb: (error: Error | null) => void): void;
    /** Internals overridden by QemountFuse. */
    protected _fuseOptions(): string;
    protected _close(cb: (error: Error | null) => void): void;
    protected _thread: Buffer | null;
    static unmount(mnt: string, cb: (error: Error | null) => void): void;
  }

  export = Fuse;
}
