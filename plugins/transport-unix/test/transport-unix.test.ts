// transport-unix against diod behind a unix socket (the way QEMU's chardev socket fronts the
// guest's 9P port): manifest, hook, retry until the socket appears, deadline, abort, dead server.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AsyncSeriesBailHook, HookMap } from 'tapable';
import type { Duplex } from 'node:stream';
import { P9Fs, type Qemount } from '@qemount/core';
import plugin, { connectUnix } from '../src/index.js';
import { readManifest } from '../../../core/src/plugins/discoverPlugins.js';
import { diodBehindUnixSocket, pause, rejection, tempDir, within } from '../../../core/test/p9/diod.js';

const pluginDir = fileURLToPath(new URL('..', import.meta.url));
const tmp = tempDir('qemount-unix-');
const exportDir = join(tmp.dir, 'export');
const cleanups: (() => Promise<void>)[] = [];

test.before(() => {
  mkdirSync(exportDir);
  writeFileSync(join(exportDir, 'hello.txt'), 'hello over unix\n');
});

test.after(async () => {
  for (const c of cleanups) await c();
  tmp.remove();
});

test('the manifest validates and declares transport id "unix"', async () => {
  const record = await readManifest(pluginDir, 'built-in');
  assert.is(record.name, 'transport-unix');
  assert.is(record.manifest.kind, 'transport');
  assert.is(record.manifest.entry, 'dist/index.js');
  assert.is(record.manifest.transport!.id, 'unix');
});

test('apply() taps connect.for("unix"), which returns a stream a 9P session runs over', async () => {
  const hooks = { connect: new HookMap(() => new AsyncSeriesBailHook<[unknown, unknown], Duplex | undefined>(['address', 'options'])) };
  plugin.apply({ hooks } as unknown as Qemount);
  assert.is(plugin.name, 'transport-unix');
  const path = join(tmp.dir, 'hook.sock');
  const server = await diodBehindUnixSocket({ exportDir }, path);
  cleanups.push(server.close);
  const stream = await hooks.connect.get('unix')!.promise({ transport: 'unix', path }, { timeoutMs: 2000 });
  const fs = await P9Fs.connect(stream!, { aname: exportDir });
  assert.is((await fs.readFile('/hello.txt')).toString(), 'hello over unix\n');
  fs.close();
  const noPath = await rejection(hooks.connect.get('unix')!.promise({ transport: 'unix' }, {}));
  assert.is((noPath as { code?: string }).code, 'E_TRANSPORT_ADDRESS');
});

test('connect retries until the socket appears (qemu not started yet)', async () => {
  const path = join(tmp.dir, 'late.sock');
  const started = Date.now();
  const connecting = connectUnix(path, { timeoutMs: 5000 });
  await new Promise((r) => setTimeout(r, 400));
  const server = await diodBehindUnixSocket({ exportDir }, path);
  cleanups.push(server.close);
  const socket = await within(5000, connecting);
  assert.ok(Date.now() - started >= 400);
  const fs = await P9Fs.connect(socket, { aname: exportDir });
  assert.equal((await fs.readdir('/')).map((e) => e.name), ['hello.txt']);
  fs.close();
});

test('connect gives up at the deadline with E_CONNECT and the cause', async () => {
  const started = Date.now();
  const error = await rejection(within(3000, connectUnix(join(tmp.dir, 'never.sock'), { timeoutMs: 300 })));
  const elapsed = Date.now() - started;
  assert.is(error.code, 'E_CONNECT');
  assert.match(error.message, /never\.sock/);
  assert.is(((error as { cause?: { code?: string } }).cause)?.code, 'ENOENT');
  assert.ok(elapsed >= 250 && elapsed < 1000, `gave up after ${elapsed} ms`);
});

test('connect stops at once when its signal aborts', async () => {
  const controller = new AbortController();
  const connecting = connectUnix(join(tmp.dir, 'never2.sock'), { timeoutMs: 10_000, signal: controller.signal });
  setTimeout(() => controller.abort(), 100);
  const started = Date.now();
  const error = await rejection(within(2000, connecting));
  assert.is(error.code, 'E_CONNECT_ABORTED');
  assert.ok(Date.now() - started < 500);
});

test('the server dying fails pending requests with EIO at once', async () => {
  const path = join(tmp.dir, 'dies.sock');
  const server = await diodBehindUnixSocket({ exportDir }, path);
  cleanups.push(server.close);
  const fs = await P9Fs.connect(await connectUnix(path), { aname: exportDir });
  assert.is((await fs.stat('/hello.txt')).size, 16);
  const diod = server.diods[0];
  await pause(diod);
  const pending = fs.stat('/hello.txt');
  await new Promise((r) => setTimeout(r, 20));
  diod.process.kill('SIGKILL');
  const error = await rejection(within(2000, pending, 'request after the server died'));
  assert.is(error.code, 'EIO');
  assert.is((await rejection(fs.readdir('/'))).code, 'EIO');
});

test.run();
