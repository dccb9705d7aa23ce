// P9Fs (the path API) over 9P2000.L against a real diod exporting a temp directory: every .L
// message, checked against what the host sees, and the error codes a frontend relies on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { P9Fs } from '../../src/p9/P9Fs.js';
import { L_O } from '../../src/p9/messages.js';
import { makedev } from '../../src/p9/stat.js';
import { diodOnSocketPair, rejection, tempDir, within, type Diod } from './diod.js';

const tmp = tempDir();
const root = tmp.dir;
const host = (p: string) => join(root, p);
const servers: Diod[] = [];
let fs: P9Fs;

async function mount(options: { readOnly?: boolean; n_uname?: number } = {}): Promise<P9Fs> {
  const diod = diodOnSocketPair({ exportDir: root, readOnly: options.readOnly });
  servers.push(diod);
  return within(5000, P9Fs.connect(diod.stream, { aname: root, n_uname: options.n_uname }), 'connect');
}

test.before(async () => {
  chmodSync(root, 0o777);
  writeFileSync(host('hello.txt'), 'hello world\n');
  mkdirSync(host('dir'));
  writeFileSync(host('dir/a'), 'A');
  writeFileSync(host('dir/b'), 'BB');
  symlinkSync('hello.txt', host('link'));
  mkdirSync(host('big-dir'));
  for (let i = 0; i < 3000; i++) writeFileSync(host(`big-dir/entry-with-a-longish-name-${i}`), String(i));
  writeFileSync(host('secret'), 'no');
  chmodSync(host('secret'), 0);
  fs = await mount();
});

test.after(async () => {
  fs?.close();
  await Promise.all(servers.map((s) => s.stop()));
  tmp.remove();
});

test('stat (walk+getattr+clunk) matches the host', async () => {
  const st = await fs.stat('/hello.txt');
  const h = statSync(host('hello.txt'), { bigint: true });
  assert.is(st.kind, 'file');
  assert.is(st.mode, Number(h.mode));
  assert.is(st.size, 12);
  assert.is(st.nlink, 1);
  assert.is(st.uid, 0);
  assert.is(st.ino, h.ino);
  assert.is(st.mtimeNs, h.mtimeNs);
  assert.is(st.ctimeNs, h.ctimeNs);
  assert.ok(Math.abs(st.mtimeMs - Number(h.mtimeNs / 1000000n)) < 1);
  const dir = await fs.stat('/');
  assert.is(dir.kind, 'directory');
  const link = await fs.stat('/link');
  assert.is(link.kind, 'symlink', 'stat does not follow the last symlink (lstat)');
  assert.is(link.size, 'hello.txt'.length);
});

test('readdir (lopen + Treaddir) lists names and kinds; with stats, attributes per entry', async () => {
  const entries = await fs.readdir('/dir');
  assert.equal(entries.map((e) => e.name).sort(), ['a', 'b']);
  assert.ok(entries.every((e) => e.kind === 'file'));
  const withStats = await fs.readdir('/', { stats: true });
  const byName = Object.fromEntries(withStats.map((e) => [e.name, e]));
  assert.is(byName['dir'].kind, 'directory');
  assert.is(byName['link'].kind, 'symlink');
  assert.is(byName['hello.txt'].stat!.size, 12);
  assert.is(byName['dir'].stat!.ino, BigInt(statSync(host('dir')).ino));
});

test('readdir of 3000 entries spans many Treaddir pages, nothing lost or repeated', async () => {
  const entries = await fs.readdir('/big-dir', { stats: true });
  assert.is(entries.length, 3000);
  const names = new Set(entries.map((e) => e.name));
  assert.is(names.size, 3000);
  for (const e of entries) assert.is(e.stat!.size, e.name.slice('entry-with-a-longish-name-'.length).length);
});

test('readlink, symlink', async () => {
  assert.is(await fs.readlink('/link'), 'hello.txt');
  await fs.symlink('../somewhere/else', '/dir/newlink');
  assert.is(readlinkSync(host('dir/newlink')), '../somewhere/else');
  const err = await rejection(fs.readlink('/hello.txt'));
  assert.is(err.code, 'EINVAL');
});

test('open (lopen) for random-access reads; read past the end is short', async () => {
  const f = await fs.open('/hello.txt');
  assert.is((await f.read(6, 5)).toString(), 'world');
  assert.is((await f.read(10, 100)).toString(), 'd\n');
  assert.is((await f.read(100, 10)).length, 0);
  assert.is((await f.stat()).size, 12);
  await f.close();
});

test('create (lcreate), write at offsets, fsync, read back', async () => {
  const f = await fs.create('/created.bin', 'wx+', 0o640);
  assert.is(await f.write(0, Buffer.from('0123456789')), 10);
  assert.is(await f.write(4, Buffer.from('ab')), 2);
  await f.fsync();
  await f.fsync(true);
  assert.is((await f.read(0, 100)).toString(), '0123ab6789');
  await f.close();
  assert.is(readFileSync(host('created.bin'), 'utf8'), '0123ab6789');
  assert.is(statSync(host('created.bin')).mode & 0o777, 0o640);
  const exists = await rejection(fs.create('/created.bin'));
  assert.is(exists.code, 'EEXIST');
});

test('writeFile creates, then truncates and replaces; readFile reads it back', async () => {
  assert.is(await fs.writeFile('/w.txt', 'first version, long'), 19);
  assert.is(await fs.writeFile('/w.txt', 'second'), 6);
  assert.is(readFileSync(host('w.txt'), 'utf8'), 'second');
  assert.is((await fs.readFile('/w.txt')).toString(), 'second');
  async function* parts() {
    for (let i = 0; i < 100; i++) yield Buffer.alloc(3000, 65 + (i % 26));
  }
  assert.is(await fs.writeFile('/streamed', parts()), 300000);
  const back = readFileSync(host('streamed'));
  assert.is(back.length, 300000);
  assert.is(back[2999], 65);
  assert.is(back[3000], 66);
  assert.is(back[299999], 65 + (99 % 26));
});

test('mkdir, rmdir and unlink (Tremove where unlinkat is missing)', async () => {
  await fs.mkdir('/newdir', 0o750);
  assert.ok(statSync(host('newdir')).isDirectory());
  assert.is(statSync(host('newdir')).mode & 0o777, 0o750);
  await fs.writeFile('/newdir/f', 'x');
  const notEmpty = await rejection(fs.rmdir('/newdir'));
  assert.is(notEmpty.code, 'ENOTEMPTY');
  const isDir = await rejection(fs.unlink('/newdir'));
  assert.is(isDir.code, 'EISDIR');
  const notDir = await rejection(fs.rmdir('/newdir/f'));
  assert.is(notDir.code, 'ENOTDIR');
  await fs.unlink('/newdir/f');
  await fs.rmdir('/newdir');
  assert.not.ok(existsSync(host('newdir')));
  const exists = await rejection(fs.mkdir('/dir'));
  assert.is(exists.code, 'EEXIST');
});

test('rename (Trename where renameat is missing) within and across directories', async () => {
  await fs.writeFile('/r1', 'r');
  await fs.rename('/r1', '/r2');
  assert.ok(existsSync(host('r2')) && !existsSync(host('r1')));
  await fs.rename('/r2', '/dir/r3');
  assert.is(readFileSync(host('dir/r3'), 'utf8'), 'r');
  // The older Trename: a fid, a target directory fid and a new name.
  const c = fs.client;
  const { fid } = await c.walk(c.root, ['dir', 'r3']);
  const { fid: dfid } = await c.walk(c.root, []);
  await c.request('rename', { fid, dfid, name: 'r4' });
  await c.clunk(fid);
  await c.clunk(dfid);
  assert.ok(existsSync(host('r4')));
  const missing = await rejection(fs.rename('/nope', '/x'));
  assert.is(missing.code, 'ENOENT');
});

test('Tunlinkat and Trenameat reach diod, which answers EOPNOTSUPP (1.0.24 lacks them) or EROFS', async () => {
  // The answers prove the fields decode: a bad newdirfid is caught (EIO) before the missing op.
  const c = fs.client;
  const { fid: dir } = await c.walk(c.root, ['dir']);
  assert.is((await rejection(c.request('renameat', { olddirfid: dir, oldname: 'a', newdirfid: 999999, newname: 'z' }))).code, 'EIO');
  assert.is((await rejection(c.request('renameat', { olddirfid: dir, oldname: 'a', newdirfid: dir, newname: 'z' }))).code, 'EOPNOTSUPP');
  assert.is((await rejection(c.request('unlinkat', { dirfid: dir, name: 'a', flags: 0 }))).code, 'EOPNOTSUPP');
  await c.clunk(dir);
  const ro = await mount({ readOnly: true });
  const { fid: rodir } = await ro.client.walk(ro.client.root, ['dir']);
  assert.is((await rejection(ro.client.request('renameat', { olddirfid: rodir, oldname: 'a', newdirfid: rodir, newname: 'z' }))).code, 'EROFS');
  ro.close();
  assert.ok(existsSync(host('dir/a')), 'nothing was renamed or removed');
});

test('link (Tlink) makes a hard link', async () => {
  await fs.link('/hello.txt', '/dir/hard');
  assert.is(statSync(host('dir/hard')).ino, statSync(host('hello.txt')).ino);
  assert.is((await fs.stat('/hello.txt')).nlink, 2);
  await fs.unlink('/dir/hard');
});

test('mknod makes a fifo and a character device', async () => {
  await fs.mknod('/fifo', 0o010644);
  assert.ok(lstatSync(host('fifo')).isFIFO());
  assert.is((await fs.stat('/fifo')).kind, 'fifo');
  await fs.mknod('/null2', 0o020666, makedev(1, 3));
  const h = lstatSync(host('null2'));
  assert.ok(h.isCharacterDevice());
  assert.is(h.rdev, makedev(1, 3));
  const st = await fs.stat('/null2');
  assert.is(st.kind, 'char');
  assert.is(st.rdev, makedev(1, 3));
});

test('setattr: chmod, chown, utimens (explicit and now), truncate', async () => {
  await fs.writeFile('/attrs', '0123456789');
  await fs.chmod('/attrs', 0o600);
  assert.is(statSync(host('attrs')).mode & 0o7777, 0o600);
  await fs.chown('/attrs', 1234, 4321);
  assert.is(statSync(host('attrs')).uid, 1234);
  assert.is(statSync(host('attrs')).gid, 4321);
  await fs.utimens('/attrs', 1_000_000_000_123_456_789n, new Date(1_500_000_000_000));
  const h = statSync(host('attrs'), { bigint: true });
  assert.is(h.atimeNs, 1_000_000_000_123_456_789n);
  assert.is(h.mtimeNs, 1_500_000_000_000_000_000n);
  const before = Date.now();
  await fs.utimens('/attrs', 'now', 'now');
  assert.ok(statSync(host('attrs')).mtimeMs >= before - 1000);
  await fs.truncate('/attrs', 4);
  assert.is(readFileSync(host('attrs'), 'utf8'), '0123');
  const f = await fs.open('/attrs', 'r+');
  await f.truncate(2);
  await f.close();
  assert.is(readFileSync(host('attrs'), 'utf8'), '01');
});

test('statfs', async () => {
  const st = await fs.statfs('/');
  const h = execFileSync('stat', ['-f', '-c', '%S %b %c', root], { encoding: 'utf8' }).trim().split(' ').map(Number);
  assert.is(st.bsize, h[0]);
  assert.is(st.blocks, h[1]);
  assert.is(st.files, h[2]);
  assert.is(st.namelen, 255);
});

test('xattrs: xattrcreate to set, xattrwalk to get and list, remove', async () => {
  await fs.setxattr('/hello.txt', 'user.color', 'blue');
  await fs.setxattr('/hello.txt', 'user.size', Buffer.from([1, 2, 3]));
  assert.is((await fs.getxattr('/hello.txt', 'user.color')).toString(), 'blue');
  assert.equal([...(await fs.getxattr('/hello.txt', 'user.size'))], [1, 2, 3]);
  assert.equal((await fs.listxattr('/hello.txt')).sort(), ['user.color', 'user.size']);
  const missing = await rejection(fs.getxattr('/hello.txt', 'user.none'));
  assert.is(missing.code, 'ENODATA');
  await fs.removexattr('/hello.txt', 'user.color');
  assert.equal(await fs.listxattr('/hello.txt'), ['user.size']);
});

test('lock and getlock', async () => {
  const f = await fs.open('/hello.txt', 'r+');
  assert.is(await f.lock({ type: 'write', start: 0, length: 5 }), 'ok');
  const conflict = await f.getlock({ type: 'write', start: 0, length: 5, procId: 1 });
  assert.ok(['unlock', 'write'].includes(conflict.type));
  assert.is(await f.lock({ type: 'unlock', start: 0, length: 5 }), 'ok');
  const none = await f.getlock({ type: 'read', start: 0, length: 0 });
  assert.is(none.type, 'unlock', 'no conflicting lock');
  await f.close();
});

test('errors carry errno, code, op and path: ENOENT, ENOTDIR', async () => {
  const e1 = await rejection(fs.stat('/no/such'));
  assert.is(e1.code, 'ENOENT');
  assert.is(e1.errno, 2);
  assert.is((e1 as { path?: string }).path, '/no/such');
  assert.is((e1 as { op?: string }).op, 'stat');
  const e2 = await rejection(fs.readdir('/hello.txt'));
  assert.is(e2.code, 'ENOTDIR');
  const e3 = await rejection(fs.stat('/hello.txt/x'));
  assert.is(e3.code, 'ENOTDIR');
  const e4 = await rejection(fs.open('/nope/x', 'w'));
  assert.is(e4.code, 'ENOENT');
});

test('EACCES for an unprivileged attach on a mode-000 file', async () => {
  const user = await mount({ n_uname: 1000 });
  const error = await rejection(user.readFile('/secret'));
  assert.is(error.code, 'EACCES');
  assert.is(error.errno, 13);
  // The same user may create files, and they are owned by it.
  await user.writeFile('/by-1000', 'x');
  assert.is(statSync(host('by-1000')).uid, 1000);
  user.close();
});

test('EROFS on a read-only export; reads still work', async () => {
  const ro = await mount({ readOnly: true });
  assert.is((await ro.readFile('/hello.txt')).toString(), 'hello world\n');
  const attempts = [ro.writeFile('/x', 'y'), ro.mkdir('/y'), ro.unlink('/hello.txt'), ro.chmod('/hello.txt', 0o777), ro.open('/hello.txt', L_O.RDWR)];
  for (const error of await Promise.all(attempts.map((attempt) => rejection(attempt)))) assert.is(error.code, 'EROFS', error.message);
  assert.not.ok(existsSync(host('x')));
  ro.close();
});

test.run();
