// 9P2000.u: Plan 9's operations plus Unix extensions. Creation goes through Tcreate with DM* bits
// and an extension string, metadata changes through Twstat, removal through Tremove.
import type { P9Client, RequestOptions } from './P9Client.js';
import { DM, L_O, U_O } from './messages.js';
import { NOUID, WireReader, type StatU } from './wire.js';
import { removeByWalk, type Dialect, type P9Dirent } from './dialect.js';
import { P9Error } from './P9Error.js';
import { errnoNumber } from './errno.js';
import { kindOfMode, major, minor, statFromU, timeToSecNsec, uPermFromMode, type P9Time } from './stat.js';

/** A Twstat record that changes nothing; callers fill in what they change. */
function untouched(): StatU {
  return {
    type: 0xffff, dev: NOUID, qid: { type: 0xff, version: NOUID, path: 0xffffffffffffffffn }, mode: NOUID, atime: NOUID, mtime: NOUID,
    length: -1, name: '', uid: '', gid: '', muid: '', extension: '', n_uid: NOUID, n_gid: NOUID, n_muid: NOUID,
  };
}

function openMode(flags: number): number {
  const acc = flags & 3;
  return (acc === L_O.WRONLY ? U_O.WRITE : acc === L_O.RDWR ? U_O.RDWR : U_O.READ) | (flags & L_O.TRUNC ? U_O.TRUNC : 0);
}

function errno(name: string, op: string, path?: string): P9Error {
  return new P9Error(errnoNumber(name)!, { op, path });
}

export function dialectU(client: P9Client): Dialect {
  const seconds = (t: P9Time | undefined): number => (t === undefined ? NOUID : timeToSecNsec(t === 'now' ? Date.now() : t)[0]);
  /** Tcreate of a special file on a clone of dirfid (Tcreate turns its fid into the new file). */
  const createOn = async (dirfid: number, name: string, perm: number, extension: string, o: RequestOptions) => {
    const { fid } = await client.walk(dirfid, [], o);
    try {
      return (await client.request('create', { fid, name, perm, mode: U_O.READ, extension }, o)).qid;
    } finally {
      client.clunk(fid).catch(() => {});
    }
  };
  const stat = async (fid: number, o: RequestOptions) => (await client.request('stat', { fid }, o)).stat;

  return {
    getattr: async (fid, o) => statFromU(await stat(fid, o)),
    async setattr(fid, a, o) {
      const st = untouched();
      if (a.mode !== undefined) {
        // The DM type bits must stay as they are: keep the current ones.
        const current = await stat(fid, o);
        st.mode = ((current.mode & ~0o7777 & ~(DM.SETUID | DM.SETGID | DM.SETVTX)) | (uPermFromMode(a.mode) & ~0xff000000 & ~DM.DEVICE)) >>> 0;
      }
      if (a.uid !== undefined) st.n_uid = a.uid;
      if (a.gid !== undefined) st.n_gid = a.gid;
      if (a.size !== undefined) st.length = a.size;
      st.atime = seconds(a.atime);
      st.mtime = seconds(a.mtime);
      await client.request('wstat', { fid, stat: st }, o);
    },
    open: (fid, flags, o) => client.request('open', { fid, mode: openMode(flags) }, o),
    create: (dirfid, name, flags, mode, o) => client.request('create', { fid: dirfid, name, perm: mode & 0o777, mode: openMode(flags), extension: '' }, o),
    mkdir: (dirfid, name, mode, o) => createOn(dirfid, name, (DM.DIR | (mode & 0o777)) >>> 0, '', o),
    symlink: (dirfid, name, target, o) => createOn(dirfid, name, DM.SYMLINK | 0o777, target, o),
    mknod(dirfid, name, mode, rdev, o) {
      const kind = kindOfMode(mode);
      const extension = kind === 'block' || kind === 'char' ? `${kind === 'block' ? 'b' : 'c'} ${major(rdev)} ${minor(rdev)}` : '';
      return createOn(dirfid, name, uPermFromMode(mode), extension, o);
    },
    // .u names the existing file by its fid number in the extension.
    link: async (dirfid, fid, name, o) => void (await createOn(dirfid, name, DM.LINK, `${fid}\n`, o)),
    async readlink(fid, o) {
      const st = await stat(fid, o);
      if (!(st.mode & DM.SYMLINK)) throw errno('EINVAL', 'readlink', o.path);
      return st.extension;
    },
    async *readdir(fid: number, o: RequestOptions) {
      // A .u directory read returns whole stat records at byte offsets that only move forward.
      let offset = 0;
      for (;;) {
        const { data } = await client.request('read', { fid, offset, count: client.ioSize() }, o);
        if (!data.length) return;
        offset += data.length;
        const r = new WireReader(data);
        const page: P9Dirent[] = [];
        while (r.pos < data.length) {
          const raw = r.statRecord();
          if (raw.name === '.' || raw.name === '..') continue;
          const st = statFromU(raw);
          page.push({ name: raw.name, kind: st.kind, qid: st.qid, offset: BigInt(offset), stat: st });
        }
        yield page;
      }
    },
    unlink: (dirfid, name, directory, o) => removeByWalk(client, dirfid, name, directory, o),
    async rename(olddirfid, oldname, newdirfid, newname, o) {
      // Twstat renames within a directory only.
      if (olddirfid !== newdirfid) {
        const [a, b] = await Promise.all([stat(olddirfid, o), stat(newdirfid, o)]);
        if (a.qid.path !== b.qid.path) throw errno('EXDEV', 'rename', o.path);
      }
      const { fid } = await client.walk(olddirfid, [oldname], o);
      try {
        await client.request('wstat', { fid, stat: { ...untouched(), name: newname } }, o);
      } finally {
        client.clunk(fid).catch(() => {});
      }
    },
    statfs: async (_fid, o) => {
      throw errno('ENOSYS', 'statfs', o.path);
    },
    // An all-"don't touch" Twstat asks the server to commit the file to stable storage.
    fsync: async (fid, _datasync, o) => void (await client.request('wstat', { fid, stat: untouched() }, o)),
  };
}
