// transport-tcp against diod listening on a loopback port (as a hostfwd port or a remote server
// would): manifest, hook, retry while the port refuses, deadline, abort, dead server.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AsyncSeriesBailHook, AsyncSeriesWaterfallHook, HookMap } from 'tapable';
import type { Duplex } from 'node:stream';
import { P9Fs, type LaunchContext, type Qemount } from '@qemount/core';
import plugin, { connectTcp, forwardGuestPort } from '../src/index.js';
import { readManifest } from '../../../core/src/plugins/discoverPlugins.js';
import { diodListening, freePort, pause, rejection, tempDir, within, type Diod } from '../../../core/test/p9/diod.js';

const pluginDir = fileURLToPath(new URL('..', import.meta.url));
const tmp = tempDir('qemount-tcp-');
const exportDir = join(tmp.dir, 'export');
const servers: Diod[] = [];

function serve(port: number): Diod {
  const diod = diodListening({ exportDir }, `127.0.0.1:${port}`);
  servers.push(diod);
  return diod;
}

test.before(() => {
  mkdirSync(exportDir);
  writeFileSync(join(exportDir, 'hello.txt'), 'hello over tcp\n');
});

test.after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  tmp.remove();
});

test('the manifest validates and declares transport id "tcp"', async () => {
  const record = await readManifest(pluginDir, 'built-in');
  assert.is(record.name, 'transport-tcp');
  assert.is(record.manifest.kind, 'transport');
  assert.is(record.manifest.entry, 'dist/index.js');
  assert.is(record.manifest.transport!.id, 'tcp');
});

test('connect retries while the port refuses (guest still booting), then a 9P session runs over it', async () => {
  const port = await freePort();
  const started = Date.now();
  const connecting = connectTcp('127.0.0.1', port, { timeoutMs: 5000 });
  await new Promise((r) => setTimeout(r, 300));
  serve(port);
  const socket = await within(5000, connecting);
  assert.ok(Date.now() - started >= 300);
  const fs = await P9Fs.connect(socket, { aname: exportDir });
  assert.is((await fs.readFile('/hello.txt')).toString(), 'hello over tcp\n');
  fs.close();
});

test('apply() taps connect.for("tcp"); host defaults to 127.0.0.1', async () => {
  const hooks = {
    connect: new HookMap(() => new AsyncSeriesBailHook<[unknown, unknown], Duplex | undefined>(['address', 'options'])),
    qemuArgs: new AsyncSeriesWaterfallHook<[string[], unknown]>(['args', 'context']),
  };
  plugin.apply({ hooks } as unknown as Qemount);
  assert.is(plugin.name, 'transport-tcp');
  const port = await freePort();
  serve(port);
  const stream = await hooks.connect.get('tcp')!.promise({ transport: 'tcp', port }, { timeoutMs: 3000 });
  const fs = await P9Fs.connect(stream!, { aname: exportDir });
  assert.equal((await fs.readdir('/')).map((e) => e.name), ['hello.txt']);
  fs.close();
  const noPort = await rejection(hooks.connect.get('tcp')!.promise({ transport: 'tcp', host: '127.0.0.1' }, {}));
  assert.is((noPort as { code?: string }).code, 'E_TRANSPORT_ADDRESS');
});

test('qemuArgs: a tcp launch forwards a free loopback port to the guest\'s 9P port and says so to the kernel; others are left alone', async () => {
  const args = ['-machine', 'microvm', '-append', 'console=ttyS0 quiet'];
  const unix = { transport: 'unix', address: { transport: 'unix', path: '/run/x/9p.sock' } } as unknown as LaunchContext;
  assert.equal(await forwardGuestPort([...args], unix), args);
  assert.equal(unix.address, { transport: 'unix', path: '/run/x/9p.sock' });
  const tcp = { transport: 'tcp', address: { transport: 'tcp' } } as unknown as LaunchContext;
  const out = await forwardGuestPort([...args], tcp);
  const port = tcp.address.port!;
  assert.ok(port > 1024, `port ${port}`);
  assert.equal(tcp.address, { transport: 'tcp', host: '127.0.0.1', port });
  assert.is(out[out.indexOf('-append') + 1], 'console=ttyS0 quiet qemount.9p=tcp');
  assert.ok(out.includes(`user,id=qemount-net,restrict=on,hostfwd=tcp:127.0.0.1:${port}-10.0.2.15:564`), out.join(' '));
  assert.ok(out.includes('virtio-net-device,netdev=qemount-net'));
});

test('connect gives up at the deadline with E_CONNECT and ECONNREFUSED underneath', async () => {
  const port = await freePort();
  const started = Date.now();
  const error = await rejection(within(3000, connectTcp('127.0.0.1', port, { timeoutMs: 300 })));
  const elapsed = Date.now() - started;
  assert.is(error.code, 'E_CONNECT');
  assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  assert.is(((error as { cause?: { code?: string } }).cause)?.code, 'ECONNREFUSED');
  assert.ok(elapsed >= 250 && elapsed < 1000, `gave up after ${elapsed} ms`);
});

test('connect stops at once when its signal aborts', async () => {
  const controller = new AbortController();
  const connecting = connectTcp('127.0.0.1', await freePort(), { timeoutMs: 10_000, signal: controller.signal });
  setTimeout(() => controller.abort(), 100);
  const started = Date.now();
  const error = await rejection(within(2000, connecting));
  assert.is(error.code, 'E_CONNECT_ABORTED');
  assert.ok(Date.now() - started < 500);
});

test('the server dying fails pending requests with EIO at once', async () => {
  const port = await freePort();
  const diod = serve(port);
  const fs = await P9Fs.connect(await connectTcp('127.0.0.1', port, { timeoutMs: 3000 }), { aname: exportDir });
  assert.is((await fs.stat('/hello.txt')).size, 15);
  await pause(diod);
  const pending = fs.stat('/hello.txt');
  await new Promise((r) => setTimeout(r, 20));
  diod.process.kill('SIGKILL');
  const error = await rejection(within(2000, pending, 'request after the server died'));
  assert.is(error.code, 'EIO');
  assert.is((await rejection(fs.readdir('/'))).code, 'EIO');
});

test.run();
