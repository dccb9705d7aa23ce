// Extent reads, end to end: real guests under TCG, real FUSE, the CLI as a subprocess. Each image
// is made by the filesystem's own tools and holds a large file, a sparse one, one with an
// unwritten extent lying over stale data (read from the disk it would show that data, not the
// zeros the filesystem promises), a small one and a large one with spaces and UTF-8 in its path.
// Every file is read through a read-only mount and compared by sha256 with its source, and the
// mount's log must show that the large ones came straight from the image. Every filesystem
// whose linux-6 manifest entry says `extentReads` must be proven here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { qemount, root } from '../../../test/e2e/lib/harness.ts';

const run = promisify(execFile);
const MiB = 1 << 20;
const work = await mkdtemp(join(tmpdir(), 'qemount-extents-e2e-'));

/** A file's expected bytes; `data` ranges of a sparse file are written, the rest is a hole. */
interface SourceFile {
  path: string;
  size: number;
  data: [at: number, bytes: Buffer][];
  /** Read straight from the image (at least part of it). */
  direct: boolean;
}

const expectedBytes = (f: SourceFile) => {
  const out = Buffer.alloc(f.size);
  for (const [at, bytes] of f.data) bytes.copy(out, at);
  return out;
};
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Writes a source file on the host, sparse where it has no data. */
async function writeSource(dir: string, f: SourceFile): Promise<string> {
  const path = join(dir, f.path);
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, 'w');
  await handle.truncate(f.size);
  for (const [at, bytes] of f.data) await handle.write(bytes, 0, bytes.length, at);
  await handle.close();
  return path;
}

// The tree every image holds (unwritten.bin is made by each filesystem's tools, see below).
const big: SourceFile = { path: 'big.bin', size: 12 * MiB + 4321, data: [[0, randomBytes(12 * MiB + 4321)]], direct: true };
// Holes at the start of a block run, between the runs and up to the end; block-aligned data.
const sparse: SourceFile = { path: 'sparse.bin', size: 8 * MiB, data: [[0, randomBytes(64 << 10)], [3 * MiB, randomBytes(256 << 10)]], direct: true };
const small: SourceFile = { path: 'small.txt', size: 6, data: [[0, Buffer.from('small\n')]], direct: false };
// 2 MiB written, then 2 MiB unwritten (fallocate), then a 2 MiB hole.
const unwrittenData = randomBytes(2 * MiB);
const unwritten: SourceFile = { path: 'unwritten.bin', size: 6 * MiB, data: [[0, unwrittenData]], direct: true };
const named = (path: string): SourceFile => ({ path, size: 5 * MiB, data: [[0, randomBytes(5 * MiB)]], direct: true });

/** ext2/3/4 by mke2fs -d (it keeps holes); ext4's unwritten extent by debugfs's fallocate over the blocks of a deleted file. */
async function extImage(kind: 'ext2' | 'ext3' | 'ext4', files: SourceFile[]): Promise<string> {
  const dir = await mkdtemp(join(work, `${kind}-`));
  const src = join(dir, 'src');
  for (const f of files) await writeSource(src, f);
  const image = join(dir, `${kind}.img`);
  if (kind !== 'ext4') {
    await run('mke2fs', ['-q', '-t', kind, '-b', '4096', '-d', src, image, '64M']);
    return image;
  }
  // Stale data for the unwritten extent to lie on: a file that is deleted before the fallocate.
  await writeFile(join(src, 'stale.bin'), randomBytes(4 * MiB));
  await writeFile(join(dir, 'written.bin'), unwrittenData);
  await run('mke2fs', ['-q', '-t', 'ext4', '-b', '4096', '-d', src, image, '64M']);
  const commands = ['rm /stale.bin', `write ${join(dir, 'written.bin')} unwritten.bin`, 'fallocate /unwritten.bin 512 1023', `sif /unwritten.bin size ${unwritten.size}`];
  await writeFile(join(dir, 'debugfs.cmd'), commands.join('\n') + '\n');
  await run('debugfs', ['-w', '-f', join(dir, 'debugfs.cmd'), image]);
  // Proof that reading the unwritten extent from the disk would not give zeros.
  const { stdout } = await run('debugfs', ['-R', 'ex /unwritten.bin', image]);
  const uninit = stdout.split('\n').filter((l) => /Uninit/.test(l)).map((l) => /(\d+) -\s*(\d+)\s+\d+\s+Uninit/.exec(l)!.slice(1).map(Number));
  assert.ok(uninit.length, `debugfs shows no unwritten extent:\n${stdout}`);
  const disk = await readFile(image);
  assert.ok(uninit.some(([first, last]) => disk.subarray(first * 4096, (last + 1) * 4096).some((b) => b !== 0)), 'the unwritten extent lies on stale (non-zero) data');
  return image;
}

/** xfs by mkfs.xfs -p (which writes every byte); holes and the unwritten extent by xfs_db rewriting the files' extent records. */
async function xfsImage(files: SourceFile[]): Promise<string> {
  const dir = await mkdtemp(join(work, 'xfs-'));
  const src = join(dir, 'src');
  const lines = ['/dummy', '0 0', 'd--755 0 0'];
  // unwritten.bin starts as 4 MiB of data: its second half becomes the unwritten extent.
  const all = [...files.filter((f) => f !== unwritten), { ...unwritten, size: 4 * MiB, data: [[0, Buffer.concat([unwrittenData, randomBytes(2 * MiB)])]] } as SourceFile];
  for (const f of all) lines.push(` ${f.path} ---644 0 0 ${await writeSource(src, f)}`);
  lines.push('$');
  await writeFile(join(dir, 'proto'), lines.join('\n') + '\n');
  const image = join(dir, 'xfs.img');
  await writeFile(image, '');
  await run('truncate', ['-s', '64M', image]);
  await run('mkfs.xfs', ['-q', '-f', '-b', 'size=4096', '-p', join(dir, 'proto'), image], { env: { ...process.env, TEST_DIR: '1', TEST_DEV: '1', QA_CHECK_FS: '1' } });
  const xfsDb = async (path: string, commands: string[]) => (await run('xfs_db', ['-x', '-c', `path /${path}`, ...commands.flatMap((c) => ['-c', c]), image])).stdout;
  const startblock = async (path: string) => {
    const out = await xfsDb(path, ['print core.nextents', 'print u3.bmx[0].startblock']);
    assert.match(out, /core\.nextents = 1\n/, `${path} is one extent before the edit`);
    return Number(/startblock = (\d+)/.exec(out)![1]);
  };
  // sparse.bin: keep the blocks that hold data, in two extents; the rest becomes holes.
  const s = await startblock('sparse.bin');
  await xfsDb('sparse.bin', ['write core.nextents 2', 'write u3.bmx[0].blockcount 16',
    'write u3.bmx[1].startoff 768', `write u3.bmx[1].startblock ${s + 768}`, 'write u3.bmx[1].blockcount 64', 'write u3.bmx[1].extentflag 0']);
  // unwritten.bin: 2 MiB of data, then 2 MiB unwritten over the data written there, then a hole to 6 MiB.
  const u = await startblock('unwritten.bin');
  await xfsDb('unwritten.bin', ['write core.nextents 2', 'write u3.bmx[0].blockcount 512',
    'write u3.bmx[1].startoff 512', `write u3.bmx[1].startblock ${u + 512}`, 'write u3.bmx[1].blockcount 512', 'write u3.bmx[1].extentflag 1',
    `write core.size ${unwritten.size}`]);
  return image;
}

/** An image as a qcow2 whose GPT partition 1 (at 1 MiB) holds it: extents are read through the container, at the partition's offset. */
async function inQcow2Partition(fsImage: string): Promise<string> {
  const raw = `${fsImage}.disk`;
  const size = (await readFile(fsImage)).length;
  await run('truncate', ['-s', String(size + 2 * MiB), raw]);
  await run('sgdisk', ['-o', '-n', `1:2048:+${size / 1024}K`, '-t', '1:8300', raw]);
  await run('dd', [`if=${fsImage}`, `of=${raw}`, 'bs=1M', 'seek=1', 'conv=notrunc,sparse', 'status=none']);
  const qcow2 = `${fsImage}.qcow2`;
  await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  return qcow2;
}

interface Case {
  name: string;
  /** The filesystems (manifest ids) this case proves. */
  proves: string[];
  files: SourceFile[];
  image: () => Promise<string>;
  args?: string[];
}

const spaced = named('a dir/é x.bin');
const unspaced = named('é-ü.bin'); // mkfs.xfs -p takes no spaces in names
const cases: Case[] = [
  { name: 'ext4', proves: ['ext4'], files: [big, sparse, unwritten, small, spaced], image: () => extImage('ext4', [big, sparse, small, spaced]) },
  { name: 'xfs', proves: ['xfs'], files: [big, sparse, unwritten, small, unspaced], image: () => xfsImage([big, sparse, small, unspaced]) },
  { name: 'ext2', proves: ['ext2'], files: [big, sparse, small], image: () => extImage('ext2', [big, sparse, small]) },
  { name: 'ext3', proves: ['ext3'], files: [big, sparse, small], image: () => extImage('ext3', [big, sparse, small]) },
  { name: 'ext4 in GPT partition 1 of a qcow2', proves: [], files: [big, sparse, unwritten, small], image: async () => inQcow2Partition(await extImage('ext4', [big, sparse, small])) },
];

const manifest = JSON.parse(await readFile(join(root, 'plugins', 'guest-linux-6', 'qemount.json'), 'utf8'));
const declared = Object.entries(manifest.guest.filesystems as Record<string, { extentReads?: boolean }>).filter(([, s]) => s.extentReads).map(([id]) => id);

test('every filesystem declared with extentReads is proven by a case here', () => {
  const proven = new Set(cases.flatMap((c) => c.proves));
  assert.equal(declared.filter((fs) => !proven.has(fs)), [], 'declared without proof');
  assert.ok(!declared.includes('btrfs'), 'btrfs FIEMAP offsets are btrfs logical addresses, not device offsets');
});

async function mountLog(mountpoint: string): Promise<string> {
  const listed = JSON.parse((await qemount(['list', '--json'])).stdout) as { mountpoint: string; daemonLog: string }[];
  const record = listed.find((m) => m.mountpoint === mountpoint);
  assert.ok(record, `${mountpoint} is listed`);
  return readFile(record.daemonLog, 'utf8');
}

/** Waits until the mount's log has a line matching `pattern` (the guest answers in the background). */
async function waitForLog(mountpoint: string, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = await mountLog(mountpoint);
    if (pattern.test(log) || Date.now() > deadline) return log;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function withMount<T>(image: string, args: string[], body: (mountpoint: string) => Promise<T>): Promise<T> {
  const mountpoint = await mkdtemp(join(work, 'mnt-'));
  const mounted = await qemount(['mount', image, mountpoint, ...args]);
  assert.is(mounted.code, 0, `qemount mount failed: ${mounted.stderr}`);
  try {
    return await body(mountpoint);
  } finally {
    const done = await qemount(['unmount', mountpoint]);
    assert.is(done.code, 0, `qemount unmount failed: ${done.stderr}`);
  }
}

for (const c of cases) {
  test(`${c.name}: every file reads back through the mount; the large ones straight from the image`, async () => {
    await withMount(await c.image(), c.args ?? [], async (mountpoint) => {
      assert.match(await mountLog(mountpoint), /extent reads: on/);
      for (const f of c.files) {
        const path = join(mountpoint, f.path);
        // Opened first: the guest is asked at open, and reads go through 9P until it answers.
        const handle = await open(path, 'r');
        try {
          if (f.direct) {
            const log = await waitForLog(mountpoint, new RegExp(`extent reads: /${escape(f.path)} \\(`));
            assert.match(log, new RegExp(`extent reads: /${escape(f.path)} \\([\\d.]+ MiB\\): \\d+ extents? read from the image`), `${f.path} mapped`);
          }
          assert.is(sha256(await handle.readFile()), sha256(expectedBytes(f)), `${c.name}: ${f.path} differs from its source`);
        } finally {
          await handle.close();
        }
      }
      const log = await waitForLog(mountpoint, new RegExp(`/${escape(c.files.filter((f) => f.direct).at(-1)!.path)}: [\\d.]+ MiB read from the image`));
      for (const f of c.files) {
        const fromImage = new RegExp(`extent reads: /${escape(f.path)}: [\\d.]+ MiB read from the image`);
        if (f.direct) assert.match(log, fromImage, `${f.path} was read from the image`);
        else assert.not.match(log, new RegExp(`extent reads: /${escape(f.path)}`), `${f.path} (small) went through 9P`);
      }
      assert.not.match(log, /through 9P|reading the image failed/, 'no file fell back to 9P');
    });
  });
}

test('a --snapshot mount reads through 9P only (its overlay is not in the image), and says so', async () => {
  const image = await extImage('ext4', [big, small]);
  await withMount(image, ['--snapshot'], async (mountpoint) => {
    assert.is(sha256(await readFile(join(mountpoint, big.path))), sha256(expectedBytes(big)));
    const log = await mountLog(mountpoint);
    assert.match(log, /extent reads: off \(the mount is writable\)/);
    assert.not.match(log, /read from the image/);
  });
});

test.after(async () => {
  for (const m of JSON.parse((await qemount(['list', '--json'])).stdout || '[]') as { mountpoint: string }[]) {
    if (m.mountpoint.startsWith(work)) await qemount(['unmount', '--force', m.mountpoint]);
  }
  await rm(work, { recursive: true, force: true });
});

test.run();
