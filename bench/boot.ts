// npm run bench:boot — how fast a guest is ready, and how much memory its qemu holds, next to
// guestmount (libguestfs) on the same image in the same run. Both under TCG (software
// emulation), the same ext4 test image, RUNS runs each (env BENCH_RUNS, default 5).
//   qemount: qemu start → guest READY (booted), → 9P tree attached (ready to serve); qemu RSS then.
//   guestmount: command start → mounted (it returns then); its qemu's RSS then.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Qemount, openImage } from '@qemount/core';
import { buildImage } from '../test/images/corpus.ts';
import { median, printTable, rssMiB, spread } from './lib/stats.ts';

const run = promisify(execFile);
const RUNS = Number(process.env.BENCH_RUNS || 5);

interface Figures {
  boot: number[];
  serve: number[];
  rss: number[];
  total: number[];
}

async function benchQemount(image: string): Promise<Figures> {
  const core = await Qemount.create({ file: join(import.meta.dirname, '..', 'test', 'e2e', 'qemount.config.json') });
  const f: Figures = { boot: [], serve: [], rss: [], total: [] };
  await (await openImage(core, image)).session.shutdown(); // assets built, page cache warm
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const opened = await openImage(core, image);
    f.total.push((performance.now() - t0) / 1000);
    f.boot.push(opened.session.timings.boot / 1000);
    f.serve.push(opened.session.timings.serve / 1000);
    f.rss.push((await rssMiB(opened.session.pid)) ?? NaN);
    await opened.session.shutdown();
  }
  return f;
}

/** The qemu process libguestfs started (a descendant of guestmount's daemon). */
async function guestfsQemuPid(): Promise<number | undefined> {
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.startsWith('qemu-system') || cmdline.includes('/qemu-system')) if (cmdline.includes('guestfs')) return Number(pid);
  }
  return undefined;
}

async function benchGuestmount(image: string): Promise<Figures | string> {
  const found = await run('sh', ['-c', 'command -v guestmount']).catch(() => undefined);
  if (!found) return 'not installed (apt-get install libguestfs-tools)';
  const env = { ...process.env, LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };
  const mnt = await mkdtemp(join(tmpdir(), 'bench-guestmount-'));
  const f: Figures = { boot: [], serve: [], rss: [], total: [] };
  try {
    for (let i = -1; i < RUNS; i++) {
      const t0 = performance.now();
      const mounted = await run('guestmount', ['--format=raw', '-a', image, '-m', '/dev/sda', '--ro', mnt], { env, timeout: 300_000 }).catch((e: Error) => e);
      if (mounted instanceof Error) return `failed: ${mounted.message.split('\n').slice(0, 3).join(' ')}`;
      const seconds = (performance.now() - t0) / 1000;
      const rss = (await guestfsQemuPid().then((pid) => (pid ? rssMiB(pid) : undefined))) ?? NaN;
      await run('guestunmount', [mnt], { env });
      if (i < 0) continue; // the first run builds libguestfs's appliance
      f.total.push(seconds);
      f.serve.push(seconds);
      f.rss.push(rss);
    }
  } finally {
    await rm(mnt, { recursive: true, force: true });
  }
  return f;
}

const image = await buildImage('ext4');
console.log(`boot benchmark: ${RUNS} runs each, TCG, image ${image} (ext4, 16 MiB)`);
const ours = await benchQemount(image);
const theirs = await benchGuestmount(image);
const rss = (values: number[]) => (values.some(Number.isNaN) ? '—' : `${median(values).toFixed(0)} MiB`);
const rows = [
  ['', 'qemu start → booted', 'qemu start → serving', 'command → mounted/usable', 'qemu RSS'],
  ['qemount (linux-6 guest)', spread(ours.boot), spread(ours.serve), spread(ours.total), rss(ours.rss)],
  typeof theirs === 'string'
    ? ['guestmount (libguestfs)', theirs, '', '', '']
    : ['guestmount (libguestfs)', '—', '—', spread(theirs.total), rss(theirs.rss)],
];
printTable(rows);
console.log('median (min–max) in seconds; guestmount does not report when its appliance booted, only when the mount is usable.');
process.exit(0);
