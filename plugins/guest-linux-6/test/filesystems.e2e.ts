// Every filesystem guest-linux-6 claims as tested, end to end: boot the real guest under TCG on
// each real test image of it (made by Debian's mkfs tools, or filled through qemount itself),
// copy the whole tree out with `qemount cp -r`, and compare names, sizes, symlink targets and
// sha256 with the source tree. Also partitions of MBR and GPT disks and container forms.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFile, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, corpus, expectedFor, filledImage, qemount, root } from '../../../test/e2e/lib/harness.ts';
import { compareTrees, readHostTree } from '../../../test/e2e/lib/hostTree.ts';

interface Case {
  /** Corpus recipe. */
  image: string;
  /** The filesystem this case proves. */
  fs: string;
  part?: number;
  /** --fs, to pick one side of an image holding two filesystems. */
  forceFs?: string;
}

const manifest = JSON.parse(await readFile(join(root, 'plugins', 'guest-linux-6', 'qemount.json'), 'utf8'));
const declared = manifest.guest.filesystems as Record<string, { tested?: boolean }>;
const tested = Object.keys(declared).filter((fs) => declared[fs].tested);

/**
 * Images the guest cannot mount, and why: each must fail with the guest's own words, promptly.
 * (Their filesystems stay claimed only through other images, or not at all.)
 */
const unmountable: Record<string, { why: string; guestSays: RegExp }> = {
  'ufs2-le': { why: 'Linux reads a UFS2 superblock only at 64 KiB; makefs writes it at 8 KiB', guestSays: /mount failed in the guest: .*Invalid argument/ },
  'ufs2-be': { why: 'as ufs2-le', guestSays: /mount failed in the guest: .*Invalid argument/ },
  ubifs: { why: 'a bare UBIFS image has no UBI layer to attach (the ubi image has one)', guestSays: /failed in the guest/ },
};

// One case per filled whole-disk image, by the filesystem detection finds first.
const cases: Case[] = [...corpus.values()]
  .filter((r) => r.kind === 'fs' && (r.content === 'full' || r.fill === 'guest') && r.expect.fs?.length && !unmountable[r.name])
  .map((r) => ({ image: r.name, fs: r.expect.fs![0] }))
  .filter((c) => declared[c.fs]);
// Partitions (an MBR logical one, GPT, APM, BSD, UBI) and container forms.
cases.push(
  { image: 'mbr', fs: 'ext4', part: 5 },
  { image: 'gpt', fs: 'ext4', part: 2 },
  { image: 'apm', fs: 'hfs', part: 2 },
  { image: 'iso-hfsplus', fs: 'hfsplus', part: 3 },
  { image: 'bsd', fs: 'ufs1', part: 1 },
  { image: 'ubi', fs: 'ubifs', part: 1 },
  { image: 'qcow2', fs: 'ext4', part: 2 },
  { image: 'vmdk', fs: 'ext4', part: 2 },
  { image: 'vhdx', fs: 'ext4', part: 2 },
);

test('every filesystem the manifest calls tested has an image case', () => {
  const covered = new Set(cases.map((c) => c.fs));
  assert.equal(tested.filter((fs) => !covered.has(fs)), [], 'tested filesystems without a test image');
  assert.ok(tested.length >= 28, `only ${tested.length} filesystems are marked tested`);
});

const only = process.env.E2E_ONLY?.split(',');
for (const c of cases) {
  if (only && !only.includes(c.image)) continue;
  const label = `${c.image}${c.part ? ` partition ${c.part}` : ''}${c.forceFs ? ` as ${c.forceFs}` : ''}: qemount cp -r reads the whole tree`;
  // Images of filesystems not (yet) claimed as tested still run: a failure then says which claim is missing.
  test(label, async () => {
    const image = await filledImage(c.image);
    const out = await mkdtemp(join(tmpdir(), 'qemount-e2e-'));
    try {
      const spec = `${image}${c.part ? `:${c.part}` : ''}:/`;
      const run = await qemount(['cp', '-r', ...(c.forceFs ? ['--fs', c.forceFs] : []), spec, join(out, 'tree')]);
      assert.is(run.code, 0, `qemount cp failed (${run.ms} ms): ${run.stderr}`);
      const problems = compareTrees(await readHostTree(join(out, 'tree')), expectedFor(c.image));
      assert.equal(problems, [], `${c.image}: the tree differs from the source`);
      if (!declared[c.fs]?.tested) throw new Error(`${c.fs} reads correctly but guest-linux-6's manifest does not mark it "tested": true`);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
}

for (const [image, { why, guestSays }] of Object.entries(unmountable)) {
  if (only && !only.includes(image)) continue;
  test(`${image}: cannot be mounted (${why}); the guest's error reaches the user`, async () => {
    const run = await qemount(['ls', `${await buildImage(image)}:/`]);
    assert.is.not(run.code, 0);
    assert.match(run.stderr, guestSays);
    assert.match(run.stderr, /kernel log:/, 'the kernel\'s last lines come with it');
    assert.not.match(run.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('a zeroed superblock: detection says so, and forcing --fs ext4 brings back the kernel\'s own words, promptly', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'qemount-corrupt-'));
  try {
    const image = join(dir, 'ext4-zeroed.img');
    await copyFile(await buildImage('ext4'), image);
    const file = await open(image, 'r+');
    await file.write(Buffer.alloc(4096), 0, 4096, 0); // boot block and the ext4 superblock at 1 KiB
    await file.close();
    const detected = await qemount(['ls', `${image}:/`]);
    assert.is.not(detected.code, 0);
    assert.match(detected.stderr, /no filesystem was recognised/);
    assert.match(detected.stderr, /--fs TYPE/);
    const forced = await qemount(['ls', '--fs', 'ext4', `${image}:/`]);
    assert.is.not(forced.code, 0);
    assert.match(forced.stderr, /mount failed in the guest/);
    assert.match(forced.stderr, /EXT4-fs \(vda\): VFS: Can't find ext4 filesystem/);
    // Boot plus a refused mount: seconds, not a timeout (the guest's boot timeout is 60 s).
    assert.ok(forced.ms < 30_000, `took ${forced.ms} ms`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
