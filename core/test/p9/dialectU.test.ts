// The 9P2000.u dialect: version fallback, Tstat/Twstat, Topen/Tcreate, directory reads of stat
// records, Tremove, Rerror mapping and Tflush — against the hand-written .u server in uServer.ts
// (no 9P2000.u server is packaged for this machine; diod speaks .L only).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { P9Fs } from '../../src/p9/P9Fs.js';
import { P9Client } from '../../src/p9/P9Client.js';
import { serveU, type UServerOptions } from './uServer.js';
import { rejection, tempDir, within } from './diod.js';

const tmp = tempDir();
const root = join(tmp.dir, 'export');
const host = (p: string) => join(root, p);
const servers: Server[] = [];
let fs: P9Fs;

async function mount(options: UServerOptions = {}, version?: '9P2000.u'): Promise<P9Fs> {
  const path = join(tmp.dir, `u${servers.length}.sock`);
  const server = createServer((socket) => serveU(socket, root, options));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const socket = createConnection(path);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return within(5000, P9Fs.connect(socket, { version, aname: root }), 'connect');
}

test.before(async () => {
  mkdirSync(root);
  writeFileSync(host('hello.txt'), 'hello world\n');
  mkdirSync(host('dir'));
  writeFileSync(host('dir/a'), 'A');
  symlinkSync('hello.txt', host('link'));
  fs = await mount();
});

test.after(async () => {
  fs?.close();
  for (const s of servers) s.close();
  tmp.remove();
});

test('without a version asked, a .u-only server is reached by falling back from 9P2000.L', async () => {
  assert.is(fs.version, '9P2000.u');
  assert.is(fs.client.msize, 65536);
});

test('stat (Tstat) of a file, a directory and a symlink', async () => {
  const st = await fs.stat('/hello.txt');
  const h = statSync(host('hello.txt'));
  assert.is(st.kind, 'file');
  assert.is(st.size, 12);
  assert.is(st.mode, h.mode);
  assert.is(st.ino, BigInt(h.ino));
  assert.is(st.mtimeMs, Math.floor(h.mtimeMs / 1000) * 1000);
  assert.is((await fs.stat('/dir')).kind, 'directory');
  const link = await fs.stat('/link');
  assert.is(link.kind, 'symlink');
  assert.is(await fs.readlink('/link'), 'hello.txt');
});

test('readdir reads stat records (attributes come with the names)', async () => {
  const entries = await fs.readdir('/');
  const byName = Object.fromEntries(entries.map((e) => [e.name, e]));
  assert.equal(Object.keys(byName).sort(), ['dir', 'hello.txt', 'link']);
  assert.is(byName['hello.txt'].stat!.size, 12);
  assert.is(byName['dir'].kind, 'directory');
});

test('Topen/Tread/Twrite: random access, writeFile (Tcreate, then Topen with truncate), readFile', async () => {
  const f = await fs.open('/hello.txt');
  assert.is((await f.read(6, 5)).toString(), 'world');
  await f.close();
  assert.is(await fs.writeFile('/new.txt', 'a'.repeat(200_000)), 200_000);
  assert.is(readFileSync(host('new.txt'), 'utf8'), 'a'.repeat(200_000));
  await fs.writeFile('/new.txt', 'short');
  assert.is((await fs.readFile('/new.txt')).toString(), 'short');
  const rw = await fs.open('/new.txt', 'r+');
  await rw.write(1, Buffer.from('HO'));
  await rw.fsync();
  await rw.close();
  assert.is(readFileSync(host('new.txt'), 'utf8'), 'sHOrt');
});

test('Tcreate with DM bits: mkdir, symlink, hard link, fifo', async () => {
  await fs.mkdir('/made', 0o750);
  assert.ok(statSync(host('made')).isDirectory());
  assert.is(statSync(host('made')).mode & 0o777, 0o750);
  await fs.symlink('target/x', '/made/sl');
  assert.is(readlinkSync(host('made/sl')), 'target/x');
  await fs.link('/hello.txt', '/made/hard');
  assert.is(statSync(host('made/hard')).ino, statSync(host('hello.txt')).ino);
  await fs.mknod('/made/fifo', 0o010600);
  assert.ok(lstatSync(host('made/fifo')).isFIFO());
  assert.is((await fs.stat('/made/fifo')).kind, 'fifo');
});

test('Twstat: chmod, truncate, utimens, rename within a directory; EXDEV across', async () => {
  await fs.writeFile('/w', '0123456789');
  await fs.chmod('/w', 0o604);
  assert.is(statSync(host('w')).mode & 0o777, 0o604);
  await fs.truncate('/w', 3);
  assert.is(readFileSync(host('w'), 'utf8'), '012');
  await fs.utimens('/w', new Date(1_000_000_000_000), new Date(1_200_000_000_000));
  assert.is(statSync(host('w')).mtimeMs, 1_200_000_000_000);
  await fs.rename('/w', '/w2');
  assert.ok(existsSync(host('w2')) && !existsSync(host('w')));
  const cross = await rejection(fs.rename('/w2', '/dir/w3'));
  assert.is(cross.code, 'EXDEV');
});

test('Tremove: unlink and rmdir with their type checks', async () => {
  await fs.mkdir('/gone');
  await fs.writeFile('/gone/f', 'x');
  assert.is((await rejection(fs.unlink('/gone'))).code, 'EISDIR');
  assert.is((await rejection(fs.rmdir('/gone/f'))).code, 'ENOTDIR');
  await fs.unlink('/gone/f');
  await fs.rmdir('/gone');
  assert.not.ok(existsSync(host('gone')));
});

test('Rerror: errno when given, mapped from the text when not; .L-only calls refused', async () => {
  const e1 = await rejection(fs.stat('/missing'));
  assert.is(e1.code, 'ENOENT');
  const e2 = await rejection(fs.create('/hello.txt'));
  assert.is(e2.code, 'EEXIST');
  const plan9 = await mount({ plan9Errors: true }, '9P2000.u');
  const e3 = await rejection(plan9.stat('/missing'));
  assert.is(e3.code, 'ENOENT');
  assert.match(e3.message, /file does not exist|no such file/);
  const e4 = await rejection(plan9.create('/hello.txt'));
  assert.is(e4.code, 'EEXIST');
  plan9.close();
  assert.is((await rejection(fs.statfs('/'))).code, 'ENOSYS');
  assert.is((await rejection(fs.client.request('lopen', { fid: fs.client.root, flags: 0 }))).code, 'EOPNOTSUPP');
});

test('Tflush of a read the server holds: rejected at once, tag freed on Rflush', async () => {
  const stalling = await mount({ stallReads: true }, '9P2000.u');
  const f = await stalling.open('/hello.txt');
  const controller = new AbortController();
  const reading = f.read(0, 5, { signal: controller.signal });
  await new Promise((r) => setTimeout(r, 20));
  assert.is(stalling.client.inFlight, 1);
  controller.abort();
  assert.is((await rejection(within(200, reading))).code, 'EINTR');
  await within(1000, (async () => { while (stalling.client.inFlight) await new Promise((r) => setTimeout(r, 5)); })(), 'Rflush');
  assert.is((await stalling.stat('/hello.txt')).size, 12, 'the session goes on');
  stalling.close();
});

test('a client of a version a server does not speak fails clearly', async () => {
  const path = join(tmp.dir, 'plain.sock');
  const server = createServer((socket) => serveU(socket, root));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const socket = createConnection(path);
  const error = await rejection(P9Client.connect(socket, { version: '9P2000.L' }));
  assert.is(error.code, 'EPROTONOSUPPORT');
});

test.run();
