// Every 9P message this client speaks, as data: a type number and the field lists of its T- and
// R-message. One encoder and one decoder walk these lists; TypeScript derives each message's
// argument and reply types from the same table, so a field added here is typed everywhere.
// Formats: 9P2000 (Plan 9 intro(5)), 9P2000.u and 9P2000.L (Linux net/9p, diod's libnpfs).
import { QID_SIZE, WireReader, WireWriter, statRecordSize, type Qid, type StatU } from './wire.js';

/** Field kinds: integers, exact 64-bit (bigint), string, qid, counted lists, counted bytes, .u stat. */
export type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'u64n' | 's' | 'qid' | 'qids' | 'strs' | 'data' | 'stat';
type Field = readonly [name: string, kind: FieldKind];

interface KindTypes {
  u8: number; u16: number; u32: number; u64: number; u64n: bigint; s: string;
  qid: Qid; qids: Qid[]; strs: string[]; data: Buffer; stat: StatU;
}
/** What encode() accepts for a kind (data may be any byte array, lists may be readonly). */
interface KindInputs extends Omit<KindTypes, 'data' | 'qids' | 'strs'> {
  data: Uint8Array; qids: readonly Qid[]; strs: readonly string[];
}

/** Which dialect defines a message: both, or only one of them. */
type Dialect = 'both' | 'L' | 'u';

const fid = ['fid', 'u32'] as const;
const qid = ['qid', 'qid'] as const;
const iounit = ['iounit', 'u32'] as const;

export const MESSAGES = {
  // Base protocol, shared by .u and .L (attach/auth carry the n_uname both extensions add).
  version: { type: 100, dialect: 'both', T: [['msize', 'u32'], ['version', 's']], R: [['msize', 'u32'], ['version', 's']] },
  auth: { type: 102, dialect: 'both', T: [['afid', 'u32'], ['uname', 's'], ['aname', 's'], ['n_uname', 'u32']], R: [['aqid', 'qid']] },
  attach: { type: 104, dialect: 'both', T: [fid, ['afid', 'u32'], ['uname', 's'], ['aname', 's'], ['n_uname', 'u32']], R: [qid] },
  flush: { type: 108, dialect: 'both', T: [['oldtag', 'u16']], R: [] },
  walk: { type: 110, dialect: 'both', T: [fid, ['newfid', 'u32'], ['wnames', 'strs']], R: [['wqids', 'qids']] },
  read: { type: 116, dialect: 'both', T: [fid, ['offset', 'u64'], ['count', 'u32']], R: [['data', 'data']] },
  write: { type: 118, dialect: 'both', T: [fid, ['offset', 'u64'], ['data', 'data']], R: [['count', 'u32']] },
  clunk: { type: 120, dialect: 'both', T: [fid], R: [] },
  // Plan 9's; Linux also uses it on .L servers without unlinkat (diod 1.0.24).
  remove: { type: 122, dialect: 'both', T: [fid], R: [] },
  // 9P2000.u
  open: { type: 112, dialect: 'u', T: [fid, ['mode', 'u8']], R: [qid, iounit] },
  create: { type: 114, dialect: 'u', T: [fid, ['name', 's'], ['perm', 'u32'], ['mode', 'u8'], ['extension', 's']], R: [qid, iounit] },

  stat: { type: 124, dialect: 'u', T: [fid], R: [['stat', 'stat']] },
  wstat: { type: 126, dialect: 'u', T: [fid, ['stat', 'stat']], R: [] },
  // 9P2000.L
  statfs: {
    type: 8, dialect: 'L', T: [fid],
    R: [['type', 'u32'], ['bsize', 'u32'], ['blocks', 'u64'], ['bfree', 'u64'], ['bavail', 'u64'], ['files', 'u64'], ['ffree', 'u64'], ['fsid', 'u64n'], ['namelen', 'u32']],
  },
  lopen: { type: 12, dialect: 'L', T: [fid, ['flags', 'u32']], R: [qid, iounit] },
  lcreate: { type: 14, dialect: 'L', T: [fid, ['name', 's'], ['flags', 'u32'], ['mode', 'u32'], ['gid', 'u32']], R: [qid, iounit] },
  symlink: { type: 16, dialect: 'L', T: [fid, ['name', 's'], ['symtgt', 's'], ['gid', 'u32']], R: [qid] },
  mknod: { type: 18, dialect: 'L', T: [['dfid', 'u32'], ['name', 's'], ['mode', 'u32'], ['major', 'u32'], ['minor', 'u32'], ['gid', 'u32']], R: [qid] },
  rename: { type: 20, dialect: 'L', T: [fid, ['dfid', 'u32'], ['name', 's']], R: [] },
  readlink: { type: 22, dialect: 'L', T: [fid], R: [['target', 's']] },
  getattr: {
    type: 24, dialect: 'L', T: [fid, ['request_mask', 'u64']],
    R: [['valid', 'u64'], qid, ['mode', 'u32'], ['uid', 'u32'], ['gid', 'u32'], ['nlink', 'u64'], ['rdev', 'u64'], ['size', 'u64'],
      ['blksize', 'u64'], ['blocks', 'u64'], ['atime_sec', 'u64'], ['atime_nsec', 'u64'], ['mtime_sec', 'u64'], ['mtime_nsec', 'u64'],
      ['ctime_sec', 'u64'], ['ctime_nsec', 'u64'], ['btime_sec', 'u64'], ['btime_nsec', 'u64'], ['gen', 'u64'], ['data_version', 'u64']],
  },
  setattr: {
    type: 26, dialect: 'L',
    T: [fid, ['valid', 'u32'], ['mode', 'u32'], ['uid', 'u32'], ['gid', 'u32'], ['size', 'u64'],
      ['atime_sec', 'u64'], ['atime_nsec', 'u64'], ['mtime_sec', 'u64'], ['mtime_nsec', 'u64']],
    R: [],
  },
  xattrwalk: { type: 30, dialect: 'L', T: [fid, ['newfid', 'u32'], ['name', 's']], R: [['size', 'u64']] },
  xattrcreate: { type: 32, dialect: 'L', T: [fid, ['name', 's'], ['attr_size', 'u64'], ['flags', 'u32']], R: [] },
  readdir: { type: 40, dialect: 'L', T: [fid, ['offset', 'u64n'], ['count', 'u32']], R: [['data', 'data']] },
  // Linux sends datasync; diod reads only the fid and ignores the rest.
  fsync: { type: 50, dialect: 'L', T: [fid, ['datasync', 'u32']], R: [] },
  lock: {
    type: 52, dialect: 'L',
    T: [fid, ['type', 'u8'], ['flags', 'u32'], ['start', 'u64'], ['length', 'u64'], ['proc_id', 'u32'], ['client_id', 's']],
    R: [['status', 'u8']],
  },
  getlock: {
    type: 54, dialect: 'L',
    T: [fid, ['type', 'u8'], ['start', 'u64'], ['length', 'u64'], ['proc_id', 'u32'], ['client_id', 's']],
    R: [['type', 'u8'], ['start', 'u64'], ['length', 'u64'], ['proc_id', 'u32'], ['client_id', 's']],
  },
  link: { type: 70, dialect: 'L', T: [['dfid', 'u32'], fid, ['name', 's']], R: [] },
  mkdir: { type: 72, dialect: 'L', T: [['dfid', 'u32'], ['name', 's'], ['mode', 'u32'], ['gid', 'u32']], R: [qid] },
  renameat: { type: 74, dialect: 'L', T: [['olddirfid', 'u32'], ['oldname', 's'], ['newdirfid', 'u32'], ['newname', 's']], R: [] },
  unlinkat: { type: 76, dialect: 'L', T: [['dirfid', 'u32'], ['name', 's'], ['flags', 'u32']], R: [] },
} as const satisfies Record<string, { type: number; dialect: Dialect; T: readonly Field[]; R: readonly Field[] }>;

export type MessageName = keyof typeof MESSAGES;
type FieldsOf<F extends readonly Field[], Types> = { [E in F[number] as E[0]]: Types[E[1] & keyof Types] };
/** The arguments of a T-message. */
export type TArgs<N extends MessageName> = FieldsOf<(typeof MESSAGES)[N]['T'], KindInputs>;
/** The decoded R-message. */
export type RReply<N extends MessageName> = FieldsOf<(typeof MESSAGES)[N]['R'], KindTypes>;

/** Error replies carry no T counterpart. */
export const RLERROR = 7;
export const RERROR = 107;
export const NOTAG = 0xffff;
export const NOFID = 0xffffffff;
export const HEADER_SIZE = 7;
/** size[4] type[1] tag[2] fid[4] offset[8] count[4] — rounded to diod's P9_IOHDRSZ. */
export const IO_HEADER_SIZE = 24;

/** Reply type number -> message name, for decoding. */
const byReplyType = new Map<number, MessageName>(
  (Object.keys(MESSAGES) as MessageName[]).map((name) => [MESSAGES[name].type + 1, name]),
);

export function replyName(type: number): MessageName | undefined {
  return byReplyType.get(type);
}

function fieldSize(kind: FieldKind, value: unknown): number {
  switch (kind) {
    case 'u8': return 1;
    case 'u16': return 2;
    case 'u32': return 4;
    case 'u64': case 'u64n': return 8;
    case 's': return 2 + Buffer.byteLength(value as string);
    case 'qid': return QID_SIZE;
    case 'qids': return 2 + QID_SIZE * (value as Qid[]).length;
    case 'strs': return (value as string[]).reduce((n, s) => n + 2 + Buffer.byteLength(s), 2);
    case 'data': return 4 + (value as Uint8Array).length;
    case 'stat': return 2 + statRecordSize(value as StatU);
  }
}

function writeField(w: WireWriter, kind: FieldKind, value: unknown): void {
  (w[kind] as (v: unknown) => void).call(w, value);
}

/** Encodes a T- (or, for test servers, R-) message of `name` with `tag` into one buffer. */
export function encode(name: MessageName, side: 'T' | 'R', tag: number, args: Record<string, unknown>): Buffer {
  const spec = MESSAGES[name];
  const fields: readonly Field[] = spec[side];
  let size = HEADER_SIZE;
  for (const [field, kind] of fields) {
    const value = args[field];
    if (value === undefined) throw new TypeError(`9P ${side}${name}: field "${field}" is missing`);
    size += fieldSize(kind, value);
  }
  const buf = Buffer.allocUnsafe(size);
  const w = new WireWriter(buf);
  w.u32(size);
  w.u8(side === 'T' ? spec.type : spec.type + 1);
  w.u16(tag);
  for (const [field, kind] of fields) writeField(w, kind, args[field]);
  return buf;
}

/** Decodes the body (after the 7-byte header) of a message of `name`. */
export function decode(name: MessageName, side: 'T' | 'R', frame: Buffer): Record<string, unknown> {
  const fields: readonly Field[] = MESSAGES[name][side];
  const r = new WireReader(frame, HEADER_SIZE);
  const out: Record<string, unknown> = {};
  for (const [field, kind] of fields) out[field] = r[kind]();
  return out;
}

/** Qid type bits. */
export const QT = { DIR: 0x80, APPEND: 0x40, EXCL: 0x20, MOUNT: 0x10, AUTH: 0x08, TMP: 0x04, SYMLINK: 0x02, LINK: 0x01, FILE: 0 } as const;

/** Tgetattr request_mask / Rgetattr valid bits. */
export const GETATTR = {
  MODE: 0x1, NLINK: 0x2, UID: 0x4, GID: 0x8, RDEV: 0x10, ATIME: 0x20, MTIME: 0x40, CTIME: 0x80, INO: 0x100, SIZE: 0x200,
  BLOCKS: 0x400, BTIME: 0x800, GEN: 0x1000, DATA_VERSION: 0x2000, BASIC: 0x7ff, ALL: 0x3fff,
} as const;

/** Tsetattr valid bits. */
export const SETATTR = {
  MODE: 0x1, UID: 0x2, GID: 0x4, SIZE: 0x8, ATIME: 0x10, MTIME: 0x20, CTIME: 0x40, ATIME_SET: 0x80, MTIME_SET: 0x100,
} as const;

/** Linux open(2) flags as 9P2000.L carries them. */
export const L_O = {
  RDONLY: 0, WRONLY: 1, RDWR: 2, CREAT: 0o100, EXCL: 0o200, NOCTTY: 0o400, TRUNC: 0o1000, APPEND: 0o2000,
  NONBLOCK: 0o4000, DSYNC: 0o10000, DIRECTORY: 0o200000, NOFOLLOW: 0o400000, SYNC: 0o4010000,
} as const;

/** 9P2000(.u) Topen/Tcreate mode byte and .u permission bits. */
export const U_O = { READ: 0, WRITE: 1, RDWR: 2, EXEC: 3, TRUNC: 0x10, RCLOSE: 0x40 } as const;
export const DM = {
  DIR: 0x80000000, APPEND: 0x40000000, EXCL: 0x20000000, MOUNT: 0x10000000, AUTH: 0x08000000, TMP: 0x04000000,
  SYMLINK: 0x02000000, LINK: 0x01000000, DEVICE: 0x00800000, NAMEDPIPE: 0x00200000, SOCKET: 0x00100000,
  SETUID: 0x00080000, SETGID: 0x00040000, SETVTX: 0x00010000,
} as const;

/** Tlock types/flags and Rlock status. */
export const LOCK = { RDLCK: 0, WRLCK: 1, UNLCK: 2, FLAGS_BLOCK: 1, FLAGS_RECLAIM: 2, SUCCESS: 0, BLOCKED: 1, ERROR: 2, GRACE: 3 } as const;

/** unlinkat flag for rmdir. */
export const AT_REMOVEDIR = 0x200;
