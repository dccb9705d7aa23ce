// P9Client against a real diod on a socket pair: negotiation, walk/clunk and fid reuse, tags under
// 200 concurrent requests, Tflush of a cancelled read, and a server that dies mid-read.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { P9Client } from '../../src/p9/P9Client.js';
import { L_O } from '../../src/p9/messages.js';
import { diodOnSocketPair, pause, rejection, tempDir, within, type Diod } from './diod.js';

const tmp = tempDir();
const root = tmp.dir;
const servers: Diod[] = [];

async function connect(options: Parameters<typeof P9Client.connect>[1] = {}) {
  const diod = diodOnSocketPair({ exportDir: root });
  servers.push(diod);
  const client = await within(5000, P9Client.connect(diod.stream, { aname: root, ...options }), 'connect');
  return { client, diod };
}

test.before(() => {
  writeFileSync(join(root, 'hello.txt'), 'hello\n');
  mkdirSync(join(root, 'many'));
  for (let i = 0; i < 200; i++) writeFileSync(join(root, 'many', `f${i}`), 'x'.repeat(i));
  let deep = root;
  for (let i = 0; i < 20; i++) mkdirSync((deep = join(deep, `d${i}`)));
  writeFileSync(join(deep, 'bottom'), 'deep');
  writeFileSync(join(root, 'big'), Buffer.alloc(32 << 20, 7));
});

test.after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  tmp.remove();
});

test('negotiates 9P2000.L, the msize diod allows, and attaches to a directory', async () => {
  const { client } = await connect({ msize: 1 << 20 });
  assert.is(client.version, '9P2000.L');
  assert.is(client.msize, 65536, 'diod caps msize at 64 KiB');
  assert.is(client.ioSize(), 65536 - 24);
  assert.ok(client.rootQid.type & 0x80, 'root qid is a directory');
  assert.is(client.rootQid.path, BigInt(statSync(root).ino));
  client.close();
});

test('a server that refuses the asked version fails connect with a P9Error', async () => {
  const diod = diodOnSocketPair({ exportDir: root });
  servers.push(diod);
  const error = await rejection(within(5000, P9Client.connect(diod.stream, { aname: root, version: '9P2000.u' })));
  assert.is(error.name, 'P9Error');
  assert.ok(error.code === 'EIO' || error.code === 'EPROTONOSUPPORT', error.message);
});

test('attach to an unexported name is refused', async () => {
  const diod = diodOnSocketPair({ exportDir: root });
  servers.push(diod);
  const error = await rejection(within(5000, P9Client.connect(diod.stream, { aname: '/nonexistent-export' })));
  assert.is(error.name, 'P9Error');
});

test('Tauth reaches diod, which has no authentication to run with -n', async () => {
  const { client } = await connect();
  const error = await rejection(client.request('auth', { afid: 77, uname: '', aname: root, n_uname: 0 }));
  assert.is(error.name, 'P9Error');
  assert.ok(client.alive, 'an error reply leaves the session usable');
  assert.is((await client.walk(client.root, ['hello.txt'])).qid!.type, 0);
  client.close();
});

test('walk of more than 16 names takes several Twalks and lands on the right file', async () => {
  const { client } = await connect();
  const names = [...Array.from({ length: 20 }, (_, i) => `d${i}`), 'bottom'];
  const { fid, qid } = await client.walk(client.root, names);
  const onHost = statSync(join(root, ...names));
  assert.is(qid!.path, BigInt(onHost.ino));
  await client.request('lopen', { fid, flags: L_O.RDONLY });
  assert.is((await client.read(fid, 0, 100)).toString(), 'deep');
  await client.clunk(fid);
  client.close();
});

test('walk errors: ENOENT for a missing name, ENOTDIR through a file; fids are not leaked', async () => {
  const { client } = await connect();
  const missing = await rejection(client.walk(client.root, ['many', 'nope']));
  assert.is(missing.code, 'ENOENT');
  const notDir = await rejection(client.walk(client.root, ['hello.txt', 'x']));
  assert.is(notDir.code, 'ENOTDIR');
  // Both failed walks returned their newfid: the next allocation reuses one of them.
  const a = client.allocFid();
  const b = client.allocFid();
  assert.ok(a <= 2 && b <= 2, `fids ${a}, ${b} reused`);
  client.releaseFid(a);
  client.releaseFid(b);
  client.close();
});

test('clunk returns the fid to the pool; a clunked fid is unknown to the server', async () => {
  const { client } = await connect();
  const { fid } = await client.walk(client.root, ['hello.txt']);
  await client.clunk(fid);
  const again = await client.walk(client.root, ['hello.txt']);
  assert.is(again.fid, fid, 'same fid reused');
  await client.clunk(again.fid);
  const error = await rejection(client.request('getattr', { fid: again.fid, request_mask: 0x7ff }));
  assert.is(error.name, 'P9Error');
  client.close();
});

test('200 concurrent requests on one connection, each answered with its own file', async () => {
  const { client } = await connect();
  let peak = 0;
  const sizes = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
    const { fid } = await client.walk(client.root, ['many', `f${i}`]);
    const promise = client.request('getattr', { fid, request_mask: 0x7ff });
    peak = Math.max(peak, client.inFlight);
    const attr = await promise;
    await client.clunk(fid);
    return attr.size;
  }));
  assert.equal(sizes, Array.from({ length: 200 }, (_, i) => i));
  assert.ok(peak >= 100, `peak in flight ${peak}`);
  assert.is(client.inFlight, 0);
  client.close();
});

test('a cancelled read rejects at once with EINTR, is flushed, and the session goes on', async () => {
  const { client, diod } = await connect();
  const sent: Buffer[] = [];
  const stream = (client as unknown as { stream: NodeJS.WritableStream }).stream;
  const write = stream.write.bind(stream);
  stream.write = ((chunk: Buffer, ...rest: never[]) => (sent.push(Buffer.from(chunk)), write(chunk, ...rest))) as typeof stream.write;
  const { fid } = await client.walk(client.root, ['big']);
  await client.request('lopen', { fid, flags: L_O.RDONLY });
  // A stopped server cannot answer: the read is surely pending when it is cancelled.
  await pause(diod);
  try {
    const controller = new AbortController();
    const reading = client.read(fid, 0, 100, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 50));
    const readFrame = sent.find((f) => f[4] === 116)!;
    const started = Date.now();
    controller.abort();
    const error = await rejection(within(500, reading, 'cancelled read'));
    assert.ok(Date.now() - started < 200, 'rejected promptly');
    assert.is(error.code, 'EINTR');
    assert.ok((error as { cancelled?: boolean }).cancelled);
    await new Promise((r) => setImmediate(r));
    const flush = sent.find((f) => f[4] === 108);
    assert.ok(flush, 'a Tflush was sent');
    assert.is(flush!.readUInt16LE(7), readFrame.readUInt16LE(5), "Tflush names the read's tag");
    assert.is(client.inFlight, 2, 'the read\'s tag stays reserved until Rflush');
  } finally {
    diod.process.kill('SIGCONT');
  }
  await within(2000, (async () => { while (client.inFlight) await new Promise((r) => setTimeout(r, 10)); })(), 'Rflush');
  assert.is((await client.read(fid, 0, 5)).toString('hex'), '0707070707', 'session still works');
  client.close();
});

test('the server dying mid-read fails the pending reads with EIO within 2 s, and later requests at once', async () => {
  const { client, diod } = await connect();
  const { fid } = await client.walk(client.root, ['big']);
  await client.request('lopen', { fid, flags: L_O.RDONLY });
  // Many reads in flight, then the server is killed while they are pending.
  const reads = Array.from({ length: 64 }, (_, i) => client.read(fid, i * (1 << 19), 1 << 19, { depth: 4 }));
  const settled = Promise.allSettled(reads);
  await new Promise((r) => setTimeout(r, 5));
  const killedAt = Date.now();
  diod.process.kill('SIGKILL');
  const results = await within(2000, settled, 'reads after the server died');
  const elapsed = Date.now() - killedAt;
  const failures = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
  assert.ok(failures.length > 0, 'some reads were pending when the server died');
  for (const f of failures) assert.is(f.reason.code, 'EIO');
  assert.ok(elapsed < 2000, `failed after ${elapsed} ms`);
  const closed = await within(100, client.closed);
  assert.is(closed.code, 'EIO');
  const t0 = Date.now();
  const later = await rejection(client.request('getattr', { fid: client.root, request_mask: 1 }));
  assert.is(later.code, 'EIO');
  assert.ok(Date.now() - t0 < 50, 'a request on a dead connection fails at once');
  assert.not.ok(client.alive);
});

test('close() fails pending requests with EIO', async () => {
  const { client, diod } = await connect();
  await pause(diod);
  const blocked = client.request('getattr', { fid: client.root, request_mask: 0x7ff });
  await new Promise((r) => setTimeout(r, 20));
  client.close();
  const error = await rejection(within(500, blocked));
  diod.process.kill('SIGCONT');
  assert.is(error.code, 'EIO');
});

test.run();
