// qemount mount as a user meets it: real guests under TCG, real FUSE, the CLI as a subprocess.
// Whole trees compared through the mountpoint; read-write round trips checked with each
// filesystem's own fsck; --snapshot leaves the image byte-identical; a dead guest gives EIO; a
// killed mount process and a dead guest are both recovered by list / unmount --force.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { chmod, copyFile, lstat, mkdtemp, readFile, readdir, readlink, rm, writeFile, rename, mkdir, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildImage, expectedFor, filledImage, qemount } from '../../../test/e2e/lib/harness.ts';
import { compareTrees, type FoundEntry } from '../../../test/e2e/lib/hostTree.ts';
import { isAlive } from '../../src/mounts/MountRecord.ts';

const run = promisify(execFile);
const work = await mkdtemp(join(tmpdir(), 'qemount-mount-e2e-'));
let counter = 0;
const newMountpoint = async () => {
  const dir = join(work, `mnt-${counter++}`);
  await mkdir(dir);
  return dir;
};

/** Reads a mounted tree with modes, from this process (the mount is served by another one). */
async function readMounted(dir: string, relative = ''): Promise<(FoundEntry & { mode: number })[]> {
  const out: (FoundEntry & { mode: number })[] = [];
  for (const name of (await readdir(join(dir, relative))).sort()) {
    const path = relative ? `${relative}/${name}` : name;
    const info = await lstat(join(dir, path));
    const mode = info.mode & 0o7777;
    if (info.isSymbolicLink()) out.push({ path, type: 'symlink', target: await readlink(join(dir, path)), mode });
    else if (info.isDirectory()) {
      out.push({ path, type: 'dir', mode });
      out.push(...(await readMounted(dir, path)));
    } else {
      const data = await readFile(join(dir, path));
      out.push({ path, type: 'file', size: data.length, sha256: createHash('sha256').update(data).digest('hex'), mode });
    }
  }
  return out;
}

async function mount(image: string, args: string[] = []): Promise<string> {
  const mountpoint = await newMountpoint();
  const result = await qemount(['mount', image, mountpoint, ...args]);
  assert.is(result.code, 0, `qemount mount ${image} ${args.join(' ')} failed: ${result.stderr}`);
  return mountpoint;
}

async function unmount(mountpoint: string, force = false): Promise<void> {
  const result = await qemount(['unmount', ...(force ? ['--force'] : []), mountpoint]);
  assert.is(result.code, 0, `qemount unmount failed: ${result.stderr}`);
  assert.not.ok((await readFile('/proc/mounts', 'utf8')).includes(` ${mountpoint} `), `${mountpoint} is still mounted`);
}

const sha256File = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');
const umask = process.umask();

// Read-only: the whole tree, for each of these images (Unix filesystems also keep their modes).
const readOnlyCases: { image: string; part?: number; unixModes?: boolean; transport?: string }[] = [
  { image: 'ext4', unixModes: true },
  { image: 'ext4', unixModes: true, transport: 'tcp' },
  { image: 'fat32' },
  { image: 'xfs', unixModes: true },
  { image: 'btrfs', unixModes: true },
  { image: 'iso9660' },
  { image: 'ntfs' },
  { image: 'exfat' },
  { image: 'gpt', part: 2, unixModes: true },
  { image: 'qcow2', part: 2, unixModes: true },
];
for (const { image, part, unixModes, transport } of readOnlyCases) {
  const args = [...(part ? ['--part', String(part)] : []), ...(transport ? ['--transport', transport] : [])];
  test(`mount ${image} ${args.join(' ')}: the whole tree reads back through FUSE`, async () => {
    const mountpoint = await mount(await filledImage(image), args);
    try {
      const found = await readMounted(mountpoint);
      assert.equal(compareTrees(found, expectedFor(image)), [], `${image}: the mounted tree differs from the source`);
      if (unixModes) {
        for (const entry of found.filter((e) => e.path !== 'lost+found' && !e.path.startsWith('lost+found/'))) {
          const want = entry.type === 'dir' ? 0o777 & ~umask : entry.type === 'file' ? 0o666 & ~umask : entry.mode;
          assert.is(entry.mode.toString(8), want.toString(8), `${image}: mode of ${entry.path}`);
        }
      }
      // Read-only means read-only.
      const denied = await writeFile(join(mountpoint, 'new.txt'), 'x').then(() => 'written', (e: NodeJS.ErrnoException) => e.code);
      assert.is(denied, 'EROFS');
    } finally {
      await unmount(mountpoint);
    }
  });
}

// Read-write round trips, checked by the filesystem's own fsck and by mounting again.
const fsck: Record<string, string[]> = { ext4: ['e2fsck', '-fn'], fat32: ['fsck.vfat', '-n'] };
for (const [image, check] of Object.entries(fsck)) {
  test(`mount --rw ${image}: write, rename, delete, mkdir; fsck is clean; a new mount sees the changes`, async () => {
    const copy = join(work, `${image}-rw.img`);
    await copyFile(await filledImage(image), copy);
    const mountpoint = await mount(copy, ['--rw']);
    const payload = Buffer.alloc(3 * 1024 * 1024 + 77, 0x5a);
    try {
      await writeFile(join(mountpoint, 'written.bin'), payload);
      await rename(join(mountpoint, 'README.txt'), join(mountpoint, 'README-renamed.txt'));
      await unlink(join(mountpoint, 'small.bin'));
      await mkdir(join(mountpoint, 'newdir'));
      await writeFile(join(mountpoint, 'newdir', 'inner.txt'), 'inside a new directory\n');
    } finally {
      await unmount(mountpoint);
    }
    const checked = await run(check[0], [...check.slice(1), copy]).then(() => 0, (e: { code?: number; stdout?: string }) => `${e.code}: ${e.stdout}`);
    assert.is(checked, 0, `${check.join(' ')} after the read-write mount`);
    const again = await mount(copy);
    try {
      const names = await readdir(again);
      assert.ok(names.includes('README-renamed.txt') && !names.includes('README.txt') && !names.includes('small.bin'), `changes visible: ${names}`);
      assert.is(await sha256File(join(again, 'written.bin')), createHash('sha256').update(payload).digest('hex'));
      assert.is(await readFile(join(again, 'newdir', 'inner.txt'), 'utf8'), 'inside a new directory\n');
    } finally {
      await unmount(again);
    }
  });
}

test('mount --snapshot: writes succeed, and the image is byte-identical afterwards', async () => {
  const copy = join(work, 'ext4-snapshot.img');
  await copyFile(await filledImage('ext4'), copy);
  const before = await sha256File(copy);
  const mountpoint = await mount(copy, ['--snapshot']);
  try {
    await writeFile(join(mountpoint, 'scratch.txt'), 'only in the overlay\n');
    await unlink(join(mountpoint, 'big.bin'));
    assert.is(await readFile(join(mountpoint, 'scratch.txt'), 'utf8'), 'only in the overlay\n');
  } finally {
    await unmount(mountpoint);
  }
  assert.is(await sha256File(copy), before);
});

test('mount --rw of a file that cannot be written, and a second --rw of the same image, fail clearly', async () => {
  const copy = join(work, 'ext4-locked.img');
  await copyFile(await filledImage('ext4'), copy);
  const first = await mount(copy, ['--rw']);
  try {
    const second = await qemount(['mount', copy, await newMountpoint(), '--rw']);
    assert.is.not(second.code, 0);
    assert.match(second.stderr, /already mounted read-write/);
    assert.match(second.stderr, /hint:/);
  } finally {
    await unmount(first);
  }
  // Root ignores permission bits: make the file immutable instead (chattr +i), where the host allows it.
  const immutable = await run('chattr', ['+i', copy]).then(() => true, () => false);
  if (!immutable) await chmod(copy, 0o444);
  try {
    const denied = await qemount(['mount', copy, await newMountpoint(), '--rw']);
    if (immutable || process.getuid?.() !== 0) {
      assert.is.not(denied.code, 0);
      assert.match(denied.stderr, /not writable/);
      assert.match(denied.stderr, /--snapshot/);
    }
  } finally {
    if (immutable) await run('chattr', ['-i', copy]);
  }
});

test('a busy or missing mountpoint is refused with a clear message', async () => {
  const image = await filledImage('ext4');
  const mountpoint = await mount(image);
  try {
    const busy = await qemount(['mount', image, mountpoint]);
    assert.is.not(busy.code, 0);
    assert.match(busy.stderr, /already a mount point/);
  } finally {
    await unmount(mountpoint);
  }
  const missing = await qemount(['mount', image, join(work, 'does-not-exist')]);
  assert.is.not(missing.code, 0);
  assert.match(missing.stderr, /does not exist/);
  assert.match(missing.stderr, /mkdir -p/);
});

async function listed(): Promise<{ mountpoint: string; status: string; pid: number; qemuPid: number }[]> {
  const result = await qemount(['list', '--json']);
  assert.is(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

/** Reads a file through the mount in a child process (a dead FUSE server must not hang us). */
function readInChild(path: string, timeoutMs: number): Promise<{ code: number | null; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('cat', [path], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: Date.now() - started });
    });
  });
}

test('killing qemu under a mount: reads fail with EIO within 5 s, list says so, unmount --force cleans up', async () => {
  const mountpoint = await mount(await filledImage('ext4'));
  const entry = (await listed()).find((m) => m.mountpoint === mountpoint)!;
  assert.ok(entry, 'listed');
  assert.is(entry.status, 'mounted');
  process.kill(entry.qemuPid, 'SIGKILL');
  const read = await readInChild(join(mountpoint, 'big.bin'), 10_000);
  assert.is.not(read.code, 0);
  assert.match(read.stderr, /Input\/output error/);
  assert.ok(read.ms < 5000, `EIO after ${read.ms} ms`);
  assert.is((await listed()).find((m) => m.mountpoint === mountpoint)?.status, 'guest-dead');
  await unmount(mountpoint, true);
  assert.not.ok((await listed()).some((m) => m.mountpoint === mountpoint));
});

test('a mount whose process was killed: unmount --force cleans it up, and so does the next list', async () => {
  const first = await mount(await filledImage('ext4'));
  const second = await mount(await filledImage('fat32'));
  const all = await listed();
  const a = all.find((m) => m.mountpoint === first)!;
  const b = all.find((m) => m.mountpoint === second)!;
  process.kill(a.pid, 'SIGKILL');
  process.kill(b.pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  // The FUSE mounts are dead now ("Transport endpoint is not connected").
  const stale = await readInChild(join(first, 'README.txt'), 5000);
  assert.is.not(stale.code, 0);
  await unmount(first, true);
  assert.not.ok(isAlive(a.qemuPid), 'its qemu is gone');
  // `list` notices the second is stale and cleans it up: FUSE detached, qemu gone, not listed.
  assert.not.ok((await listed()).some((m) => m.mountpoint === second));
  assert.not.ok((await readFile('/proc/mounts', 'utf8')).includes(` ${second} `));
  assert.not.ok(isAlive(b.qemuPid), 'its qemu is gone');
  const again = await qemount(['unmount', second]);
  assert.is.not(again.code, 0);
  assert.match(again.stderr, /nothing is mounted/);
});

test.after(async () => {
  // Whatever a failed test left: unmount it all.
  for (const m of await listed().catch(() => [])) if (m.mountpoint.startsWith(work)) await qemount(['unmount', '--force', m.mountpoint]);
  await rm(work, { recursive: true, force: true });
});

test.run();
