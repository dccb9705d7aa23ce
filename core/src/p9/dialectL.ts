// 9P2000.L: Linux's own operations, one message each.
import type { P9Client, RequestOptions } from './P9Client.js';
import { AT_REMOVEDIR, GETATTR, SETATTR } from './messages.js';
import type { P9Error } from './P9Error.js';
import { WireReader } from './wire.js';
import { removeByWalk, type Dialect, type P9Dirent, type P9SetAttrs } from './dialect.js';
import { kindOfDirentType, major, minor, statFromGetattr, timeToSecNsec, type P9Time } from './stat.js';

/** gid to create with: diod (and Linux) take the attaching user's group when given ~0... not all servers do, so send 0-based defaults. */
const NO_GID = 0xffffffff;

export function dialectL(client: P9Client, gid = NO_GID): Dialect {
  const setTime = (t: P9Time | undefined, bit: number, setBit: number): [number, number, number] => {
    if (t === undefined) return [0, 0, 0];
    if (t === 'now') return [bit, 0, 0];
    const [sec, nsec] = timeToSecNsec(t);
    return [bit | setBit, sec, nsec];
  };
  // diod 1.0.24 answers renameat/unlinkat with EOPNOTSUPP (so does Linux's fallback): remember it.
  let hasAt = true;
  return {
    async getattr(fid, o) {
      return statFromGetattr(await client.request('getattr', { fid, request_mask: GETATTR.ALL }, o));
    },
    async setattr(fid, a: P9SetAttrs, o) {
      const [av, atime_sec, atime_nsec] = setTime(a.atime, SETATTR.ATIME, SETATTR.ATIME_SET);
      const [mv, mtime_sec, mtime_nsec] = setTime(a.mtime, SETATTR.MTIME, SETATTR.MTIME_SET);
      const valid = (a.mode !== undefined ? SETATTR.MODE : 0) | (a.uid !== undefined ? SETATTR.UID : 0) | (a.gid !== undefined ? SETATTR.GID : 0)
        | (a.size !== undefined ? SETATTR.SIZE : 0) | av | mv;
      await client.request('setattr', {
        fid, valid, mode: a.mode ?? 0, uid: a.uid ?? 0, gid: a.gid ?? 0, size: a.size ?? 0, atime_sec, atime_nsec, mtime_sec, mtime_nsec,
      }, o);
    },
    open: (fid, flags, o) => client.request('lopen', { fid, flags }, o),
    create: (dirfid, name, flags, mode, o) => client.request('lcreate', { fid: dirfid, name, flags, mode, gid }, o),
    mkdir: async (dfid, name, mode, o) => (await client.request('mkdir', { dfid, name, mode, gid }, o)).qid,
    symlink: async (fid, name, symtgt, o) => (await client.request('symlink', { fid, name, symtgt, gid }, o)).qid,
    mknod: async (dfid, name, mode, rdev, o) => (await client.request('mknod', { dfid, name, mode, major: major(rdev), minor: minor(rdev), gid }, o)).qid,
    link: async (dfid, fid, name, o) => void (await client.request('link', { dfid, fid, name }, o)),
    readlink: async (fid, o) => (await client.request('readlink', { fid }, o)).target,
    async *readdir(fid: number, o: RequestOptions) {
      let offset = 0n;
      for (;;) {
        const { data } = await client.request('readdir', { fid, offset, count: client.ioSize() }, o);
        if (!data.length) return;
        const r = new WireReader(data);
        const page: P9Dirent[] = [];
        while (r.pos < data.length) {
          const qid = r.qid();
          offset = r.u64n();
          const type = r.u8();
          const name = r.s();
          if (name !== '.' && name !== '..') page.push({ name, kind: kindOfDirentType(type), qid, offset });
        }
        yield page;
      }
    },
    async unlink(dirfid, name, directory, o) {
      if (hasAt) {
        try {
          return void (await client.request('unlinkat', { dirfid, name, flags: directory ? AT_REMOVEDIR : 0 }, o));
        } catch (error) {
          if ((error as P9Error).code !== 'EOPNOTSUPP') throw error;
          hasAt = false;
        }
      }
      return removeByWalk(client, dirfid, name, directory, o);
    },
    async rename(olddirfid, oldname, newdirfid, newname, o) {
      if (hasAt) {
        try {
          return void (await client.request('renameat', { olddirfid, oldname, newdirfid, newname }, o));
        } catch (error) {
          if ((error as P9Error).code !== 'EOPNOTSUPP') throw error;
          hasAt = false;
        }
      }
      const { fid } = await client.walk(olddirfid, [oldname], o);
      try {
        await client.request('rename', { fid, dfid: newdirfid, name: newname }, o);
      } finally {
        client.clunk(fid).catch(() => {});
      }
    },
    async statfs(fid, o) {
      const { type, bsize, blocks, bfree, bavail, files, ffree, fsid, namelen } = await client.request('statfs', { fid }, o);
      return { type, bsize, blocks, bfree, bavail, files, ffree, fsid, namelen };
    },
    fsync: async (fid, datasync, o) => void (await client.request('fsync', { fid, datasync: datasync ? 1 : 0 }, o)),
  };
}
