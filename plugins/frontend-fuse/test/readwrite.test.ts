// A read-write FUSE mount over diod on the host: every change made through the mount is checked
// in the exported directory (diod writes there directly), and seen at once through the mount.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { appendFile, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FuseHarness, script, sh } from './harness.js';

const h = new FuseHarness();
const exportDir = h.dir('export');
const outside = h.dir('outside');
const x = (p: string) => join(exportDir, p);
let mnt: string;
const m = (p: string) => join(mnt, p);

/** Runs a shell script in the mount; fails the test on a non-zero exit. */
async function inMount(text: string): Promise<string> {
  const r = await script(text, { cwd: mnt, timeoutMs: 60_000 });
  assert.is(r.code, 0, `${text}: ${r.stderr}`);
  return r.stdout;
}

test.before(async () => {
  writeFileSync(x('existing.txt'), 'existing content\n');
  ({ mnt } = await h.mount(exportDir, { readOnly: false, source: 'qemount:rw.img' }));
});

test.after(() => h.cleanup());

test('the mount table shows rw', async () => {
  const line = (await readFile('/proc/mounts', 'utf8')).split('\n').find((l) => l.split(' ')[1] === mnt)!;
  assert.ok(line.split(' ')[3].split(',').includes('rw'), line);
});

test('create, write, append, overwrite in place, truncate (shrink and grow)', async () => {
  await inMount('printf "hello\\n" > new.txt');
  assert.is(readFileSync(x('new.txt'), 'utf8'), 'hello\n');
  await inMount('printf "more\\n" >> new.txt');
  assert.is(readFileSync(x('new.txt'), 'utf8'), 'hello\nmore\n');
  await inMount('printf XY | dd of=new.txt bs=1 seek=1 conv=notrunc status=none');
  assert.is(readFileSync(x('new.txt'), 'utf8'), 'hXYlo\nmore\n');
  await inMount('truncate -s 3 new.txt');
  assert.is(readFileSync(x('new.txt'), 'utf8'), 'hXY');
  await inMount('truncate -s 6 new.txt');
  assert.ok(readFileSync(x('new.txt')).equals(Buffer.from('hXY\0\0\0')));
  assert.is(await inMount('stat -c %s new.txt'), '6\n', 'the size through the mount is fresh');
  // O_TRUNC on an existing file.
  await inMount('printf "x" > existing.txt');
  assert.is(readFileSync(x('existing.txt'), 'utf8'), 'x');
  assert.is(await inMount('cat existing.txt'), 'x');
});

test('writes from the serving process itself (fs.promises): writeFile, appendFile (O_APPEND), positional writes', async () => {
  await writeFile(m('p.txt'), 'one\n');
  await appendFile(m('p.txt'), 'two\n');
  await appendFile(m('p.txt'), 'three\n');
  assert.is(readFileSync(x('p.txt'), 'utf8'), 'one\ntwo\nthree\n');
  const f = await open(m('p.txt'), 'r+');
  try {
    await f.write('TWO', 0, 'utf8');
    await f.sync();
    await f.truncate(7);
  } finally {
    await f.close();
  }
  assert.is(readFileSync(x('p.txt'), 'utf8'), 'TWO\ntwo');
  assert.is(await readFile(m('p.txt'), 'utf8'), 'TWO\ntwo');
});

test('mkdir -p, rename of a directory (its cached subtree follows), rmdir, unlink', async () => {
  await inMount('mkdir -p a/b/c && echo deep > a/b/c/file && ls -R a > /dev/null');
  assert.ok(statSync(x('a/b/c')).isDirectory());
  await inMount('mv a a2');
  assert.not.ok(existsSync(x('a')));
  assert.is(readFileSync(x('a2/b/c/file'), 'utf8'), 'deep\n');
  assert.is(await inMount('cat a2/b/c/file'), 'deep\n');
  const gone = await script('ls a', { cwd: mnt });
  assert.is.not(gone.code, 0, 'the old name is gone through the mount too');
  await inMount('rm a2/b/c/file && rmdir a2/b/c');
  assert.not.ok(existsSync(x('a2/b/c')));
  assert.is(await inMount('ls -A a2/b'), '');
  await inMount('rm -r a2');
  assert.not.ok(existsSync(x('a2')));
});

test('unlink of an open file: its reader keeps reading; nothing is left once it closes', async () => {
  writeFileSync(x('open.txt'), 'still here\n');
  const r = await script('exec 3< open.txt && rm open.txt && ls && cat <&3', { cwd: mnt });
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stdout.endsWith('still here\n'), r.stdout);
  assert.not.ok(r.stdout.split('\n').includes('open.txt'));
  // libfuse keeps the unlinked file as .fuse_hidden* until the last close (no hard_remove).
  const deadline = Date.now() + 3000;
  while (readdirSync(exportDir).some((n) => n === 'open.txt' || n.startsWith('.fuse_hidden')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(readdirSync(exportDir).filter((n) => n === 'open.txt' || n.startsWith('.fuse_hidden')), []);
});

test('rename of a file, over an existing file too; the listing is fresh at once', async () => {
  await inMount('echo r > r1 && ls > /dev/null && mv r1 r2');
  assert.equal([existsSync(x('r1')), readFileSync(x('r2'), 'utf8')], [false, 'r\n']);
  assert.ok((await inMount('ls')).split('\n').includes('r2'));
  assert.not.ok((await inMount('ls')).split('\n').includes('r1'));
  await inMount('echo s > s1 && mv -f s1 r2');
  assert.is(readFileSync(x('r2'), 'utf8'), 's\n');
});

test('symlink and hard link', async () => {
  await inMount('echo target > t.txt && ln -s t.txt sym && ln -s /absolute/elsewhere abs && ln t.txt hard');
  assert.is(readlinkSync(x('sym')), 't.txt');
  assert.is(readlinkSync(x('abs')), '/absolute/elsewhere');
  assert.is(await inMount('readlink sym; cat sym'), 't.txt\ntarget\n');
  assert.is(statSync(x('hard')).ino, statSync(x('t.txt')).ino);
  assert.is(statSync(x('t.txt')).nlink, 2);
  assert.is(await inMount('stat -c %h t.txt'), '2\n', 'the link count through the mount is fresh');
  const inodes = await inMount('stat -c %i t.txt hard');
  const [a, b] = inodes.trim().split('\n');
  assert.is(a, b, 'hard links share an inode number through the mount (use_ino)');
});

test('chmod, chown, utimens (touch -d, touch, different atime and mtime, cp -p)', async () => {
  await inMount('echo m > modes.txt && chmod 640 modes.txt');
  assert.is(statSync(x('modes.txt')).mode & 0o7777, 0o640);
  assert.is(await inMount('stat -c %a modes.txt'), '640\n');
  await inMount('chmod 4755 modes.txt');
  assert.is(statSync(x('modes.txt')).mode & 0o7777, 0o4755);
  await inMount('chown 1234:5678 modes.txt');
  assert.equal([statSync(x('modes.txt')).uid, statSync(x('modes.txt')).gid], [1234, 5678]);
  await inMount('chgrp 42 modes.txt');
  assert.equal([statSync(x('modes.txt')).uid, statSync(x('modes.txt')).gid], [1234, 42]);
  await inMount('touch -d @1000000000 modes.txt');
  const st = statSync(x('modes.txt'));
  assert.equal([st.mtimeMs, st.atimeMs], [1e12, 1e12]);
  assert.is(await inMount('stat -c %Y modes.txt'), '1000000000\n');
  await inMount('touch modes.txt');
  assert.ok(Math.abs(statSync(x('modes.txt')).mtimeMs - Date.now()) < 10_000, 'touch sets "now"');
  // Different access and modification times (cp -p, tar, rsync -t): fuse-native passes JS the
  // access time twice; the plugin reads the modification time from the native request.
  const utimes = await sh(process.execPath, ['-e', `require('fs').utimesSync(${JSON.stringify(m('modes.txt'))}, 1000000000.25, 1500000000.5)`]);
  assert.is(utimes.code, 0, utimes.stderr);
  const after = statSync(x('modes.txt'));
  assert.equal([after.atimeMs, after.mtimeMs], [1000000000250, 1500000000500]);
  await inMount(`cp -p "${x('existing.txt')}" copied-p.txt`);
  // fuse-native carries times in whole milliseconds.
  assert.is(statSync(x('copied-p.txt')).mtimeMs, Math.floor(statSync(x('existing.txt')).mtimeMs));
});

test('mknod (a fifo), fsync', async () => {
  await inMount('mkfifo pipe');
  assert.ok(lstatSync(x('pipe')).isFIFO());
  await inMount('echo synced > s.txt && sync s.txt && dd if=/dev/zero of=z bs=64k count=4 conv=fsync status=none');
  assert.is(readFileSync(x('s.txt'), 'utf8'), 'synced\n');
  assert.is(statSync(x('z')).size, 256 * 1024);
});

test('cp of a 20 MiB file in and out: sha256 equal', async () => {
  const data = randomBytes(20 * 1024 * 1024);
  const sha = createHash('sha256').update(data).digest('hex');
  writeFileSync(join(outside, 'big.bin'), data);
  const copyIn = await sh('cp', [join(outside, 'big.bin'), m('big.bin')], { timeoutMs: 120_000 });
  assert.is(copyIn.code, 0, copyIn.stderr);
  assert.is(createHash('sha256').update(readFileSync(x('big.bin'))).digest('hex'), sha);
  const copyOut = await sh('cp', [m('big.bin'), join(outside, 'back.bin')], { timeoutMs: 120_000 });
  assert.is(copyOut.code, 0, copyOut.stderr);
  assert.is(createHash('sha256').update(readFileSync(join(outside, 'back.bin'))).digest('hex'), sha);
  const through = await sh('sha256sum', [m('big.bin')]);
  assert.is(through.stdout.split(' ')[0], sha);
  console.log(`      cp 20 MiB in: ${copyIn.ms} ms, out: ${copyOut.ms} ms`);
});

test('cp -a of a tree into the mount, rm -r of it', async () => {
  await script('mkdir -p tree/d1/d2 && echo 1 > tree/f1 && echo 2 > tree/d1/f2 && ln -s f1 tree/l && chmod 700 tree/d1', { cwd: outside });
  await inMount(`cp -a "${join(outside, 'tree')}" tree`);
  const listing = (dir: string) => script("find . -printf '%P %y %s %m %l\\n' | sort", { cwd: dir });
  assert.is((await listing(x('tree'))).stdout, (await listing(join(outside, 'tree'))).stdout);
  await inMount('rm -r tree');
  assert.not.ok(existsSync(x('tree')));
});

test('changes made behind the mount show within the (1 s) read-write cache time', async () => {
  await inMount('echo v1 > behind.txt && cat behind.txt > /dev/null && ls > /dev/null');
  writeFileSync(x('behind.txt'), 'version 2\n');
  writeFileSync(x('appeared.txt'), 'new\n');
  await new Promise((r) => setTimeout(r, 1600));
  assert.is(await inMount('stat -c %s behind.txt'), '10\n');
  assert.ok((await inMount('ls')).split('\n').includes('appeared.txt'));
});

test('errors keep their errno: ENOENT, EEXIST, ENOTEMPTY, ENOTDIR', async () => {
  const cases: [string, RegExp][] = [
    ['cat missing', /No such file or directory/],
    ['mkdir existing.txt', /File exists/],
    ['mkdir -p full/x && rmdir full', /Directory not empty/],
    ['ls existing.txt/x', /Not a directory/],
  ];
  for (const [text, message] of cases) {
    const r = await script(text, { cwd: mnt });
    assert.is.not(r.code, 0, text);
    assert.match(r.stderr, message, `${text}: ${r.stderr}`);
  }
  assert.ok(readdirSync(exportDir).includes('full'));
});

test.run();
