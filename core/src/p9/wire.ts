// 9P's wire primitives: little-endian integers, u16-prefixed UTF-8 strings, 13-byte qids and
// 9P2000.u stat records. One reader and one writer so every message shares the same code.

/** The server's unique id for a file: type bits (QT*), version, and a 64-bit path (like an inode). */
export interface Qid {
  type: number;
  version: number;
  path: bigint;
}

/** 9P2000.u stat record (Tstat/Twstat, and the entries of a .u directory read). */
export interface StatU {
  type: number;
  dev: number;
  qid: Qid;
  mode: number;
  atime: number;
  mtime: number;
  length: number;
  name: string;
  uid: string;
  gid: string;
  muid: string;
  extension: string;
  n_uid: number;
  n_gid: number;
  n_muid: number;
}

export const QID_SIZE = 13;
const TWO32 = 2 ** 32;

/** Sequential reader over one message; strings and data are views, not copies. */
export class WireReader {
  pos: number;
  constructor(readonly buf: Buffer, pos = 0) {
    this.pos = pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError(`9P message truncated: need ${n} bytes at ${this.pos} of ${this.buf.length}`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A u64 as a number: exact below 2^53, which holds for sizes, offsets and times. */
  u64(): number {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    return hi * TWO32 + lo;
  }

  /** A u64 that must stay exact (qid paths, directory cookies, fsid). */
  u64n(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  s(): string {
    const n = this.u16();
    this.need(n);
    const v = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  qid(): Qid {
    this.need(QID_SIZE);
    const type = this.buf[this.pos];
    const version = this.buf.readUInt32LE(this.pos + 1);
    const path = this.buf.readBigUInt64LE(this.pos + 5);
    this.pos += QID_SIZE;
    return { type, version, path };
  }

  qids(): Qid[] {
    const n = this.u16();
    const out: Qid[] = [];
    for (let i = 0; i < n; i++) out.push(this.qid());
    return out;
  }

  strs(): string[] {
    const n = this.u16();
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.s());
    return out;
  }

  /** count[4] then count bytes, returned as a view into the message. */
  data(): Buffer {
    const n = this.u32();
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** One bare stat record (size[2] first), as found in a .u directory read. */
  statRecord(): StatU {
    const size = this.u16();
    this.need(size);
    const end = this.pos + size;
    const st: StatU = {
      type: this.u16(), dev: this.u32(), qid: this.qid(), mode: this.u32(), atime: this.u32(), mtime: this.u32(),
      length: this.u64(), name: this.s(), uid: this.s(), gid: this.s(), muid: this.s(),
      extension: '', n_uid: NOUID, n_gid: NOUID, n_muid: NOUID,
    };
    // The .u tail is optional on the wire (a plain 9P2000 server stops here).
    if (this.pos < end) {
      st.extension = this.s();
      st.n_uid = this.u32();
      st.n_gid = this.u32();
      st.n_muid = this.u32();
    }
    this.pos = end;
    return st;
  }

  /** Rstat/Twstat carry the record behind one more size[2]. */
  stat(): StatU {
    const n = this.u16();
    const start = this.pos;
    const st = this.statRecord();
    this.pos = start + n;
    return st;
  }
}

/** "Don't touch" values of a .u Twstat, and the n_uname that means "use the uname string". */
export const NOUID = 0xffffffff;

export function statRecordSize(st: StatU): number {
  return 2 + 2 + 4 + QID_SIZE + 4 + 4 + 4 + 8
    + 2 + Buffer.byteLength(st.name) + 2 + Buffer.byteLength(st.uid) + 2 + Buffer.byteLength(st.gid)
    + 2 + Buffer.byteLength(st.muid) + 2 + Buffer.byteLength(st.extension) + 12;
}

/** Writes into a buffer sized beforehand. */
export class WireWriter {
  pos: number;
  constructor(readonly buf: Buffer, pos = 0) {
    this.pos = pos;
  }

  u8(v: number): void {
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.buf.writeUInt16LE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  u64(v: number): void {
    // Negative numbers are the all-ones "don't touch" sentinels of some messages.
    if (v < 0) {
      this.buf.writeBigInt64LE(BigInt(v), this.pos);
    } else {
      this.buf.writeUInt32LE(v % TWO32, this.pos);
      this.buf.writeUInt32LE(Math.floor(v / TWO32), this.pos + 4);
    }
    this.pos += 8;
  }

  u64n(v: bigint): void {
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), this.pos);
    this.pos += 8;
  }

  s(v: string): void {
    const n = this.buf.write(v, this.pos + 2, 'utf8');
    this.buf.writeUInt16LE(n, this.pos);
    this.pos += 2 + n;
  }

  qid(q: Qid): void {
    this.u8(q.type);
    this.u32(q.version);
    this.u64n(q.path);
  }

  qids(v: readonly Qid[]): void {
    this.u16(v.length);
    for (const q of v) this.qid(q);
  }

  strs(v: readonly string[]): void {
    this.u16(v.length);
    for (const s of v) this.s(s);
  }

  data(v: Uint8Array): void {
    this.u32(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  statRecord(st: StatU): void {
    this.u16(statRecordSize(st) - 2);
    this.u16(st.type);
    this.u32(st.dev);
    this.qid(st.qid);
    this.u32(st.mode);
    this.u32(st.atime);
    this.u32(st.mtime);
    this.u64(st.length);
    this.s(st.name);
    this.s(st.uid);
    this.s(st.gid);
    this.s(st.muid);
    this.s(st.extension);
    this.u32(st.n_uid);
    this.u32(st.n_gid);
    this.u32(st.n_muid);
  }

  stat(st: StatU): void {
    this.u16(statRecordSize(st));
    this.statRecord(st);
  }
}
