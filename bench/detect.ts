// npm run bench:detect — detection over the whole generated test-image corpus, next to
// `blkid -p` on the same files in the same run, per image and in total.
//   qemount: the library call (detectImage) in this process, median of RUNS runs
//   blkid:   `blkid -p -o export FILE` as a process (exec included, as a user runs it), median of RUNS runs
//   cli:     `qemount detect FILE --json` wall time minus a `node -e 0` baseline (the CLI's own time), once per image
// Everything runs after one unmeasured warm-up pass, so files are in the page cache for both.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectImage } from '../core/src/detect/detect.ts';
import { buildAll, corpus } from '../test/images/corpus.ts';

const RUNS = Number(process.env.BENCH_RUNS || 5);
const CLI = process.env.BENCH_CLI !== '0';
const root = join(fileURLToPath(import.meta.url), '..', '..');
const cliPath = join(root, 'core', 'bin', 'qemount.js');

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

function spawnMs(cmd: string, args: string[]): number {
  const t = performance.now();
  spawnSync(cmd, args, { stdio: 'ignore' });
  return performance.now() - t;
}

const images = [...(await buildAll())].filter(([, r]) => typeof r === 'string') as [string, string][];
// warm-up: page cache, JIT
for (const [, path] of images) {
  await detectImage(path);
  spawnMs('blkid', ['-p', '-o', 'export', path]);
}
const baseline = CLI ? median(Array.from({ length: 5 }, () => spawnMs(process.execPath, ['-e', '0']))) : 0;

const rows: { name: string; ours: number; blkid: number; cli?: number; found: string }[] = [];
for (const [name, path] of images) {
  const ours: number[] = [];
  const theirs: number[] = [];
  let found = '';
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const disk = await detectImage(path);
    ours.push(performance.now() - t);
    found = [disk.container.format !== 'raw' ? disk.container.format : '', ...disk.tables.map((x) => x.type), ...disk.filesystems.map((f) => f.type)].filter(Boolean).join(' ');
    theirs.push(spawnMs('blkid', ['-p', '-o', 'export', path]));
  }
  const cli = CLI ? spawnMs(process.execPath, [cliPath, 'detect', path, '--json']) - baseline : undefined;
  rows.push({ name, ours: median(ours), blkid: median(theirs), cli, found });
}

const f = (ms: number) => ms.toFixed(2).padStart(8);
console.log(`detect over the generated corpus: ${rows.length} images (corpus has ${corpus.size}), median of ${RUNS} runs; times in ms`);
console.log(`${'image'.padEnd(18)} ${'qemount'.padStart(8)} ${'blkid -p'.padStart(8)}${CLI ? ' ' + 'cli-own'.padStart(8) : ''}  found`);
for (const r of rows) console.log(`${r.name.padEnd(18)} ${f(r.ours)} ${f(r.blkid)}${CLI ? ' ' + f(r.cli!) : ''}  ${r.found}`);
const sum = (k: 'ours' | 'blkid' | 'cli') => rows.reduce((n, r) => n + (r[k] ?? 0), 0);
console.log(`${'TOTAL'.padEnd(18)} ${f(sum('ours'))} ${f(sum('blkid'))}${CLI ? ' ' + f(sum('cli')) : ''}`);
console.log(`qemount (library) ${sum('ours') <= sum('blkid') ? 'is' : 'is NOT'} faster than blkid -p (process) over the corpus: ${(sum('blkid') / sum('ours')).toFixed(2)}×`);
if (CLI) console.log(`cli-own: qemount detect --json wall time minus node -e 0 (${baseline.toFixed(1)} ms): start-up, catalogue and manifests, detection, output`);
