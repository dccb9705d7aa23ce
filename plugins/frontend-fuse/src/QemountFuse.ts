// fuse-native's Fuse with the two things it gets wrong for us replaced:
// - its option list has no `ro`, `big_writes`, `max_write`, `use_ino`, `negative_timeout`,
//   `kernel_cache`/`auto_cache` combination we want (and `userId` is broken): we build the -o
//   string ourselves;
// - its close() always runs `fusermount -uz` (lazy, and an error when already unmounted): ours
//   only releases fuse-native's native resources; the owner unmounts first (unmountFuse);
// - its utimens hands JS the access time twice (the modification time is lost): ours reads the
//   modification time from the native request itself (see realMtime).
import { createRequire } from 'node:module';
import { arch, endianness, platform } from 'node:os';
import { dirname } from 'node:path';
import Fuse from 'fuse-native';

interface Binding {
  fuse_native_unmount(mnt: string, thread: Buffer | null): void;
  op_utimens: number;
}

type NativeHandler = (locals: Buffer, opCode: number, ...args: unknown[]) => unknown;

/**
 * Where fuse-native's per-thread request struct (fuse_thread_locals_t) keeps utimens' two times,
 * in milliseconds, on 64-bit Linux: after 8 pointer-sized fields, off_t offset, size_t len,
 * mode_t mode, dev_t dev, uid_t uid and gid_t gid.
 */
const LOCALS_ATIME = 104;
const LOCALS_MTIME = 112;
const LOCALS_READABLE = platform() === 'linux' && (arch() === 'x64' || arch() === 'arm64') && endianness() === 'LE';

let binding: Binding | undefined;

/** fuse-native's native module (the same instance fuse-native loaded: require caches it). */
function nativeBinding(): Binding {
  if (!binding) {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('fuse-native/package.json'));
    const nodeGypBuild = createRequire(`${dir}/index.js`)('node-gyp-build') as (dir: string) => Binding;
    binding = nodeGypBuild(dir);
  }
  return binding;
}

export interface MountOptions {
  readOnly: boolean;
  /** Mount source shown by `mount` and /proc/mounts. */
  fsname: string;
  /** Shown as the type fuse.<subtype>. */
  subtype: string;
  /** Kernel attribute/entry cache, seconds. */
  attrTimeout: number;
  entryTimeout: number;
  negativeTimeout: number;
  /** Largest read and write request the kernel sends. */
  maxIo: number;
  allowOther: boolean;
  debug: boolean;
}

/** Escapes a value for libfuse's comma-separated option parser. */
function optionValue(value: string): string {
  return value.replace(/[\\,]/g, (c) => `\\${c}`);
}

export class QemountFuse extends Fuse {
  /** The native request struct of the utimens being dispatched (set only during the call). */
  private utimensLocals?: Buffer;

  constructor(mnt: string, ops: Fuse.Operations, readonly mountOptions: MountOptions) {
    // `timeout: false`: P9FuseOperations applies its own deadline (and releases what arrives late).
    super(mnt, ops, { force: true, mkdir: false, timeout: false, debug: mountOptions.debug });
    // The handler table goes to the native side at mount time: wrap utimens' entry to see the
    // request struct it is called with (its first argument).
    const handlers = (this as unknown as { _handlers: NativeHandler[] })._handlers;
    const op = nativeBinding().op_utimens;
    const original = handlers[op];
    if (original && LOCALS_READABLE) {
      handlers[op] = (locals, opCode, ...args) => {
        this.utimensLocals = locals;
        try {
          return original(locals, opCode, ...args);
        } finally {
          this.utimensLocals = undefined;
        }
      };
    }
  }

  /**
   * The modification time of the utimens being dispatched, read from the native struct; trusted
   * only when the access time next to it is the one fuse-native passed (else undefined).
   */
  private realMtime(atime: number): number | undefined {
    const locals = this.utimensLocals;
    if (!locals || locals.length < LOCALS_MTIME + 8) return undefined;
    if (Number(locals.readBigUInt64LE(LOCALS_ATIME)) !== atime) return undefined;
    return Number(locals.readBigUInt64LE(LOCALS_MTIME));
  }

  protected _op_utimens(signal: (result: number) => void, path: string, atimeLow: number, atimeHigh: number): void {
    const atime = atimeLow + atimeHigh * 0x1_0000_0000;
    const mtime = this.realMtime(atime) ?? atime;
    const ops = (this as unknown as { ops: Fuse.Operations }).ops;
    ops.utimens!(path, atime, mtime, (result) => signal(result));
  }

  /** The -o string handed to libfuse (fuse_mount + fuse_new). */
  optionString(): string {
    const o = this.mountOptions;
    const options = [
      o.readOnly ? 'ro' : 'rw',
      `subtype=${optionValue(o.subtype)}`,
      `attr_timeout=${o.attrTimeout}`,
      `entry_timeout=${o.entryTimeout}`,
      `negative_timeout=${o.negativeTimeout}`,
      // st_ino from the guest (hard links show as such); libfuse keeps its own node ids.
      'use_ino',
      // Read-only: the tree cannot change, keep file pages between opens. Read-write: keep them
      // while mtime and size stay the same.
      o.readOnly ? 'kernel_cache' : 'auto_cache',
      // No hard_remove: fuse-native crashes (NULL path) on the requests libfuse then sends for
      // an unlinked open file; libfuse renames such a file to .fuse_hidden* until it is closed.
      'big_writes',
      `max_write=${o.maxIo}`,
      `max_read=${o.maxIo}`,
    ];
    if (o.allowOther) options.push('allow_other');
    if (o.debug) options.push('debug');
    // fuse-native copies the option string into 1024 bytes: keep the source name within bounds.
    const rest = options.join(',');
    const room = 1000 - rest.length - '-o,fsname='.length;
    let name = o.fsname || 'qemount';
    while (name && Buffer.byteLength(optionValue(name)) > room) name = name.slice(0, Math.floor(name.length * 0.8));
    const fsname = optionValue(name || 'qemount');
    return `-o${rest},fsname=${fsname}`;
  }

  protected override _fuseOptions(): string {
    return this.optionString();
  }

  /** Called by unmount() once the owner has detached the mountpoint. */
  protected override _close(cb: (error: Error | null) => void): void {
    try {
      // Lets go of the handle that keeps Node's event loop alive for the FUSE thread (which ends
      // by itself when the kernel drops the connection).
      nativeBinding().fuse_native_unmount(this.mnt, this._thread);
    } catch (error) {
      return cb(error as Error);
    }
    cb(null);
  }
}
