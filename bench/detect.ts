// npm run bench:detect — detection over the whole generated test-image corpus, next to
// `blkid -p` on the same files in the same run, per image and in total.
//   qemount: the library call (detectImage) in this process, median of RUNS runs
//   blkid:   `blkid -p -o export FILE` as a process (exec included, as a user runs it), median of RUNS runs
//   cli:     `qemount detect FILE --json` wall time minus a `node -e 0` baseline (the CLI's own time), once per image
// Everything runs after one unmeasured warm-up pass, so files are in the page cache for both.
// Then the CLI's own time on the corpus's 64 MiB GPT image, the figure issue 3 sets a target for:
// `qemount detect IMAGE` and `node -e 0` run alternately BENCH_CLI_RUNS times (default 20), median
// wall time of each and the difference; user+sys CPU time from /usr/bin/time beside it (it is less
// disturbed by other work on the machine, which a 2-core host often has).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectImage } from '../core/src/detect/detect.ts';
import { buildAll, corpus } from '../test/images/corpus.ts';

const RUNS = Number(process.env.BENCH_RUNS || 5);
const CLI_RUNS = Number(process.env.BENCH_CLI_RUNS || 20);
const CLI = process.env.BENCH_CLI !== '0';
const root = join(fileURLToPath(import.meta.url), '..', '..');
const cliPath = join(root, 'core', 'bin', 'qemount.js');

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

function spawnMs(cmd: string, args: string[]): number {
  const t = performance.now();
  spawnSync(cmd, args, { stdio: 'ignore' });
  return performance.now() - t;
}

const time = '/usr/bin/time';
/** Wall time (ms, measured here) and, where /usr/bin/time exists, user+sys CPU time (ms) of one run. */
function spawnTimed(cmd: string, args: string[]): { wall: number; cpu?: number } {
  if (!existsSync(time)) return { wall: spawnMs(cmd, args) };
  const t = performance.now();
  const run = spawnSync(time, ['-f', '%U %S', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wall = performance.now() - t;
  const [user, sys] = run.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall, cpu: (user + sys) * 1000 };
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

// The CLI's own time on a 64 MiB image.
const image = images.find(([name]) => name === 'gpt')?.[1];
if (CLI && image) {
  const runs = { node: [] as { wall: number; cpu?: number }[], cli: [] as { wall: number; cpu?: number }[] };
  spawnMs(process.execPath, [cliPath, 'detect', image]);
  for (let i = 0; i < CLI_RUNS; i++) {
    runs.node.push(spawnTimed(process.execPath, ['-e', '0']));
    runs.cli.push(spawnTimed(process.execPath, [cliPath, 'detect', image]));
  }
  const wall = (k: 'node' | 'cli') => median(runs[k].map((r) => r.wall));
  const cpu = (k: 'node' | 'cli') => (runs[k][0].cpu === undefined ? undefined : median(runs[k].map((r) => r.cpu!)));
  const c = (ms: number | undefined) => (ms === undefined ? '-' : ms.toFixed(0)).padStart(8);
  const own = { wall: wall('cli') - wall('node'), cpu: cpu('cli') === undefined ? undefined : cpu('cli')! - cpu('node')! };
  console.log(`\nqemount detect on a ${(statSync(image).size / 2 ** 20).toFixed(0)} MiB image (the corpus's gpt), median of ${CLI_RUNS} runs each, ms:`);
  console.log(`${''.padEnd(24)} ${'wall'.padStart(8)} ${'user+sys'.padStart(8)}`);
  console.log(`${'node -e 0'.padEnd(24)} ${f(wall('node'))} ${c(cpu('node'))}`);
  console.log(`${'qemount detect IMAGE'.padEnd(24)} ${f(wall('cli'))} ${c(cpu('cli'))}`);
  console.log(`${'own time (difference)'.padEnd(24)} ${f(own.wall)} ${c(own.cpu)}`);
  console.log(`the CLI's own time ${own.wall < 100 ? 'is' : 'is NOT'} under 100 ms (issue 3)`);
}
