// One attribute shape for both dialects: what stat(2) gives, as a FUSE getattr or `ls -l` needs it.
import type { RReply } from './messages.js';
import { DM } from './messages.js';
import type { Qid, StatU } from './wire.js';

export type P9FileKind = 'file' | 'directory' | 'symlink' | 'block' | 'char' | 'fifo' | 'socket' | 'unknown';

export interface P9Stat {
  kind: P9FileKind;
  /** st_mode: file type bits (S_IFMT) and permissions. */
  mode: number;
  size: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  blksize: number;
  blocks: number;
  /** The server's file identity (qid.path), the inode number on diod. */
  ino: bigint;
  qid: Qid;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  /** Birth time when the server knows it (9P2000.L with statx). */
  btimeNs?: bigint;
}

export interface P9StatFs {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  fsid: bigint;
  namelen: number;
}

export const S_IFMT = 0o170000;
const KIND_BY_TYPE: Record<number, P9FileKind> = {
  0o100000: 'file', 0o040000: 'directory', 0o120000: 'symlink', 0o060000: 'block', 0o020000: 'char', 0o010000: 'fifo', 0o140000: 'socket',
};
const TYPE_BY_KIND = Object.fromEntries(Object.entries(KIND_BY_TYPE).map(([t, k]) => [k, Number(t)])) as Record<P9FileKind, number>;

export function kindOfMode(mode: number): P9FileKind {
  return KIND_BY_TYPE[mode & S_IFMT] ?? 'unknown';
}

/** Directory entry type (DT_*, as Treaddir gives it) to a kind. */
export function kindOfDirentType(type: number): P9FileKind {
  return (['unknown', 'fifo', 'char', 'unknown', 'directory', 'unknown', 'block', 'unknown', 'file', 'unknown', 'symlink', 'unknown', 'socket'] as const)[type] ?? 'unknown';
}

const NS = 1_000_000_000n;

function time(sec: number, nsec: number): [bigint, number] {
  return [BigInt(sec) * NS + BigInt(nsec), sec * 1000 + nsec / 1e6];
}

export function statFromGetattr(r: RReply<'getattr'>): P9Stat {
  const [atimeNs, atimeMs] = time(r.atime_sec, r.atime_nsec);
  const [mtimeNs, mtimeMs] = time(r.mtime_sec, r.mtime_nsec);
  const [ctimeNs, ctimeMs] = time(r.ctime_sec, r.ctime_nsec);
  const st: P9Stat = {
    kind: kindOfMode(r.mode), mode: r.mode, size: r.size, nlink: r.nlink, uid: r.uid, gid: r.gid, rdev: r.rdev,
    blksize: r.blksize, blocks: r.blocks, ino: r.qid.path, qid: r.qid, atimeNs, mtimeNs, ctimeNs, atimeMs, mtimeMs, ctimeMs,
  };
  if (r.btime_sec || r.btime_nsec) st.btimeNs = time(r.btime_sec, r.btime_nsec)[0];
  return st;
}

/** 9P2000.u: the DM* bits say the type; devices carry "b|c major minor" in the extension. */
export function statFromU(s: StatU): P9Stat {
  let kind: P9FileKind = 'file';
  let rdev = 0;
  if (s.mode & DM.DIR) kind = 'directory';
  else if (s.mode & DM.SYMLINK) kind = 'symlink';
  else if (s.mode & DM.NAMEDPIPE) kind = 'fifo';
  else if (s.mode & DM.SOCKET) kind = 'socket';
  else if (s.mode & DM.DEVICE) {
    const [t, major, minor] = s.extension.split(' ');
    kind = t === 'b' ? 'block' : 'char';
    rdev = makedev(Number(major) || 0, Number(minor) || 0);
  }
  let mode = TYPE_BY_KIND[kind] | (s.mode & 0o777);
  if (s.mode & DM.SETUID) mode |= 0o4000;
  if (s.mode & DM.SETGID) mode |= 0o2000;
  if (s.mode & DM.SETVTX) mode |= 0o1000;
  const [atimeNs, atimeMs] = time(s.atime, 0);
  const [mtimeNs, mtimeMs] = time(s.mtime, 0);
  const size = kind === 'symlink' ? Buffer.byteLength(s.extension) : s.length;
  return {
    kind, mode, size, nlink: 1, uid: s.n_uid === 0xffffffff ? 0 : s.n_uid, gid: s.n_gid === 0xffffffff ? 0 : s.n_gid, rdev,
    blksize: 4096, blocks: Math.ceil(size / 512), ino: s.qid.path, qid: s.qid,
    atimeNs, mtimeNs, ctimeNs: mtimeNs, atimeMs, mtimeMs, ctimeMs: mtimeMs,
  };
}

/** A Linux st_mode to 9P2000.u permission bits (type in DM*). */
export function uPermFromMode(mode: number): number {
  const kind = kindOfMode(mode);
  let perm = mode & 0o777;
  if (kind === 'directory') perm |= DM.DIR;
  else if (kind === 'symlink') perm |= DM.SYMLINK;
  else if (kind === 'fifo') perm |= DM.NAMEDPIPE;
  else if (kind === 'socket') perm |= DM.SOCKET;
  else if (kind === 'block' || kind === 'char') perm |= DM.DEVICE;
  if (mode & 0o4000) perm |= DM.SETUID;
  if (mode & 0o2000) perm |= DM.SETGID;
  if (mode & 0o1000) perm |= DM.SETVTX;
  return perm >>> 0;
}

/** Linux dev_t encoding (glibc's makedev). */
export function makedev(major: number, minor: number): number {
  return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12) | ((major & ~0xfff) * 2 ** 32);
}

export function major(dev: number): number {
  return ((dev >>> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
}

export function minor(dev: number): number {
  return (dev & 0xff) | ((dev >>> 12) & ~0xff);
}

/** A time for setattr/utimens: a Date, epoch milliseconds, epoch nanoseconds (bigint), or 'now'. */
export type P9Time = Date | number | bigint | 'now';

export function timeToSecNsec(t: Exclude<P9Time, 'now'>): [number, number] {
  if (typeof t === 'bigint') return [Number(t / NS), Number(t % NS)];
  const ms = t instanceof Date ? t.getTime() : t;
  const sec = Math.floor(ms / 1000);
  return [sec, Math.round((ms - sec * 1000) * 1e6)];
}
