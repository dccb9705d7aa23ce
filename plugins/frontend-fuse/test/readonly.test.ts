// A read-only FUSE mount over diod on the host, mounted through the plugin's frontend hook: the
// whole tree read through the mount equals the export; every write fails with EROFS.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile, readdir, readlink, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { AsyncSeriesBailHook, HookMap } from 'tapable';
import type { FrontendHandle, FrontendRequest, Qemount } from '@qemount/core';
import plugin, { type FuseMountHandle } from '../src/index.js';
import { FuseHarness, isMounted, script, sh } from './harness.js';

const h = new FuseHarness();
const exportDir = h.dir('export');
const x = (p: string) => join(exportDir, p);
let mnt: string;
let handle: FuseMountHandle;
const bigFile = randomBytes(5 * 1024 * 1024 + 12345);

test.before(async () => {
  mkdirSync(x('sub/deeper'), { recursive: true });
  mkdirSync(x('sub/empty dir'));
  mkdirSync(x('ünïcødé ✓ 日本語'));
  writeFileSync(x('hello.txt'), 'hello world\n');
  writeFileSync(x('name with spaces.txt'), 'spaces\n');
  writeFileSync(x('ünïcødé ✓ 日本語/fïlé – ü.txt'), 'utf-8 name\n');
  writeFileSync(x('sub/deeper/file.txt'), 'deep\n');
  writeFileSync(x('empty'), '');
  writeFileSync(x('big.bin'), bigFile);
  writeFileSync(x('secret'), 'only root\n');
  chmodSync(x('secret'), 0o600);
  writeFileSync(x('run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(x('run.sh'), 0o755);
  symlinkSync('sub/deeper/file.txt', x('link'));
  symlinkSync('does/not/exist', x('dangling'));
  symlinkSync('../hello.txt', x('sub/up-link'));

  // Mounted the way the core does it: through the frontend hook the plugin taps.
  const hooks = { frontend: new HookMap(() => new AsyncSeriesBailHook<[FrontendRequest], FrontendHandle | undefined>(['request'])) };
  plugin.apply({ hooks } as unknown as Qemount);
  const { fs } = await h.serve(exportDir);
  const mountpoint = h.dir('mnt');
  h.track(mountpoint);
  const request: FrontendRequest = { mountpoint, fs, readOnly: true, source: 'qemount:disk image.img' };
  handle = (await hooks.frontend.get('fuse')!.promise(request)) as FuseMountHandle;
  assert.ok(handle, 'the fuse frontend hook returns a handle');
  mnt = handle.mountpoint;
});

test.after(() => h.cleanup());

test('the mount table shows the source, fuse.qemount and ro', async () => {
  const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n').map((l) => l.split(' ')).filter((f) => f[1] === mnt);
  assert.is(mounts.length, 1);
  const [source, , type, options] = mounts[0];
  assert.is(source, 'qemount:disk\\040image.img');
  assert.is(type, 'fuse.qemount');
  assert.ok(options.split(',').includes('ro'), options);
});

/** One line per entry: path, type, size, mode, symlink target, owner, mtime (whole seconds). */
async function treeOf(dir: string): Promise<string[]> {
  const r = await script("find . -printf '%P\\t%y\\t%s\\t%m\\t%l\\t%U:%G\\t%T@\\n'", { cwd: dir });
  assert.is(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).map((line) => {
    const f = line.split('\t');
    f[6] = String(Math.floor(Number(f[6])));
    return f.join('\t');
  }).sort();
}

test('the tree through the mount equals the export: names, types, sizes, modes, symlink targets, owners, mtimes', async () => {
  const [inMount, inExport] = await Promise.all([treeOf(mnt), treeOf(exportDir)]);
  assert.ok(inExport.length >= 15, `export lists ${inExport.length} entries`);
  assert.equal(inMount, inExport);
});

test('every file read through the mount has the same sha256 as in the export', async () => {
  const sums = (dir: string) => script('find . -type f -print0 | sort -z | xargs -0 sha256sum', { cwd: dir });
  const [a, b] = await Promise.all([sums(mnt), sums(exportDir)]);
  assert.is(a.code, 0, a.stderr);
  assert.ok(a.stdout.includes('./big.bin'));
  assert.is(a.stdout, b.stdout);
});

test('fs.promises from the serving process itself: readdir, lstat, readlink, a multi-MiB readFile', async () => {
  assert.equal((await readdir(mnt)).sort(), readdirSync(exportDir).sort());
  assert.equal((await readdir(join(mnt, 'sub/empty dir'))), []);
  assert.is(await readlink(join(mnt, 'link')), 'sub/deeper/file.txt');
  const st = await lstat(join(mnt, 'big.bin'));
  assert.is(st.size, bigFile.length);
  assert.ok((await readFile(join(mnt, 'big.bin'))).equals(bigFile));
  assert.is(await readFile(join(mnt, 'ünïcødé ✓ 日本語/fïlé – ü.txt'), 'utf8'), 'utf-8 name\n');
  // A read at an odd offset and length.
  const piece = await sh('sh', ['-c', `tail -c +3333334 "${join(mnt, 'big.bin')}" | head -c 70000 | sha256sum`]);
  const expected = await sh('sh', ['-c', `tail -c +3333334 "${x('big.bin')}" | head -c 70000 | sha256sum`]);
  assert.is(piece.stdout, expected.stdout);
});

test('statfs answers (df)', async () => {
  const r = await sh('df', ['-P', mnt]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /qemount:disk image\.img/);
});

test('every write fails with EROFS and the export is unchanged', async () => {
  const before = readdirSync(exportDir).sort();
  const attempts = [
    ['touch', join(mnt, 'new-file')],
    ['touch', join(mnt, 'hello.txt')],
    ['mkdir', join(mnt, 'new-dir')],
    ['rm', '-f', join(mnt, 'hello.txt')],
    ['rmdir', join(mnt, 'sub/empty dir')],
    ['mv', join(mnt, 'hello.txt'), join(mnt, 'moved.txt')],
    ['chmod', '777', join(mnt, 'hello.txt')],
    ['ln', '-s', 'x', join(mnt, 'new-link')],
    ['ln', join(mnt, 'hello.txt'), join(mnt, 'hard-link')],
    ['truncate', '-s', '0', join(mnt, 'hello.txt')],
    ['sh', '-c', `echo more >> "${join(mnt, 'hello.txt')}"`],
    ['mkfifo', join(mnt, 'fifo')],
  ];
  const results = await Promise.all(attempts.map(([cmd, ...args]) => sh(cmd, args, { timeoutMs: 10_000 })));
  results.forEach((r, i) => {
    assert.is.not(r.code, 0, `${attempts[i].join(' ')} succeeded`);
    assert.match(r.stderr, /Read-only file system/, `${attempts[i].join(' ')}: ${r.stderr}`);
  });
  assert.equal(readdirSync(exportDir).sort(), before);
  assert.is(readFileSync(x('hello.txt'), 'utf8'), 'hello world\n');
});

test('close() detaches the mountpoint', async () => {
  assert.ok(await isMounted(mnt));
  await handle.close();
  assert.not.ok(await isMounted(mnt));
  assert.equal(await readdir(mnt), [], 'the mountpoint is an empty directory again');
  await handle.close(); // a second close is a no-op
});

test.run();
