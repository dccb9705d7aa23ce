// npm run bench:mount — a mounted image as a user meets it, next to guestmount (libguestfs, TCG)
// and fuse2fs (no VM: the host-side ceiling) in the same run, on the same ext4 image holding a
// 100 MiB file and 2000 small files. Per tool, RUNS cycles (env BENCH_RUNS, default 3) of:
// mount until usable, ls -R, cat of the 100 MiB file, stat of the 2000 files, unmount.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { median, printTable } from './lib/stats.ts';

const run = promisify(execFile);
const RUNS = Number(process.env.BENCH_RUNS || 3);
const root = join(import.meta.dirname, '..');
const qemountBin = join(root, 'core', 'bin', 'qemount.js');
const tcgConfig = join(root, 'test', 'e2e', 'qemount.config.json');
const BIG = 100 << 20;
const SMALL = 2000;

async function benchImage(): Promise<string> {
  const dir = join(tmpdir(), 'qemount-bench');
  const image = join(dir, 'mount-bench-ext4.img');
  if (existsSync(image)) return image;
  const tree = join(dir, 'tree');
  await rm(tree, { recursive: true, force: true });
  await mkdir(join(tree, 'small'), { recursive: true });
  // Deterministic, incompressible-looking content.
  const block = Buffer.alloc(1 << 20);
  const chunks: Buffer[] = [];
  for (let i = 0; i < 100; i++) {
    for (let j = 0; j < block.length; j += 32) createHash('sha256').update(`${i}:${j}`).digest().copy(block, j);
    chunks.push(Buffer.from(block));
  }
  await writeFile(join(tree, 'big.bin'), Buffer.concat(chunks));
  for (let i = 0; i < SMALL; i++) await writeFile(join(tree, 'small', `f${i}.txt`), `file ${i}\n`);
  await run('mke2fs', ['-q', '-t', 'ext4', '-d', tree, image, '160M']);
  await rm(tree, { recursive: true, force: true });
  return image;
}

interface Tool {
  name: string;
  available(): Promise<string | undefined>; // why not, if not
  mount(image: string, mountpoint: string): Promise<void>;
  unmount(mountpoint: string): Promise<void>;
}

const guestfsEnv = { ...process.env, LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };
const has = (command: string) => run('sh', ['-c', `command -v ${command}`]).then(() => true, () => false);

const tools: Tool[] = [
  {
    name: 'qemount (linux-6 guest, TCG)',
    available: async () => undefined,
    mount: async (image, mnt) => void (await run(process.execPath, [qemountBin, '--config', tcgConfig, 'mount', image, mnt])),
    unmount: async (mnt) => void (await run(process.execPath, [qemountBin, '--config', tcgConfig, 'unmount', mnt])),
  },
  {
    name: 'guestmount (libguestfs, TCG)',
    available: async () => ((await has('guestmount')) ? undefined : 'not installed (apt-get install libguestfs-tools)'),
    mount: async (image, mnt) => void (await run('guestmount', ['--format=raw', '-a', image, '-m', '/dev/sda', '--ro', mnt], { env: guestfsEnv, timeout: 300_000 })),
    unmount: async (mnt) => void (await run('guestunmount', [mnt], { env: guestfsEnv })),
  },
  {
    name: 'fuse2fs (host, no VM)',
    available: async () => ((await has('fuse2fs')) ? undefined : 'not installed (apt-get install fuse2fs)'),
    mount: async (image, mnt) => void (await run('fuse2fs', ['-o', 'ro,fakeroot', image, mnt])),
    unmount: async (mnt) => void (await run('umount', [mnt])),
  },
];

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await work();
  return (performance.now() - t0) / 1000;
}

interface Cycle {
  mount: number;
  lsR: number;
  catMiBs: number;
  stat: number;
  unmount: number;
}

async function cycle(tool: Tool, image: string, mnt: string): Promise<Cycle> {
  const mount = await seconds(() => tool.mount(image, mnt));
  const lsR = await seconds(() => run('sh', ['-c', `ls -lR "${mnt}" > /dev/null`], { maxBuffer: 1 << 26 }));
  const cat = await seconds(() => run('sh', ['-c', `cat "${mnt}/big.bin" > /dev/null`]));
  // Mounts may cache attributes from ls -R: stat after a fresh lookup is what a script sees too.
  const stat = await seconds(() => run('sh', ['-c', `cd "${mnt}/small" && stat --format=%s f*.txt > /dev/null`], { maxBuffer: 1 << 26 }));
  const unmount = await seconds(() => tool.unmount(mnt));
  return { mount, lsR, catMiBs: BIG / (1 << 20) / cat, stat, unmount };
}

const image = await benchImage();
console.log(`mount benchmark: ${image} (ext4: a 100 MiB file + ${SMALL} small files), median of ${RUNS} cycles per tool`);
const rows: string[][] = [['', 'mount → usable', 'ls -lR', 'cat 100 MiB', `stat ${SMALL} files`, 'unmount']];
for (const tool of tools) {
  const why = await tool.available();
  if (why) {
    rows.push([tool.name, why, '', '', '', '']);
    continue;
  }
  const mnt = await mkdtemp(join(tmpdir(), 'bench-mnt-'));
  try {
    if (tool.name.startsWith('guestmount')) await cycle(tool, image, mnt); // builds its appliance
    const cycles: Cycle[] = [];
    for (let i = 0; i < RUNS; i++) cycles.push(await cycle(tool, image, mnt));
    const m = (f: (c: Cycle) => number) => median(cycles.map(f));
    rows.push([tool.name, `${m((c) => c.mount).toFixed(2)} s`, `${m((c) => c.lsR).toFixed(2)} s`, `${m((c) => c.catMiBs).toFixed(0)} MiB/s`, `${m((c) => c.stat).toFixed(2)} s`, `${m((c) => c.unmount).toFixed(2)} s`]);
  } catch (error) {
    rows.push([tool.name, `failed: ${(error as Error).message.split('\n')[0]}`, '', '', '', '']);
  } finally {
    await rm(mnt, { recursive: true, force: true }).catch(() => {});
  }
}
printTable(rows);
process.exit(0);
