// Mount lifecycle: the manifest, close() (also while busy), a server that dies under a live
// mount (EIO at once, never a hang), and forceUnmount of a mount whose process was killed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isQemountError } from '@qemount/core';
import { forceUnmount, mountFuse } from '../src/index.js';
import { readManifest } from '../../../core/src/plugins/discoverPlugins.js';
import { within } from '../../../core/test/p9/diod.js';
import { FuseHarness, isMounted, sh } from './harness.js';

const pluginDir = fileURLToPath(new URL('..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/mountChild.ts', import.meta.url));
const h = new FuseHarness();
const exportDir = h.dir('export');
const children: ChildProcess[] = [];

test.before(() => {
  for (const name of ['a.txt', 'b.txt', 'c.txt']) writeFileSync(join(exportDir, name), `${name}\n`);
});

test.after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await h.cleanup();
});

/** Reads the first line a child prints. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.stderr!.on('data', (d) => (err += d));
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before it was ready: ${err}`)));
  });
}

/** A separate Node process that mounts the export on `mnt`, to be killed. */
async function mountInChild(mnt: string): Promise<{ child: ChildProcess; diodPid: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, exportDir, mnt], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  h.track(mnt);
  const line = await within(30_000, firstLine(child), 'the child mount');
  return { child, diodPid: JSON.parse(line).diodPid };
}

async function kill(child: ChildProcess, diodPid: number): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  try {
    process.kill(diodPid, 'SIGKILL');
  } catch {
    // already gone with its client
  }
}

test('the manifest validates and declares frontend id "fuse"', async () => {
  const record = await readManifest(pluginDir, 'built-in');
  assert.is(record.name, 'frontend-fuse');
  assert.is(record.manifest.kind, 'frontend');
  assert.is(record.manifest.entry, 'dist/index.js');
  assert.is(record.manifest.frontend!.id, 'fuse');
});

test('close() detaches; the same mountpoint mounts again', async () => {
  const first = await h.mount(exportDir, { readOnly: true });
  assert.ok(await isMounted(first.mnt));
  await first.handle.close();
  assert.not.ok(await isMounted(first.mnt));
  const second = await h.mount(exportDir, { readOnly: true, mnt: first.mnt });
  assert.equal((await readdir(second.mnt)).sort(), ['a.txt', 'b.txt', 'c.txt']);
  await second.handle.close();
  assert.not.ok(await isMounted(first.mnt));
});

test('close() while a process holds a file open: retries, then detaches lazily', async () => {
  const { mnt, handle } = await h.mount(exportDir, { readOnly: true });
  const holder = spawn('sh', ['-c', 'exec 3< "$1"; echo ready; exec sleep 60', 'sh', join(mnt, 'a.txt')], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(holder);
  assert.is(await within(10_000, firstLine(holder), 'holder'), 'ready');
  const started = Date.now();
  await within(20_000, handle.close(), 'close');
  assert.not.ok(await isMounted(mnt));
  console.log(`      busy mountpoint detached in ${Date.now() - started} ms`);
  holder.kill('SIGKILL');
});

test('the server dies under a live mount: reads fail with EIO within 5 s, then close() detaches', async () => {
  const { mnt, handle, diod, fs } = await h.mount(exportDir, { readOnly: true });
  const ok = await sh('cat', [join(mnt, 'a.txt')]);
  assert.is(ok.stdout, 'a.txt\n');
  diod.process.kill('SIGKILL');
  await within(5000, fs.client.closed, 'the 9P client noticing');
  for (const [cmd, ...args] of [['cat', join(mnt, 'b.txt')], ['ls', '-l', mnt], ['stat', join(mnt, 'c.txt')], ['cat', join(mnt, 'no-such-file')]]) {
    const r = await sh(cmd, args, { timeoutMs: 5000 });
    assert.not.ok(r.timedOut, `${cmd} hung`);
    assert.is.not(r.code, 0, `${cmd} ${args.join(' ')} succeeded`);
    assert.match(r.stderr, /Input\/output error/, `${cmd}: ${r.stderr}`);
    assert.ok(r.ms < 5000);
  }
  await within(20_000, handle.close(), 'close');
  assert.not.ok(await isMounted(mnt));
});

test('forceUnmount detaches the stale mount of a killed process ("Transport endpoint is not connected")', async () => {
  const mnt = h.dir('stale');
  const { child, diodPid } = await mountInChild(mnt);
  assert.ok(await isMounted(mnt));
  assert.is((await sh('cat', [join(mnt, 'a.txt')])).stdout, 'a.txt\n');
  await kill(child, diodPid);
  const dead = await sh('stat', [mnt], { timeoutMs: 5000 });
  assert.match(dead.stderr, /Transport endpoint is not connected/);
  assert.ok(await isMounted(mnt), 'the dead mount stays in the table');
  assert.is(await within(10_000, forceUnmount(mnt), 'forceUnmount'), true);
  assert.not.ok(await isMounted(mnt));
  assert.equal(await readdir(mnt), []);
  assert.is(await forceUnmount(mnt), false, 'nothing left to detach');
});

test('mountFuse clears a stale mount on its mountpoint first', async () => {
  const mnt = h.dir('stale-again');
  const { child, diodPid } = await mountInChild(mnt);
  await kill(child, diodPid);
  const { handle } = await h.mount(exportDir, { readOnly: true, mnt });
  assert.is((await sh('cat', [join(mnt, 'c.txt')])).stdout, 'c.txt\n');
  await handle.close();
  assert.not.ok(await isMounted(mnt));
});

test('mountFuse refuses a missing mountpoint and one that is mounted already', async () => {
  const { fs } = await h.serve(exportDir);
  const missing = await mountFuse({ mountpoint: join(h.tmp.dir, 'nope'), fs, readOnly: true, source: 'x' }).then(() => undefined, (e: unknown) => e);
  assert.ok(isQemountError(missing, 'E_MOUNTPOINT'), String(missing));
  const { mnt } = await h.mount(exportDir, { readOnly: true });
  const busy = await mountFuse({ mountpoint: mnt, fs, readOnly: true, source: 'x' }).then(() => undefined, (e: unknown) => e);
  assert.ok(isQemountError(busy, 'E_MOUNTPOINT_BUSY'), String(busy));
});

test.run();
