// The operations whose messages differ between 9P2000.L and 9P2000.u. P9Fs speaks only this
// interface; dialectL.ts and dialectU.ts map it onto their own messages.
import type { P9Client, RequestOptions } from './P9Client.js';
import { QT } from './messages.js';
import { P9Error } from './P9Error.js';
import { errnoNumber } from './errno.js';
import type { Qid } from './wire.js';
import type { P9FileKind, P9Stat, P9StatFs, P9Time } from './stat.js';

export interface P9SetAttrs {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: P9Time;
  mtime?: P9Time;
}

export interface P9Dirent {
  name: string;
  kind: P9FileKind;
  qid: Qid;
  /** The server's cookie for the entry after this one. */
  offset: bigint;
  /** Attributes, when asked for (9P2000.u always has them). */
  stat?: P9Stat;
}

export interface Opened {
  qid: Qid;
  iounit: number;
}

export interface Dialect {
  getattr(fid: number, o: RequestOptions): Promise<P9Stat>;
  setattr(fid: number, attrs: P9SetAttrs, o: RequestOptions): Promise<void>;
  /** Opens `fid` with Linux open(2) flags. */
  open(fid: number, flags: number, o: RequestOptions): Promise<Opened>;
  /** Creates `name` in the directory `dirfid`, which becomes the opened new file. */
  create(dirfid: number, name: string, flags: number, mode: number, o: RequestOptions): Promise<Opened>;
  mkdir(dirfid: number, name: string, mode: number, o: RequestOptions): Promise<Qid>;
  symlink(dirfid: number, name: string, target: string, o: RequestOptions): Promise<Qid>;
  mknod(dirfid: number, name: string, mode: number, rdev: number, o: RequestOptions): Promise<Qid>;
  link(dirfid: number, fid: number, name: string, o: RequestOptions): Promise<void>;
  readlink(fid: number, o: RequestOptions): Promise<string>;
  /** Pages of entries of an opened directory fid ('.' and '..' left out). */
  readdir(fid: number, o: RequestOptions): AsyncIterable<P9Dirent[]>;
  unlink(dirfid: number, name: string, directory: boolean, o: RequestOptions): Promise<void>;
  rename(olddirfid: number, oldname: string, newdirfid: number, newname: string, o: RequestOptions): Promise<void>;
  statfs(fid: number, o: RequestOptions): Promise<P9StatFs>;
  fsync(fid: number, datasync: boolean, o: RequestOptions): Promise<void>;
}

/** unlink/rmdir by Tremove of the walked file (9P2000.u, and .L servers without unlinkat). */
export async function removeByWalk(client: P9Client, dirfid: number, name: string, directory: boolean, o: RequestOptions): Promise<void> {
  const { fid, qid } = await client.walk(dirfid, [name], o);
  // Tremove removes either kind: the type check gives unlink(2)/rmdir(2) their errors.
  const isDir = !!qid && (qid.type & QT.DIR) !== 0;
  if (isDir !== directory) {
    client.clunk(fid).catch(() => {});
    throw new P9Error(errnoNumber(directory ? 'ENOTDIR' : 'EISDIR')!, { op: directory ? 'rmdir' : 'unlink', path: o.path });
  }
  try {
    await client.request('remove', { fid }, o);
  } finally {
    client.releaseFid(fid); // Tremove clunks the fid even when it fails
  }
}
