// A small 9P2000.u file server over a host directory, for testing the client's .u dialect: no
// 9P2000.u server is packaged for Debian (diod speaks only .L). Its message layouts are written out
// here by hand from the 9P2000/9P2000.u documents, independently of src/p9/messages.ts, so a codec
// mistake on the client side cannot be mirrored by the server.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { constants } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { WireReader, WireWriter } from '../../src/p9/wire.js';

export interface UServerOptions {
  /** Send errno 0 in Rerror, like a Plan 9 server: the client must map the text. */
  plan9Errors?: boolean;
  /** Withhold Tread replies until the client flushes them (to test Tflush). */
  stallReads?: boolean;
}

interface Fid {
  path: string;
  fd?: number;
  dirData?: Buffer;
}

const DMDIR = 0x80000000;
const DMSYMLINK = 0x02000000;
const DMLINK = 0x01000000;
const DMDEVICE = 0x00800000;
const DMNAMEDPIPE = 0x00200000;
const NOVAL = 0xffffffff;

class Rerror extends Error {
  constructor(message: string, readonly errno: number) {
    super(message);
  }
}

function fromNode(error: NodeJS.ErrnoException): Rerror {
  const errno = (constants.errno as Record<string, number>)[error.code ?? ''] ?? 5;
  const text = error.code === 'ENOENT' ? 'file does not exist' : error.code === 'EEXIST' ? 'file already exists' : (error.message.split(',')[0].split(': ')[1] ?? error.message);
  return new Rerror(text, errno);
}

function qidOf(st: fs.Stats): { type: number; version: number; path: bigint } {
  return { type: st.isDirectory() ? 0x80 : st.isSymbolicLink() ? 0x02 : 0, version: Math.floor(st.mtimeMs) >>> 0, path: BigInt(st.ino) };
}

/** A 9P2000.u stat record as bytes: size[2] type[2] dev[4] qid[13] mode[4] atime[4] mtime[4] length[8] name uid gid muid extension n_uid n_gid n_muid. */
function statBytes(path: string, name: string): Buffer {
  const st = fs.lstatSync(path);
  let mode = st.mode & 0o777;
  let extension = '';
  if (st.isDirectory()) mode |= DMDIR;
  else if (st.isSymbolicLink()) {
    mode |= DMSYMLINK;
    extension = fs.readlinkSync(path);
  } else if (st.isFIFO()) mode |= DMNAMEDPIPE;
  else if (st.isCharacterDevice() || st.isBlockDevice()) {
    mode |= DMDEVICE;
    extension = `${st.isBlockDevice() ? 'b' : 'c'} ${(st.rdev >> 8) & 0xfff} ${st.rdev & 0xff}`;
  }
  const strs = [name, String(st.uid), String(st.gid), '', extension].map((s) => Buffer.from(s));
  const size = 2 + 4 + 13 + 4 + 4 + 4 + 8 + strs.reduce((n, s) => n + 2 + s.length, 0) + 12;
  const w = new WireWriter(Buffer.alloc(2 + size));
  w.u16(size);
  w.u16(0);
  w.u32(0);
  w.qid(qidOf(st));
  w.u32(mode >>> 0);
  w.u32(Math.floor(st.atimeMs / 1000));
  w.u32(Math.floor(st.mtimeMs / 1000));
  w.u64(st.isDirectory() ? 0 : st.size);
  for (const s of strs) {
    w.u16(s.length);
    w.buf.set(s, w.pos);
    w.pos += s.length;
  }
  w.u32(st.uid);
  w.u32(st.gid);
  w.u32(NOVAL);
  return w.buf;
}

/** Serves one connection until it closes. */
export function serveU(stream: Duplex, root: string, options: UServerOptions = {}): void {
  const fids = new Map<number, Fid>();
  const stalled = new Set<number>();
  let msize = 8192;
  let buffered = Buffer.alloc(0);

  const reply = (type: number, tag: number, body: (w: WireWriter) => void, size: number) => {
    const w = new WireWriter(Buffer.alloc(7 + size));
    w.u32(7 + size);
    w.u8(type);
    w.u16(tag);
    body(w);
    stream.write(w.buf);
  };
  const getFid = (n: number): Fid => {
    const f = fids.get(n);
    if (!f) throw new Rerror('fid unknown or out of range', 9);
    return f;
  };

  const handle = (frame: Buffer) => {
    const r = new WireReader(frame, 7);
    const type = frame[4];
    const tag = frame.readUInt16LE(5);
    try {
      switch (type) {
        case 100: { // Tversion msize[4] version[s]
          msize = Math.min(r.u32(), 65536);
          const asked = r.s();
          const version = asked === '9P2000.u' ? '9P2000.u' : 'unknown';
          return reply(101, tag, (w) => (w.u32(msize), w.s(version)), 4 + 2 + Buffer.byteLength(version));
        }
        case 104: { // Tattach fid afid uname aname n_uname
          const fid = r.u32();
          fids.set(fid, { path: root });
          return reply(105, tag, (w) => w.qid(qidOf(fs.statSync(root))), 13);
        }
        case 108: { // Tflush oldtag
          stalled.delete(r.u16());
          return reply(109, tag, () => {}, 0);
        }
        case 110: { // Twalk fid newfid nwname*wname
          const from = getFid(r.u32());
          const newfid = r.u32();
          const names = r.strs();
          const qids: ReturnType<typeof qidOf>[] = [];
          let path = from.path;
          for (const name of names) {
            const next = name === '..' ? (path === root ? root : dirname(path)) : join(path, name);
            let st: fs.Stats;
            try {
              st = fs.lstatSync(next);
            } catch (error) {
              if (!qids.length) throw fromNode(error as NodeJS.ErrnoException);
              break;
            }
            qids.push(qidOf(st));
            path = next;
            if (!st.isDirectory()) break;
          }
          if (qids.length === names.length) fids.set(newfid, { path });
          return reply(111, tag, (w) => w.qids(qids), 2 + 13 * qids.length);
        }
        case 112: case 114: { // Topen fid mode / Tcreate fid name perm mode extension
          const f = getFid(r.u32());
          let mode: number;
          if (type === 114) {
            const name = r.s();
            const perm = r.u32();
            mode = r.u8();
            const extension = r.s();
            const path = join(f.path, name);
            if (perm & DMDIR) fs.mkdirSync(path, perm & 0o777);
            else if (perm & DMSYMLINK) fs.symlinkSync(extension, path);
            else if (perm & DMLINK) fs.linkSync(getFid(Number.parseInt(extension, 10)).path, path);
            else if (perm & DMNAMEDPIPE) execFileSync('mkfifo', ['-m', (perm & 0o777).toString(8), path]);
            else if (perm & DMDEVICE) execFileSync('mknod', [path, ...extension.split(' ')]);
            else fs.closeSync(fs.openSync(path, 'wx', perm & 0o777));
            f.path = path;
          } else mode = r.u8();
          const st = fs.lstatSync(f.path);
          if (st.isFile()) {
            const acc = mode & 3;
            f.fd = fs.openSync(f.path, (acc === 1 ? fs.constants.O_WRONLY : acc === 2 ? fs.constants.O_RDWR : fs.constants.O_RDONLY) | (mode & 0x10 ? fs.constants.O_TRUNC : 0));
          }
          return reply(type + 1, tag, (w) => (w.qid(qidOf(st)), w.u32(0)), 17);
        }
        case 116: { // Tread fid offset count
          const f = getFid(r.u32());
          const offset = r.u64();
          const count = r.u32();
          if (options.stallReads) {
            stalled.add(tag);
            return;
          }
          let data: Buffer;
          if (f.fd !== undefined) {
            data = Buffer.alloc(count);
            data = data.subarray(0, fs.readSync(f.fd, data, 0, count, offset));
          } else {
            // Directory: whole stat records, never split across reads.
            if (offset === 0) f.dirData = Buffer.concat(fs.readdirSync(f.path).map((n) => statBytes(join(f.path, n), n)));
            const all = f.dirData ?? Buffer.alloc(0);
            let end = offset;
            while (end < all.length && end + 2 + all.readUInt16LE(end) - offset <= count) end += 2 + all.readUInt16LE(end);
            data = all.subarray(offset, end);
          }
          return reply(117, tag, (w) => w.data(data), 4 + data.length);
        }
        case 118: { // Twrite fid offset count data
          const f = getFid(r.u32());
          const offset = r.u64();
          const data = r.data();
          const n = fs.writeSync(f.fd!, data, 0, data.length, offset);
          return reply(119, tag, (w) => w.u32(n), 4);
        }
        case 120: case 122: { // Tclunk / Tremove fid
          const fid = r.u32();
          const f = getFid(fid);
          fids.delete(fid);
          if (f.fd !== undefined) fs.closeSync(f.fd);
          if (type === 122) {
            if (fs.lstatSync(f.path).isDirectory()) fs.rmdirSync(f.path);
            else fs.unlinkSync(f.path);
          }
          return reply(type + 1, tag, () => {}, 0);
        }
        case 124: { // Tstat fid
          const f = getFid(r.u32());
          const st = statBytes(f.path, f.path === root ? '/' : basename(f.path));
          return reply(125, tag, (w) => (w.u16(st.length), w.buf.set(st, w.pos)), 2 + st.length);
        }
        case 126: { // Twstat fid stat[n]
          const f = getFid(r.u32());
          r.u16();
          r.u16(); r.u16(); r.u32(); r.qid();
          const mode = r.u32();
          const atime = r.u32();
          const mtime = r.u32();
          const length = r.u64n();
          const name = r.s();
          r.s(); r.s(); r.s(); r.s();
          const uid = r.u32();
          const gid = r.u32();
          if (mode !== NOVAL) fs.chmodSync(f.path, mode & 0o7777);
          if (length !== 0xffffffffffffffffn) fs.truncateSync(f.path, Number(length));
          if (atime !== NOVAL || mtime !== NOVAL) {
            const st = fs.statSync(f.path);
            fs.utimesSync(f.path, atime !== NOVAL ? atime : st.atime, mtime !== NOVAL ? mtime : st.mtime);
          }
          if (uid !== NOVAL || gid !== NOVAL) fs.lchownSync(f.path, uid === NOVAL ? -1 : uid, gid === NOVAL ? -1 : gid);
          if (name) {
            const to = join(dirname(f.path), name);
            fs.renameSync(f.path, to);
            f.path = to;
          }
          if (f.fd !== undefined && mode === NOVAL && !name) fs.fsyncSync(f.fd);
          return reply(127, tag, () => {}, 0);
        }
        default:
          throw new Rerror(`unknown message type ${type}`, 38);
      }
    } catch (caught) {
      const e = caught instanceof Rerror ? caught : fromNode(caught as NodeJS.ErrnoException);
      const errno = options.plan9Errors ? 0 : e.errno;
      reply(107, tag, (w) => (w.s(e.message), w.u32(errno)), 2 + Buffer.byteLength(e.message) + 4);
    }
  };

  stream.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4 && buffered.length >= buffered.readUInt32LE(0)) {
      const size = buffered.readUInt32LE(0);
      handle(buffered.subarray(0, size));
      buffered = buffered.subarray(size);
    }
  });
  stream.on('error', () => {});
  stream.on('close', () => {
    for (const f of fids.values()) if (f.fd !== undefined) fs.closeSync(f.fd);
  });
}
