// The test image corpus: one recipe per image, each built from Debian's tools out of the fixed
// source tree (sourceTree.ts), cached by a hash of its recipe under test/images/out/.
//
//   import { corpus, buildImage, sourceTree, expectedContent } from '../../test/images/corpus.ts';
//   const path = await buildImage('ext4');      // built once, then cached
//
// Each recipe says machine-readably what the image holds: `content` ('full': the source tree
// filtered by `limits`; 'none': empty), `fill` ('offline': filled here; 'guest': made empty
// because no Debian tool fills it offline, to be filled through qemount itself), and what
// detection must find (`expect`).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readSync, readdirSync, renameSync, rmSync, truncateSync, writeFileSync, writeSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SOURCE_VERSION, expectedTree, materialise, sourceTree, type ContentLimits, type SourceEntry } from './sourceTree.ts';

export { sourceTree, expectedTree, type ContentLimits, type SourceEntry };

const here = dirname(fileURLToPath(import.meta.url));
/** Where images are cached (git-ignored). QEMOUNT_TEST_IMAGES overrides it. */
export const cacheDir = process.env.QEMOUNT_TEST_IMAGES ?? join(here, 'out');

const KiB = 1024;
const MiB = 1024 * KiB;

/** What detection must find in an image. */
export interface ExpectedDetection {
  /** Container format id (default raw). */
  container?: string;
  /** Whole-disk filesystems, in the order detection reports them. */
  fs?: string[];
  /** Partition table id of the whole disk. */
  table?: string;
  /** Per partition index: the filesystem types found in it ([] for none). */
  partitions?: Record<number, string[]>;
  label?: string;
  uuid?: string;
}

export interface BuildContext {
  /** Write the image here. */
  out: string;
  /** A scratch folder, removed after the build. */
  tmp: string;
  /** The source tree as this recipe's limits allow, as a folder. */
  source(limits?: ContentLimits): string;
  /** The path of another recipe's image (built if needed). */
  image(name: string): Promise<string>;
  /** Runs a tool; throws with its stderr when it fails. Returns stdout. */
  run(command: string, args: string[], options?: { input?: string | Buffer; env?: Record<string, string>; cwd?: string }): string;
}

export interface Recipe {
  name: string;
  /** What the image mainly is. */
  kind: 'fs' | 'pt' | 'container';
  description: string;
  /** 'full': the (limited) source tree; 'none': nothing. */
  content: 'full' | 'none';
  /** Who fills it: built filled here, or made empty for a guest to fill later. */
  fill: 'offline' | 'guest';
  /** For content 'full': what of the source tree the filesystem can hold. */
  limits?: ContentLimits;
  /** For partitioned images: which partition holds the content (1-based, as detect shows). */
  contentPartition?: number;
  expect: ExpectedDetection;
  /** Debian packages the recipe's tools come from. */
  packages: string[];
  /** Other recipes this one is made from. */
  deps?: string[];
  build(ctx: BuildContext): Promise<void> | void;
}

// ---------------------------------------------------------------------------------------------
// helpers used by recipes

function sparse(path: string, size: number): void {
  writeFileSync(path, '');
  truncateSync(path, size);
}

/** Copies an image into a disk at a byte offset, skipping zero blocks so the disk stays sparse. */
function place(disk: string, offset: number, image: string): void {
  const src = openSync(image, 'r');
  const dst = openSync(disk, 'r+');
  const buf = Buffer.alloc(MiB);
  try {
    for (let at = 0; ; at += buf.length) {
      const n = readSync(src, buf, 0, buf.length, at);
      if (n <= 0) break;
      for (let b = 0; b < n; b += 4096) {
        const chunk = buf.subarray(b, Math.min(n, b + 4096));
        if (chunk.some((x) => x !== 0)) writeSync(dst, chunk, 0, chunk.length, offset + at + b);
      }
    }
  } finally {
    closeSync(src);
    closeSync(dst);
  }
}

/** Partition starts and sizes in bytes, as parted sees them (works for every label parted knows). */
function partedPartitions(ctx: BuildContext, disk: string): Map<number, { start: number; size: number }> {
  const out = ctx.run('parted', ['-m', '-s', disk, 'unit', 'B', 'print']);
  const parts = new Map<number, { start: number; size: number }>();
  for (const line of out.split('\n')) {
    const m = /^(\d+):(\d+)B:(\d+)B:(\d+)B:/.exec(line);
    if (m) parts.set(Number(m[1]), { start: Number(m[2]), size: Number(m[4]) });
  }
  return parts;
}

function sfdiskPartitions(ctx: BuildContext, disk: string): Map<number, { start: number; size: number }> {
  const json = JSON.parse(ctx.run('sfdisk', ['-J', disk])) as { partitiontable: { partitions: { node: string; start: number; size: number }[] } };
  const parts = new Map<number, { start: number; size: number }>();
  for (const p of json.partitiontable.partitions) {
    parts.set(Number(/(\d+)$/.exec(p.node)![1]), { start: p.start * 512, size: p.size * 512 });
  }
  return parts;
}

function ext(ctx: BuildContext, type: 'ext2' | 'ext3' | 'ext4', size: number, label: string, uuid: string, filled = true): void {
  sparse(ctx.out, size);
  const args = ['-q', '-F', '-t', type, '-L', label, '-U', uuid, '-E', 'root_owner=0:0'];
  if (filled) args.push('-d', ctx.source());
  ctx.run('mke2fs', [...args, ctx.out]);
}

function fat(ctx: BuildContext, bits: 12 | 16 | 32, size: number, label: string, serial: string, filled = true): void {
  rmSync(ctx.out, { force: true });
  ctx.run('mkfs.fat', ['-F', String(bits), '-n', label, '-i', serial, ...(bits === 32 ? ['-s', '1'] : []), '-C', ctx.out, String(size / KiB)]);
  if (filled) {
    const src = ctx.source({ symlinks: false });
    const names = readdirSync(src).map((n) => join(src, n));
    ctx.run('mcopy', ['-s', '-m', '-i', ctx.out, ...names, '::/'], { env: { MTOOLS_SKIP_CHECK: '1', LC_ALL: 'C.UTF-8' } });
  }
}

function makefs(ctx: BuildContext, version: 1 | 2, order: 'le' | 'be', size: number): void {
  rmSync(ctx.out, { force: true });
  const options = [`version=${version}`];
  ctx.run('makefs', ['-t', 'ffs', '-B', order, '-s', String(size), '-o', options.join(','), ctx.out, ctx.source()]);
}

const fatLimits: ContentLimits = { symlinks: false };
const hfsLimits: ContentLimits = { symlinks: false, charset: 'macroman', maxNameBytes: 31 };

// MacRoman bytes of the accented letters the source tree uses (HFS stores names in MacRoman).
const macRoman: Record<string, number> = { 'é': 0x8e, 'è': 0x8f, 'à': 0x88, 'ü': 0x9f, 'ö': 0x9a, 'ä': 0x8a, 'ç': 0x8d, 'É': 0x83 };

/** An HFS path as a printf(1) format that writes its MacRoman bytes (argv cannot carry them from Node). */
function macRomanFormat(path: string): string {
  return [...path].map((c) => {
    if (c in macRoman) return `\\${macRoman[c].toString(8)}`;
    if (c === '%' || c === '\\') return c === '%' ? '%%' : '\\\\';
    if (c.charCodeAt(0) > 0x7e) throw new Error(`no MacRoman byte known for ${c}`);
    return c;
  }).join('');
}

/** Copies the (MacRoman-limited) source tree onto the HFS volume mounted by hmount. */
function hfsFill(ctx: BuildContext, limits: ContentLimits, env: Record<string, string>): void {
  const src = ctx.source(limits);
  for (const entry of expectedTree(limits)) {
    const name = macRomanFormat(':' + entry.path.replace(/\//g, ':'));
    if (entry.type === 'dir') ctx.run('sh', ['-c', 'hmkdir "$(printf "$1")"', 'sh', name], { env });
    else if (entry.type === 'file') ctx.run('sh', ['-c', 'hcopy -r "$1" "$(printf "$2")"', 'sh', join(src, entry.path), name], { env });
  }
  ctx.run('humount', [], { env });
}

// ---------------------------------------------------------------------------------------------
// the recipes

const recipes: Recipe[] = [
  // ext2/3/4 ----------------------------------------------------------------------------------
  ...(['ext2', 'ext3', 'ext4'] as const).map((type, i): Recipe => ({
    name: type, kind: 'fs', description: `${type} made by mke2fs -d`, content: 'full', fill: 'offline',
    expect: { fs: [type], label: `qemount-${type}`, uuid: `0000000${i + 1}-1111-4222-8333-444455556666` },
    packages: ['e2fsprogs'],
    build: (ctx) => ext(ctx, type, 8 * MiB, `qemount-${type}`, `0000000${i + 1}-1111-4222-8333-444455556666`),
  })),
  // FAT ---------------------------------------------------------------------------------------
  {
    name: 'fat12', kind: 'fs', description: 'FAT12 (2 MiB) by mkfs.fat, filled by mcopy', content: 'full', fill: 'offline', limits: fatLimits,
    expect: { fs: ['fat12'], label: 'QEMOUNT12', uuid: '1212-ABCD' }, packages: ['dosfstools', 'mtools'],
    build: (ctx) => fat(ctx, 12, 2 * MiB, 'QEMOUNT12', '1212ABCD'),
  },
  {
    name: 'fat16', kind: 'fs', description: 'FAT16 (16 MiB) by mkfs.fat, filled by mcopy', content: 'full', fill: 'offline', limits: fatLimits,
    expect: { fs: ['fat16'], label: 'QEMOUNT16', uuid: '1616-ABCD' }, packages: ['dosfstools', 'mtools'],
    build: (ctx) => fat(ctx, 16, 16 * MiB, 'QEMOUNT16', '1616ABCD'),
  },
  {
    name: 'fat32', kind: 'fs', description: 'FAT32 (40 MiB) by mkfs.fat, filled by mcopy', content: 'full', fill: 'offline', limits: fatLimits,
    expect: { fs: ['fat32'], label: 'QEMOUNT32', uuid: '3232-ABCD' }, packages: ['dosfstools', 'mtools'],
    build: (ctx) => fat(ctx, 32, 40 * MiB, 'QEMOUNT32', '3232ABCD'),
  },
  {
    name: 'exfat', kind: 'fs', description: 'exFAT by mkfs.exfat (empty: no offline filler)', content: 'none', fill: 'guest',
    limits: { symlinks: false }, expect: { fs: ['exfat'], label: 'QEMOUNTX' }, packages: ['exfatprogs'],
    build: (ctx) => { sparse(ctx.out, 16 * MiB); ctx.run('mkfs.exfat', ['-L', 'QEMOUNTX', ctx.out]); },
  },
  {
    name: 'ntfs', kind: 'fs', description: 'NTFS by mkntfs (empty: filling needs FUSE)', content: 'none', fill: 'guest',
    limits: { symlinks: false }, expect: { fs: ['ntfs'], label: 'qemount-ntfs' }, packages: ['ntfs-3g'],
    build: (ctx) => { sparse(ctx.out, 16 * MiB); ctx.run('mkntfs', ['-q', '-F', '-Q', '-L', 'qemount-ntfs', ctx.out]); },
  },
  // optical -----------------------------------------------------------------------------------
  {
    name: 'iso9660', kind: 'fs', description: 'ISO 9660 with Rock Ridge and Joliet (genisoimage -R -J)', content: 'full', fill: 'offline',
    expect: { fs: ['iso9660'], label: 'QEMOUNT_ISO' }, packages: ['genisoimage'],
    build: (ctx) => { ctx.run('genisoimage', ['-quiet', '-R', '-J', '-joliet-long', '-V', 'QEMOUNT_ISO', '-o', ctx.out, ctx.source()]); },
  },
  {
    name: 'iso9660-plain', kind: 'fs', description: 'ISO 9660 level 1, no extensions: names mangled to 8.3', content: 'full', fill: 'offline',
    limits: { symlinks: false, isoLevel1Names: true, charset: 'ascii' },
    expect: { fs: ['iso9660'], label: 'PLAIN' }, packages: ['genisoimage'],
    build: (ctx) => { ctx.run('genisoimage', ['-quiet', '-V', 'PLAIN', '-o', ctx.out, ctx.source({ symlinks: false, charset: 'ascii' })]); },
  },
  {
    name: 'iso-udf', kind: 'fs', description: 'ISO 9660 + UDF bridge (genisoimage -udf)', content: 'full', fill: 'offline',
    expect: { fs: ['iso9660', 'udf'], label: 'QEMOUNT_UDF' }, packages: ['genisoimage'],
    build: (ctx) => { ctx.run('genisoimage', ['-quiet', '-udf', '-R', '-J', '-V', 'QEMOUNT_UDF', '-o', ctx.out, ctx.source()]); },
  },
  {
    name: 'iso-hfs', kind: 'fs', description: 'ISO 9660 + HFS hybrid (genisoimage -hfs): HFS on the whole disk beside ISO 9660', content: 'full', fill: 'offline',
    expect: { fs: ['iso9660', 'hfs'], label: 'QEMOUNT_HFS' }, packages: ['genisoimage'],
    build: (ctx) => { ctx.run('genisoimage', ['-quiet', '-hfs', '-R', '-J', '-V', 'QEMOUNT_HFS', '-o', ctx.out, ctx.source()]); },
  },
  {
    name: 'iso-hfsplus', kind: 'fs', description: 'ISO 9660 + HFS+ hybrid (xorriso -hfsplus): HFS+ in an Apple partition map', content: 'full', fill: 'offline',
    expect: { fs: ['iso9660'], table: 'apm', partitions: { 3: ['hfsplus'] }, label: 'QEMOUNT_HFSP' }, packages: ['xorriso'],
    build: (ctx) => { ctx.run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-hfsplus', '-V', 'QEMOUNT_HFSP', '-o', ctx.out, ctx.source()]); },
  },
  {
    name: 'iso-mbr', kind: 'fs', description: 'hybrid ISO 9660 with an MBR (xorriso -partition_offset, an appended FAT partition)', content: 'full', fill: 'offline',
    expect: { fs: ['iso9660'], table: 'mbr', partitions: { 2: ['fat12'] }, label: 'QEMOUNT_HYB' }, packages: ['xorriso', 'dosfstools'],
    build: (ctx) => {
      const efi = join(ctx.tmp, 'efi.img');
      ctx.run('mkfs.fat', ['-F', '12', '-n', 'EFIPART', '-C', efi, '1024']);
      ctx.run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-V', 'QEMOUNT_HYB', '-partition_offset', '16', '-append_partition', '2', '0xef', efi, '-o', ctx.out, ctx.source()]);
    },
  },
  {
    name: 'udf', kind: 'fs', description: 'UDF by mkudffs (empty: no offline filler)', content: 'none', fill: 'guest',
    expect: { fs: ['udf'], label: 'qemount-udf' }, packages: ['udftools'],
    build: (ctx) => { sparse(ctx.out, 16 * MiB); ctx.run('mkudffs', ['--media-type=hd', '--blocksize=512', '--label=qemount-udf', ctx.out]); },
  },
  // Apple -------------------------------------------------------------------------------------
  {
    name: 'hfs', kind: 'fs', description: 'HFS by hformat, filled by hcopy (MacRoman names, no symlinks)', content: 'full', fill: 'offline',
    limits: hfsLimits,
    expect: { fs: ['hfs'], label: 'qemount-hfs' }, packages: ['hfsutils'],
    build: (ctx) => {
      sparse(ctx.out, 8 * MiB);
      const env = { HOME: ctx.tmp };
      ctx.run('hformat', ['-l', 'qemount-hfs', ctx.out], { env });
      ctx.run('hmount', [ctx.out], { env });
      hfsFill(ctx, hfsLimits, env);
    },
  },
  {
    name: 'zfs', kind: 'fs', description: 'a ZFS pool (version 23) by zfs-fuse on a file (empty; no datasets mounted)', content: 'none', fill: 'guest',
    expect: { fs: ['zfs'], label: 'qemountzfs' }, packages: ['zfs-fuse'],
    build: async (ctx) => {
      sparse(ctx.out, 64 * MiB);
      // zpool talks to the zfs-fuse daemon: start one for this build (if none is running) and stop it after.
      const { spawn } = await import('node:child_process');
      const running = spawnSync('pgrep', ['-x', 'zfs-fuse']).status === 0;
      const daemon = running ? undefined : spawn('zfs-fuse', ['--no-daemon'], { stdio: 'ignore' });
      daemon?.on('error', () => undefined); // reported by zpool below
      try {
        for (let i = 0; ; i++) {
          const r = spawnSync('zpool', ['list'], { encoding: 'utf8' });
          if (r.status === 0) break;
          if (i > 50) throw new Error(`zfs-fuse did not start: ${r.stderr}`);
          await new Promise((done) => setTimeout(done, 100));
        }
        ctx.run('zpool', ['create', '-f', '-o', 'version=23', '-m', 'none', 'qemountzfs', ctx.out]);
        ctx.run('zpool', ['export', 'qemountzfs']);
      } finally {
        if (daemon?.pid) process.kill(daemon.pid, 'SIGTERM');
      }
    },
  },
  {
    name: 'apfs', kind: 'fs', description: 'APFS container by mkapfs (empty)', content: 'none', fill: 'guest',
    expect: { fs: ['apfs'] }, packages: ['apfsprogs'],
    build: (ctx) => { sparse(ctx.out, 128 * MiB); ctx.run('mkapfs', ['-L', 'qemount-apfs', ctx.out]); },
  },
  // BSD ---------------------------------------------------------------------------------------
  ...([[1, 'le'], [1, 'be'], [2, 'le'], [2, 'be']] as const).map(([version, order]): Recipe => ({
    name: `ufs${version}-${order}`, kind: 'fs', description: `UFS${version} ${order === 'le' ? 'little' : 'big'}-endian by makefs`, content: 'full', fill: 'offline',
    expect: { fs: [`ufs${version}`] }, packages: ['makefs'],
    build: (ctx) => makefs(ctx, version, order, 16 * MiB),
  })),
  // Linux -------------------------------------------------------------------------------------
  {
    name: 'xfs', kind: 'fs', description: 'XFS by mkfs.xfs -p PROTOFILE (no names with spaces)', content: 'full', fill: 'offline',
    limits: { noSpaces: true }, expect: { fs: ['xfs'], label: 'qemount-xfs', uuid: '0000000a-1111-4222-8333-444455556666' }, packages: ['xfsprogs'],
    build: (ctx) => {
      const limits: ContentLimits = { noSpaces: true };
      const src = ctx.source(limits);
      const lines = ['/dummy', '0 0', 'd--755 0 0'];
      const tree = expectedTree(limits);
      const emit = (dir: string, depth: number) => {
        for (const e of tree.filter((x) => x.path.startsWith(dir) && !x.path.slice(dir.length).includes('/'))) {
          const name = e.path.slice(dir.length);
          const pad = ' '.repeat(depth);
          if (e.type === 'dir') {
            lines.push(`${pad}${name} d--755 0 0`);
            emit(e.path + '/', depth + 1);
            lines.push(`${pad}$`);
          } else if (e.type === 'file') lines.push(`${pad}${name} ---644 0 0 ${join(src, e.path)}`);
          else lines.push(`${pad}${name} l--777 0 0 ${e.target}`);
        }
      };
      emit('', 1);
      lines.push('$');
      const proto = join(ctx.tmp, 'proto');
      writeFileSync(proto, lines.join('\n') + '\n');
      sparse(ctx.out, 32 * MiB);
      ctx.run('mkfs.xfs', ['-q', '-f', '-L', 'qemount-xfs', '-m', 'uuid=0000000a-1111-4222-8333-444455556666', '-p', proto, ctx.out],
        { env: { TEST_DIR: '1', TEST_DEV: '1', QA_CHECK_FS: '1' } });
    },
  },
  {
    name: 'jfs', kind: 'fs', description: 'JFS by mkfs.jfs (empty: no offline filler)', content: 'none', fill: 'guest',
    expect: { fs: ['jfs'], label: 'qemount-jfs' }, packages: ['jfsutils'],
    build: (ctx) => { sparse(ctx.out, 32 * MiB); ctx.run('mkfs.jfs', ['-q', '-L', 'qemount-jfs', ctx.out]); },
  },
  {
    name: 'btrfs', kind: 'fs', description: 'Btrfs (mixed, 64 MiB) by mkfs.btrfs --rootdir', content: 'full', fill: 'offline',
    expect: { fs: ['btrfs'], label: 'qemount-btrfs', uuid: '0000000b-1111-4222-8333-444455556666' }, packages: ['btrfs-progs'],
    build: (ctx) => {
      sparse(ctx.out, 64 * MiB);
      ctx.run('mkfs.btrfs', ['-q', '-f', '--mixed', '-L', 'qemount-btrfs', '-U', '0000000b-1111-4222-8333-444455556666', '--rootdir', ctx.source(), ctx.out]);
    },
  },
  {
    name: 'f2fs', kind: 'fs', description: 'F2FS by mkfs.f2fs, filled by sload.f2fs', content: 'full', fill: 'offline',
    expect: { fs: ['f2fs'], label: 'qemount-f2fs' }, packages: ['f2fs-tools'],
    build: (ctx) => {
      sparse(ctx.out, 64 * MiB);
      ctx.run('mkfs.f2fs', ['-q', '-f', '-l', 'qemount-f2fs', ctx.out]);
      ctx.run('sload.f2fs', ['-f', ctx.source(), ctx.out]);
    },
  },
  {
    name: 'erofs', kind: 'fs', description: 'EROFS (uncompressed) by mkfs.erofs', content: 'full', fill: 'offline',
    expect: { fs: ['erofs'], uuid: '00000011-1111-4222-8333-444455556666' }, packages: ['erofs-utils'],
    build: (ctx) => { rmSync(ctx.out, { force: true }); ctx.run('mkfs.erofs', ['--quiet', '-U', '00000011-1111-4222-8333-444455556666', '-T0', ctx.out, ctx.source()]); },
  },
  {
    name: 'erofs-lz4', kind: 'fs', description: 'EROFS compressed with lz4hc', content: 'full', fill: 'offline',
    expect: { fs: ['erofs'], uuid: '00000011-1111-4222-8333-444455556666' }, packages: ['erofs-utils'],
    build: (ctx) => { rmSync(ctx.out, { force: true }); ctx.run('mkfs.erofs', ['--quiet', '-zlz4hc', '-U', '00000011-1111-4222-8333-444455556666', '-T0', ctx.out, ctx.source()]); },
  },
  {
    name: 'reiserfs', kind: 'fs', description: 'ReiserFS 3.6 by mkreiserfs (empty: no offline filler)', content: 'none', fill: 'guest',
    expect: { fs: ['reiserfs'], label: 'qemount-reiser' }, packages: ['reiserfsprogs'],
    build: (ctx) => { sparse(ctx.out, 64 * MiB); ctx.run('mkreiserfs', ['-f', '-f', '-q', '-l', 'qemount-reiser', ctx.out]); },
  },
  ...([1, 2, 3] as const).map((v): Recipe => ({
    name: `minix${v}`, kind: 'fs', description: `Minix v${v} by mkfs.minix -${v} (empty: no offline filler)`, content: 'none', fill: 'guest',
    limits: { maxNameBytes: v === 3 ? 60 : 30 },
    expect: { fs: ['minix'] }, packages: ['util-linux'],
    build: (ctx) => { sparse(ctx.out, 8 * MiB); ctx.run('mkfs.minix', [`-${v}`, ...(v < 3 ? ['-n', '30'] : []), ctx.out]); },
  })),
  ...(['gzip', 'xz', 'zstd', 'lz4', 'lzo'] as const).map((comp): Recipe => ({
    name: `squashfs-${comp}`, kind: 'fs', description: `SquashFS 4 compressed with ${comp}`, content: 'full', fill: 'offline',
    expect: { fs: ['squashfs'] }, packages: ['squashfs-tools'],
    build: (ctx) => { ctx.run('mksquashfs', [ctx.source(), ctx.out, '-comp', comp, '-noappend', '-all-root', '-quiet', '-no-progress']); },
  })),
  {
    name: 'cramfs', kind: 'fs', description: 'CramFS by mkfs.cramfs', content: 'full', fill: 'offline',
    expect: { fs: ['cramfs'], label: 'qemount-cramfs' }, packages: ['util-linux'],
    build: (ctx) => { rmSync(ctx.out, { force: true }); ctx.run('mkfs.cramfs', ['-n', 'qemount-cramfs', ctx.source(), ctx.out]); },
  },
  {
    name: 'romfs', kind: 'fs', description: 'RomFS by genromfs', content: 'full', fill: 'offline',
    expect: { fs: ['romfs'], label: 'qemount-romfs' }, packages: ['genromfs'],
    build: (ctx) => { ctx.run('genromfs', ['-d', ctx.source(), '-f', ctx.out, '-V', 'qemount-romfs']); },
  },
  {
    name: 'nilfs2', kind: 'fs', description: 'NILFS2 by mkfs.nilfs2 (empty: no offline filler)', content: 'none', fill: 'guest',
    expect: { fs: ['nilfs2'], label: 'qemount-nilfs' }, packages: ['nilfs-tools'],
    build: (ctx) => { sparse(ctx.out, 64 * MiB); ctx.run('mkfs.nilfs2', ['-q', '-f', '-B', '256', '-L', 'qemount-nilfs', ctx.out]); },
  },
  {
    name: 'gfs2', kind: 'fs', description: 'GFS2 (lock_nolock) by mkfs.gfs2 (empty: no offline filler)', content: 'none', fill: 'guest',
    expect: { fs: ['gfs2'], label: 'qemount:gfs2' }, packages: ['gfs2-utils'],
    build: (ctx) => { sparse(ctx.out, 64 * MiB); ctx.run('mkfs.gfs2', ['-O', '-q', '-p', 'lock_nolock', '-t', 'qemount:gfs2', '-j', '1', '-J', '8', ctx.out]); },
  },
  {
    name: 'ocfs2', kind: 'fs', description: 'OCFS2 (local) by mkfs.ocfs2 (empty: no offline filler)', content: 'none', fill: 'guest',
    expect: { fs: ['ocfs2'], label: 'qemount-ocfs2' }, packages: ['ocfs2-tools'],
    build: (ctx) => { sparse(ctx.out, 64 * MiB); ctx.run('mkfs.ocfs2', ['-q', '-F', '-M', 'local', '-N', '1', '-J', 'size=4M', '-L', 'qemount-ocfs2', ctx.out]); },
  },
  {
    name: 'bfs', kind: 'fs', description: 'SCO BFS by mkfs.bfs (empty: no offline filler; root only, names ≤ 14 bytes)', content: 'none', fill: 'guest',
    limits: { rootOnly: true, maxNameBytes: 14, symlinks: false },
    expect: { fs: ['bfs'] }, packages: ['util-linux'],
    build: (ctx) => { sparse(ctx.out, 4 * MiB); ctx.run('mkfs.bfs', ['-V', 'qmount', '-F', 'qemnt', ctx.out]); },
  },
  {
    name: 'jffs2', kind: 'fs', description: 'JFFS2 (little-endian, 64 KiB erase blocks) by mkfs.jffs2', content: 'full', fill: 'offline',
    expect: { fs: ['jffs2'] }, packages: ['mtd-utils'],
    build: (ctx) => { ctx.run('mkfs.jffs2', ['-l', '-e', '64KiB', '-r', ctx.source(), '-o', ctx.out, '--pad=4194304']); },
  },
  {
    name: 'ubifs', kind: 'fs', description: 'a bare UBIFS image by mkfs.ubifs', content: 'full', fill: 'offline',
    expect: { fs: ['ubifs'] }, packages: ['mtd-utils'],
    build: (ctx) => { ctx.run('mkfs.ubifs', ['-q', '-r', ctx.source(), '-m', '2048', '-e', '126976', '-c', '64', '-o', ctx.out]); },
  },
  {
    name: 'ubi', kind: 'pt', description: 'a UBI image (ubinize, NOR geometry: 64 KiB erase blocks, 1-byte writes) holding one UBIFS volume, padded to 4 MiB', content: 'full', fill: 'offline',
    contentPartition: 1,
    expect: { table: 'ubi', partitions: { 1: ['ubifs'] } }, packages: ['mtd-utils'],
    build: (ctx) => {
      // The geometry block2mtd gives a guest: it attaches the image as NOR-like flash.
      const fs = join(ctx.tmp, 'ubifs.img');
      ctx.run('mkfs.ubifs', ['-q', '-r', ctx.source(), '-m', '8', '-e', '65408', '-c', '64', '-o', fs]);
      const cfg = join(ctx.tmp, 'ubinize.cfg');
      writeFileSync(cfg, `[rootfs]\nmode=ubi\nimage=${fs}\nvol_id=0\nvol_type=dynamic\nvol_name=rootfs\nvol_flags=autoresize\n`);
      ctx.run('ubinize', ['-o', ctx.out, '-m', '1', '-p', '64KiB', cfg]);
      truncateSync(ctx.out, 4 * MiB);
    },
  },
  {
    name: 'swap', kind: 'fs', description: 'Linux swap by mkswap', content: 'none', fill: 'offline',
    expect: { fs: ['swap'], label: 'qemount-swap', uuid: '0000000c-1111-4222-8333-444455556666' }, packages: ['util-linux'],
    build: (ctx) => { sparse(ctx.out, 4 * MiB); ctx.run('mkswap', ['-q', '-L', 'qemount-swap', '-U', '0000000c-1111-4222-8333-444455556666', ctx.out]); },
  },
  ...(['luks1', 'luks2'] as const).map((type): Recipe => ({
    name: type, kind: 'fs', description: `${type.toUpperCase()} header by cryptsetup (key "qemount"; nothing inside)`, content: 'none', fill: 'offline',
    expect: { fs: ['luks'], uuid: '0000000d-1111-4222-8333-444455556666' }, packages: ['cryptsetup-bin'],
    build: (ctx) => {
      sparse(ctx.out, (type === 'luks2' ? 20 : 4) * MiB);
      const key = join(ctx.tmp, 'key');
      writeFileSync(key, 'qemount');
      ctx.run('cryptsetup', ['luksFormat', '--batch-mode', '--type', type, '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000',
        '--uuid', '0000000d-1111-4222-8333-444455556666', ...(type === 'luks2' ? ['--label', 'qemount-luks'] : []), '--key-file', key, ctx.out]);
    },
  })),
  // partition tables ---------------------------------------------------------------------------
  {
    name: 'mbr', kind: 'pt', description: 'MBR: FAT16 primary, extended with ext4 (partition 5, filled) and swap (6)', content: 'full', fill: 'offline',
    contentPartition: 5, deps: ['fat16'],
    expect: { table: 'mbr', partitions: { 1: ['fat16'], 2: [], 5: ['ext4'], 6: ['swap'] } }, packages: ['fdisk', 'e2fsprogs', 'util-linux'],
    build: async (ctx) => {
      sparse(ctx.out, 64 * MiB);
      ctx.run('sfdisk', ['-q', ctx.out], { input: 'label: dos\nlabel-id: 0x51e2c0de\nstart=2048, size=16MiB, type=6\ntype=5\nsize=24MiB, type=83\nsize=8MiB, type=82\n' });
      const parts = sfdiskPartitions(ctx, ctx.out);
      place(ctx.out, parts.get(1)!.start, await ctx.image('fat16'));
      const e4 = join(ctx.tmp, 'p5.img');
      ext({ ...ctx, out: e4 }, 'ext4', parts.get(5)!.size, 'mbr-logical', '0000000e-1111-4222-8333-444455556666');
      place(ctx.out, parts.get(5)!.start, e4);
      const sw = join(ctx.tmp, 'p6.img');
      sparse(sw, parts.get(6)!.size);
      ctx.run('mkswap', ['-q', '-L', 'mbr-swap', sw]);
      place(ctx.out, parts.get(6)!.start, sw);
    },
  },
  {
    name: 'gpt', kind: 'pt', description: 'GPT (64 MiB): FAT16 "EFI system" and ext4 "linux data" (partition 2, filled), an empty third', content: 'full', fill: 'offline',
    contentPartition: 2,
    expect: { table: 'gpt', partitions: { 1: ['fat16'], 2: ['ext4'], 3: [] } }, packages: ['gdisk', 'dosfstools', 'e2fsprogs'],
    build: async (ctx) => {
      sparse(ctx.out, 64 * MiB);
      ctx.run('sgdisk', ['-o', '-U', '5A5A5A5A-0000-4000-8000-000000000001',
        '-n', '1:2048:+16M', '-t', '1:ef00', '-c', '1:EFI system', '-u', '1:5A5A5A5A-0000-4000-8000-000000000011',
        '-n', '2:0:+32M', '-t', '2:8300', '-c', '2:linux data', '-u', '2:5A5A5A5A-0000-4000-8000-000000000012',
        '-n', '3:0:0', '-t', '3:8300', '-c', '3:spare', '-u', '3:5A5A5A5A-0000-4000-8000-000000000013', ctx.out]);
      const parts = sfdiskPartitions(ctx, ctx.out);
      const p1 = join(ctx.tmp, 'p1.img');
      fat({ ...ctx, out: p1 }, 16, parts.get(1)!.size, 'GPT-EFI', '0EF10EF1');
      place(ctx.out, parts.get(1)!.start, p1);
      const p2 = join(ctx.tmp, 'p2.img');
      ext({ ...ctx, out: p2 }, 'ext4', parts.get(2)!.size, 'gpt-data', '0000000f-1111-4222-8333-444455556666');
      place(ctx.out, parts.get(2)!.start, p2);
    },
  },
  {
    name: 'gpt-backup', kind: 'pt', description: 'the gpt image with its primary header wiped: the backup header must be used', content: 'full', fill: 'offline',
    contentPartition: 2, deps: ['gpt'],
    expect: { table: 'gpt', partitions: { 1: ['fat16'], 2: ['ext4'], 3: [] } }, packages: [],
    build: async (ctx) => {
      copyFileSync(await ctx.image('gpt'), ctx.out);
      const fd = openSync(ctx.out, 'r+');
      writeSync(fd, Buffer.alloc(512), 0, 512, 512);
      closeSync(fd);
    },
  },
  {
    name: 'hybrid-mbr', kind: 'pt', description: 'the gpt image with a hybrid MBR (sgdisk -h 1:2)', content: 'full', fill: 'offline',
    contentPartition: 2, deps: ['gpt'],
    expect: { table: 'gpt', partitions: { 1: ['fat16'], 2: ['ext4'], 3: [] } }, packages: ['gdisk'],
    build: async (ctx) => {
      copyFileSync(await ctx.image('gpt'), ctx.out);
      ctx.run('sgdisk', ['-h', '1:2', ctx.out]);
    },
  },
  {
    name: 'apm', kind: 'pt', description: 'Apple partition map (parted mklabel mac) with an HFS partition (hformat, filled)', content: 'full', fill: 'offline',
    contentPartition: 2, limits: hfsLimits,
    expect: { table: 'apm', partitions: { 1: [], 2: ['hfs'] } }, packages: ['parted', 'hfsutils'],
    build: (ctx) => {
      sparse(ctx.out, 16 * MiB);
      ctx.run('parted', ['-s', ctx.out, 'mklabel', 'mac', 'mkpart', 'qemount', 'hfs', '1MiB', '15MiB']);
      const env = { HOME: ctx.tmp };
      ctx.run('hformat', ['-l', 'apm-hfs', ctx.out, '1'], { env });
      ctx.run('hmount', [ctx.out, '1'], { env });
      hfsFill(ctx, hfsLimits, env);
    },
  },
  {
    name: 'bsd', kind: 'pt', description: 'BSD disklabel on the whole disk (parted mklabel bsd) with UFS1 in partition a', content: 'full', fill: 'offline',
    contentPartition: 1, deps: ['ufs1-le'],
    expect: { table: 'bsd', partitions: { 1: ['ufs1'] } }, packages: ['parted', 'makefs'],
    build: async (ctx) => {
      sparse(ctx.out, 32 * MiB);
      ctx.run('parted', ['-s', ctx.out, 'mklabel', 'bsd', 'mkpart', 'ext2', '1MiB', '17MiB', 'mkpart', 'ext2', '17MiB', '31MiB']);
      place(ctx.out, partedPartitions(ctx, ctx.out).get(1)!.start, await ctx.image('ufs1-le'));
    },
  },
  {
    name: 'mbr-bsd', kind: 'pt', description: 'MBR with a BSD slice (type a5) holding a nested disklabel (fdisk b) with UFS1 in partition a', content: 'full', fill: 'offline',
    deps: ['ufs1-le'],
    expect: { table: 'mbr', partitions: { 1: ['ufs1'] } }, packages: ['fdisk', 'makefs'],
    build: async (ctx) => {
      sparse(ctx.out, 32 * MiB);
      ctx.run('sfdisk', ['-q', ctx.out], { input: 'label: dos\nlabel-id: 0x0b5d0001\nstart=2048, size=40960, type=a5\n' });
      ctx.run('fdisk', [ctx.out], { input: 'b\ny\nn\na\n\n+16M\nw\n' });
      place(ctx.out, 2048 * 512, await ctx.image('ufs1-le'));
    },
  },
  ...([['sun', 'sun', 'sun'], ['sgi', 'dvh', 'sgi'], ['amiga', 'amiga', 'rdb'], ['atari', 'atari', 'atari'], ['pc98', 'pc98', 'pc98']] as const).map(([name, label, id]): Recipe => ({
    name, kind: 'pt', description: `${id} partition table (parted mklabel ${label}) with ext2 in partition 1 and an empty partition 2`,
    content: 'full', fill: 'offline', contentPartition: 1,
    expect: { table: id, partitions: { 1: ['ext2'], 2: [] } }, packages: ['parted', 'e2fsprogs'],
    build: (ctx) => {
      sparse(ctx.out, 32 * MiB);
      const part = label === 'amiga' || label === 'pc98' ? ['p1'] : label === 'dvh' || label === 'atari' ? ['primary'] : [];
      const part2 = label === 'amiga' || label === 'pc98' ? ['p2'] : part;
      ctx.run('parted', ['-s', ctx.out, 'mklabel', label, 'mkpart', ...part, 'ext2', '2MiB', '18MiB', 'mkpart', ...part2, 'ext2', '18MiB', '30MiB']);
      const parts = partedPartitions(ctx, ctx.out);
      const p1 = parts.get(1)!;
      const fs = join(ctx.tmp, 'p1.img');
      ext({ ...ctx, out: fs }, 'ext2', p1.size, `${name}-ext2`, '00000010-1111-4222-8333-444455556666');
      place(ctx.out, p1.start, fs);
    },
  })),
  {
    name: 'minix-sub', kind: 'pt', description: 'MBR with a Minix partition (type 81) holding two Minix subpartitions, the first a Minix v3 fs', content: 'none', fill: 'guest',
    deps: ['minix3'],
    expect: { table: 'mbr', partitions: { 1: ['minix'] } }, packages: ['fdisk', 'util-linux'],
    build: async (ctx) => {
      sparse(ctx.out, 32 * MiB);
      ctx.run('sfdisk', ['-q', ctx.out], { input: 'label: dos\nlabel-id: 0x3141e001\nstart=2048, size=40960, type=81\n' });
      // The subpartition table is an MBR inside the Minix slice; its entries are absolute sectors.
      const sub = Buffer.alloc(512);
      const entry = (i: number, start: number, sectors: number) => {
        const o = 446 + i * 16;
        sub[o + 4] = 0x81;
        sub.writeUInt32LE(start, o + 8);
        sub.writeUInt32LE(sectors, o + 12);
      };
      entry(0, 4096, 16384);
      entry(1, 20480, 20480);
      sub[510] = 0x55;
      sub[511] = 0xaa;
      const fd = openSync(ctx.out, 'r+');
      writeSync(fd, sub, 0, 512, 2048 * 512);
      closeSync(fd);
      place(ctx.out, 4096 * 512, await ctx.image('minix3'));
    },
  },
  // containers of the gpt disk ----------------------------------------------------------------
  ...([
    ['qcow2', ['-O', 'qcow2', '-o', 'compat=1.1'], 'qcow2', 'qcow2 v3'],
    ['qcow2-v2', ['-O', 'qcow2', '-o', 'compat=0.10'], 'qcow2', 'qcow2 v2 (compat=0.10)'],
    ['qcow2-compressed', ['-O', 'qcow2', '-c'], 'qcow2', 'qcow2 with compressed clusters'],
    ['vmdk', ['-O', 'vmdk', '-o', 'subformat=monolithicSparse'], 'vmdk', 'VMDK monolithicSparse'],
    ['vmdk-stream', ['-O', 'vmdk', '-o', 'subformat=streamOptimized'], 'vmdk', 'VMDK streamOptimized'],
    ['vdi', ['-O', 'vdi'], 'vdi', 'VDI (dynamic)'],
    ['vdi-fixed', ['-O', 'vdi', '-o', 'static=on'], 'vdi', 'VDI (fixed)'],
    ['vhd', ['-O', 'vpc', '-o', 'subformat=dynamic'], 'vhd', 'VHD (dynamic)'],
    ['vhd-fixed', ['-O', 'vpc', '-o', 'subformat=fixed'], 'vhd', 'VHD (fixed)'],
    ['vhdx', ['-O', 'vhdx'], 'vhdx', 'VHDX (dynamic)'],
  ] as const).map(([name, args, format, what]): Recipe => ({
    name, kind: 'container', description: `${what} of the gpt image (qemu-img convert)`, content: 'full', fill: 'offline',
    contentPartition: 2, deps: ['gpt'],
    expect: { container: format, table: 'gpt', partitions: { 1: ['fat16'], 2: ['ext4'], 3: [] } }, packages: ['qemu-utils'],
    build: async (ctx) => { rmSync(ctx.out, { force: true }); ctx.run('qemu-img', ['convert', '-f', 'raw', ...args, await ctx.image('gpt'), ctx.out]); },
  })),
  {
    name: 'qcow2-backing', kind: 'container', description: 'a qcow2 overlay whose backing file is the qcow2 of the gpt image (nothing written)', content: 'full', fill: 'offline',
    contentPartition: 2, deps: ['qcow2'],
    expect: { container: 'qcow2', table: 'gpt', partitions: { 1: ['fat16'], 2: ['ext4'], 3: [] } }, packages: ['qemu-utils'],
    build: async (ctx) => {
      rmSync(ctx.out, { force: true });
      const base = await ctx.image('qcow2');
      // The backing file is named relative to the overlay, as users usually have it.
      mkdirSync(cacheDir, { recursive: true });
      copyFileSync(base, join(cacheDir, 'qcow2-backing.base.qcow2'));
      ctx.run('qemu-img', ['create', '-q', '-f', 'qcow2', '-u', '-b', 'qcow2-backing.base.qcow2', '-F', 'qcow2', ctx.out, '64M']);
    },
  },
];

/** Every recipe by name, in build order (dependencies first). */
export const corpus: ReadonlyMap<string, Recipe> = new Map(recipes.map((r) => [r.name, r]));

/** The Debian packages every recipe needs together. */
export function corpusPackages(): string[] {
  return [...new Set(recipes.flatMap((r) => r.packages))].sort();
}

/** The tree a mount of this image should show (content 'full'); [] for content 'none'. */
export function expectedContent(name: string): SourceEntry[] {
  const recipe = corpus.get(name);
  if (!recipe) throw new Error(`no test image named "${name}"`);
  return recipe.content === 'full' ? expectedTree(recipe.limits) : [];
}

// ---------------------------------------------------------------------------------------------
// building and caching

const GENERATOR_VERSION = 1;

function recipeHash(recipe: Recipe, seen = new Set<string>()): string {
  if (seen.has(recipe.name)) throw new Error(`recipe cycle at ${recipe.name}`);
  const hash = createHash('sha256');
  // Only what changes the bytes: the build code, the content limits and the inputs.
  hash.update(JSON.stringify({ GENERATOR_VERSION, SOURCE_VERSION, name: recipe.name, limits: recipe.limits ?? null, deps: recipe.deps ?? [], build: recipe.build.toString() }));
  for (const dep of recipe.deps ?? []) hash.update(recipeHash(corpus.get(dep)!, new Set([...seen, recipe.name])));
  return hash.digest('hex').slice(0, 12);
}

/** The path an image is (or will be) cached at. */
export function imagePath(name: string): string {
  const recipe = corpus.get(name);
  if (!recipe) throw new Error(`no test image named "${name}" (known: ${[...corpus.keys()].join(', ')})`);
  return join(cacheDir, `${name}.${recipeHash(recipe)}.img`);
}

function run(command: string, args: string[], options: { input?: string | Buffer; env?: Record<string, string>; cwd?: string } = {}): string {
  const result = spawnSync(command, args, {
    input: options.input,
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    maxBuffer: 64 * MiB,
  });
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr.toString().trim() || result.stdout.toString().trim()}`);
  }
  return result.stdout.toString();
}

const building = new Map<string, Promise<string>>();

/** Builds an image (and what it is made from) unless cached; returns its path. */
export function buildImage(name: string): Promise<string> {
  let pending = building.get(name);
  if (!pending) {
    pending = build(name);
    building.set(name, pending);
  }
  return pending;
}

async function build(name: string): Promise<string> {
  const path = imagePath(name);
  if (existsSync(path)) return path;
  const recipe = corpus.get(name)!;
  for (const dep of recipe.deps ?? []) await buildImage(dep);
  mkdirSync(cacheDir, { recursive: true });
  const tmp = join(cacheDir, `.build-${name}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const out = join(tmp, 'image');
  const sources = new Map<string, string>();
  const ctx: BuildContext = {
    out,
    tmp,
    source(limits = recipe.limits ?? {}) {
      const key = JSON.stringify(limits);
      let dir = sources.get(key);
      if (!dir) {
        dir = materialise(expectedTree(limits), join(tmp, `source-${sources.size}`));
        sources.set(key, dir);
      }
      return dir;
    },
    image: (dep) => buildImage(dep),
    run,
  };
  try {
    await recipe.build(ctx);
    if (!existsSync(out) || statSync(out).size === 0) throw new Error(`recipe ${name} made no image`);
    // Drop stale versions of this image, then publish atomically.
    for (const old of readdirSync(cacheDir)) if (old.startsWith(`${name}.`) && old.endsWith('.img') && /^[0-9a-f]{12}$/.test(old.slice(name.length + 1, -4))) rmSync(join(cacheDir, old), { force: true });
    renameSync(out, path);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return path;
}

/** Builds every image (or the named ones) in order; reports progress through the callback. */
export async function buildAll(names: string[] = [...corpus.keys()], progress?: (name: string, state: 'cached' | 'built' | 'failed', detail: string) => void): Promise<Map<string, string | Error>> {
  const results = new Map<string, string | Error>();
  for (const name of names) {
    const cached = existsSync(imagePath(name));
    const started = Date.now();
    try {
      const path = await buildImage(name);
      results.set(name, path);
      progress?.(name, cached ? 'cached' : 'built', cached ? path : `${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      results.set(name, error as Error);
      progress?.(name, 'failed', (error as Error).message);
    }
  }
  return results;
}
