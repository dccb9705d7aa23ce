// FUSE frontend over diod on the host (no VM): `cat` of a 100 MiB file and `ls -l` of 2000 files
// through fresh mounts, next to the same on the export itself and to P9Fs without FUSE.
//   node --import tsx plugins/frontend-fuse/bench/fuse.ts [MiB] [runs]
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { P9Fs } from '@qemount/core';
import { mountFuse } from '../src/index.js';
import { diodOnSocketPair, tempDir } from '../../../core/test/p9/diod.js';

const mib = Number(process.argv[2] ?? 100);
const runs = Number(process.argv[3] ?? 3);
const tmp = tempDir('qemount-fuse-bench-');
const exportDir = join(tmp.dir, 'export');
const mnt = join(tmp.dir, 'mnt');
mkdirSync(join(exportDir, 'many'), { recursive: true });
mkdirSync(mnt);
const chunk = Buffer.alloc(1024 * 1024);
for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
writeFileSync(join(exportDir, 'big.bin'), Buffer.concat(Array.from({ length: mib }, () => chunk)));
for (let i = 0; i < 2000; i++) writeFileSync(join(exportDir, 'many', `file-${i}`), String(i));

function timed(command: string, args: string[]): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => execFile(command, args, { maxBuffer: 1 << 30 }, (error) => (error ? reject(error) : resolve(Number(process.hrtime.bigint() - started) / 1e6))));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function withMount<T>(fn: () => Promise<T>): Promise<T> {
  const diod = diodOnSocketPair({ exportDir });
  const fs = await P9Fs.connect(diod.stream, { aname: exportDir });
  const handle = await mountFuse({ mountpoint: mnt, fs, readOnly: true, source: 'qemount:bench' });
  try {
    return await fn();
  } finally {
    await handle.close();
    fs.close();
    await diod.stop();
  }
}

try {
  await timed('cat', [join(exportDir, 'big.bin')]); // the export in the host's page cache
  const host = median(await Promise.all([0].map(() => timed('sh', ['-c', `cat "${join(exportDir, 'big.bin')}" > /dev/null`]))));
  const cold: number[] = [];
  const warm: number[] = [];
  const lsCold: number[] = [];
  const lsWarm: number[] = [];
  for (let r = 0; r < runs; r++) {
    await withMount(async () => {
      cold.push(await timed('sh', ['-c', `cat "${join(mnt, 'big.bin')}" > /dev/null`]));
      warm.push(await timed('sh', ['-c', `cat "${join(mnt, 'big.bin')}" > /dev/null`]));
      lsCold.push(await timed('ls', ['-l', join(mnt, 'many')]));
      lsWarm.push(await timed('ls', ['-l', join(mnt, 'many')]));
    });
  }
  const p9: number[] = [];
  for (let r = 0; r < runs; r++) {
    const diod = diodOnSocketPair({ exportDir });
    const fs = await P9Fs.connect(diod.stream, { aname: exportDir });
    const started = process.hrtime.bigint();
    for await (const _ of fs.createReadStream('/big.bin')) { /* drain */ }
    p9.push(Number(process.hrtime.bigint() - started) / 1e6);
    fs.close();
    await diod.stop();
  }
  const rate = (ms: number) => `${(mib / (ms / 1000)).toFixed(0)} MiB/s`;
  console.log(`cat ${mib} MiB through FUSE, fresh mount: ${median(cold).toFixed(0)} ms (${rate(median(cold))}); again (page cache): ${median(warm).toFixed(0)} ms (${rate(median(warm))})`);
  console.log(`  P9Fs read stream, no FUSE: ${median(p9).toFixed(0)} ms (${rate(median(p9))}); cat on the export: ${host.toFixed(0)} ms (${rate(host)})`);
  console.log(`ls -l of 2000 files, fresh mount: ${median(lsCold).toFixed(0)} ms; again: ${median(lsWarm).toFixed(0)} ms   (runs: ${runs}, medians)`);
} finally {
  tmp.remove();
}
