// The codec against bytes written out by hand from the protocol documents (not by the codec),
// so a symmetric encode/decode mistake cannot pass.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decode, encode, MESSAGES, replyName } from '../../src/p9/messages.js';
import { WireReader, WireWriter, statRecordSize, type StatU } from '../../src/p9/wire.js';
import { errnoFromMessage, errnoName, errnoNumber } from '../../src/p9/errno.js';
import { P9Error, toErrno } from '../../src/p9/P9Error.js';
import { statFromU, uPermFromMode, makedev, major, minor } from '../../src/p9/stat.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('Tversion encodes as size[4] 100 tag[2]=NOTAG msize[4] version[s]', () => {
  const frame = encode('version', 'T', 0xffff, { msize: 8192, version: '9P2000.L' });
  assert.equal(frame.toString('hex'), hex('15000000 64 ffff 00200000 0800 3950323030302e4c').toString('hex'));
});

test('Twalk encodes nwname and each name', () => {
  const frame = encode('walk', 'T', 1, { fid: 0, newfid: 1, wnames: ['a', 'bc'] });
  assert.equal(frame.toString('hex'), hex('18000000 6e 0100 00000000 01000000 0200 0100 61 0200 6263').toString('hex'));
});

test('Tgetattr / Tread / Twrite carry 64-bit fields little-endian', () => {
  assert.equal(encode('getattr', 'T', 2, { fid: 7, request_mask: 0x3fff }).toString('hex'),
    hex('13000000 18 0200 07000000 ff3f000000000000').toString('hex'));
  assert.equal(encode('read', 'T', 3, { fid: 1, offset: 2 ** 32 + 5, count: 65512 }).toString('hex'),
    hex('17000000 74 0300 01000000 0500000001000000 e8ff0000').toString('hex'));
  assert.equal(encode('write', 'T', 4, { fid: 1, offset: 0, data: Buffer.from('hi') }).toString('hex'),
    hex('19000000 76 0400 01000000 0000000000000000 02000000 6869').toString('hex'));
});

test('Rgetattr decodes every field, qid.path exact past 2^53', () => {
  const w = new WireWriter(Buffer.alloc(7 + 8 + 13 + 12 + 8 * 15));
  w.u32(w.buf.length); w.u8(25); w.u16(9);
  w.u64(0x3fff);
  w.u8(0); w.u32(3); w.u64n(0xfedcba9876543210n);
  w.u32(0o100644); w.u32(1000); w.u32(100);
  for (const v of [2, 0, 12345, 4096, 24, 1700000000, 123456789, 1700000001, 5, 1700000002, 6, 0, 0, 42, 7]) w.u64(v);
  const r = decode('getattr', 'R', w.buf) as Record<string, unknown>;
  assert.equal(r.qid, { type: 0, version: 3, path: 0xfedcba9876543210n });
  assert.is(r.mode, 0o100644);
  assert.is(r.uid, 1000);
  assert.is(r.size, 12345);
  assert.is(r.atime_nsec, 123456789);
  assert.is(r.mtime_sec, 1700000001);
  assert.is(r.gen, 42);
  assert.is(r.data_version, 7);
  assert.is(replyName(25), 'getattr');
});

test('Treaddir offsets are bigint cookies (ext4 hashes need 63 bits)', () => {
  const frame = encode('readdir', 'T', 1, { fid: 2, offset: 0x7fffffffffff1234n, count: 100 });
  assert.equal(frame.subarray(11, 19).toString('hex'), '3412ffffffffff7f');
});

test('.u stat record round-trips and matches the documented layout', () => {
  const st: StatU = {
    type: 0, dev: 0, qid: { type: 0x80, version: 1, path: 5n }, mode: 0x800001ed, atime: 10, mtime: 20, length: 0,
    name: 'dir', uid: 'u', gid: 'g', muid: '', extension: '', n_uid: 1000, n_gid: 100, n_muid: 0xffffffff,
  };
  const size = statRecordSize(st);
  // size[2] type[2] dev[4] qid[13] mode[4] atime[4] mtime[4] length[8] 4 strings, extension, 3 ids
  assert.is(size, 2 + 2 + 4 + 13 + 4 + 4 + 4 + 8 + (2 + 3) + (2 + 1) + (2 + 1) + 2 + 2 + 12);
  const frame = encode('stat', 'R', 1, { stat: st });
  assert.is(frame.readUInt16LE(7), size, 'Rstat: n[2] then the record');
  assert.is(frame.readUInt16LE(9), size - 2, 'the record\'s own size excludes itself');
  const back = decode('stat', 'R', frame).stat as StatU;
  assert.equal(back, st);
  const p = statFromU(back);
  assert.is(p.kind, 'directory');
  assert.is(p.mode, 0o040755);
  assert.is(p.uid, 1000);
  assert.is(p.mtimeMs, 20000);
});

test('a plain 9P2000 stat (no .u tail) still decodes', () => {
  const full: StatU = { type: 0, dev: 0, qid: { type: 0, version: 0, path: 1n }, mode: 0o644, atime: 1, mtime: 2, length: 3,
    name: 'f', uid: 'a', gid: 'b', muid: 'c', extension: '', n_uid: 0, n_gid: 0, n_muid: 0 };
  const w = new WireWriter(Buffer.alloc(statRecordSize(full)));
  w.statRecord(full);
  const plain = Buffer.from(w.buf.subarray(0, w.buf.length - 14));
  plain.writeUInt16LE(plain.length - 2, 0);
  const st = new WireReader(plain).statRecord();
  assert.is(st.name, 'f');
  assert.is(st.muid, 'c');
  assert.is(st.extension, '');
});

test('every message has a unique type and an odd reply type', () => {
  const types = Object.values(MESSAGES).map((m) => m.type);
  assert.is(new Set(types).size, types.length);
  for (const t of types) assert.is(t % 2, 0);
});

test('truncated frames throw instead of reading garbage', () => {
  assert.throws(() => decode('getattr', 'R', hex('0b000000 19 0100 ffff')), /truncated/);
});

test('errno names, numbers and .u messages map both ways', () => {
  assert.is(errnoName(2), 'ENOENT');
  assert.is(errnoNumber('EROFS'), 30);
  assert.is(errnoFromMessage('file does not exist'), 2);
  assert.is(errnoFromMessage('Permission denied'), 13);
  assert.is(errnoFromMessage("walk: 'x' not a directory"), 20);
  assert.is(errnoFromMessage('something odd'), 5);
  const e = new P9Error(17, { op: 'mkdir', path: '/a' });
  assert.is(e.code, 'EEXIST');
  assert.is(e.message, "EEXIST: file exists, mkdir '/a'");
  assert.is(toErrno(e), 17);
  assert.is(toErrno(Object.assign(new Error('x'), { code: 'ENOTDIR' })), 20);
  assert.is(toErrno(new Error('?')), 5);
});

test('device numbers and .u permission bits', () => {
  const dev = makedev(259, 70000);
  assert.is(major(dev), 259);
  assert.is(minor(dev), 70000);
  assert.is(uPermFromMode(0o041755) >>> 0, (0x80000000 | 0x00010000 | 0o755) >>> 0);
});

test.run();
