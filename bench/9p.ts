// npm run bench:9p — the 9P client against diod on this host, through each transport, next to the
// host doing the same with cat and stat in the same run:
//   sequential read of a 100 MiB file (MiB/s), and 2000 getattrs (walk+getattr+clunk) pipelined.
// Each figure is the median of RUNS runs (env BENCH_RUNS, default 5) after WARMUP unmeasured ones
// (V8 needs a few hundred MiB of traffic before its JIT and young-generation sizing settle; the
// very first 100 MiB read of a process runs at roughly 2/3 of the settled speed). Files are warm in
// the page cache.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { P9Fs } from '@qemount/core';
import { connectUnix } from '../plugins/transport-unix/src/index.js';
import { connectTcp } from '../plugins/transport-tcp/src/index.js';
import { diodBehindUnixSocket, diodListening, freePort, tempDir } from '../core/test/p9/diod.js';

const run = promisify(execFile);
const RUNS = Number(process.env.BENCH_RUNS || 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const SIZE = 100 << 20;
const FILES = 2000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function measure(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await fn(); // page cache, server threads, JIT
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await timed(fn));
  return median(times);
}

interface Row {
  what: string;
  readMiBs: number;
  statSeconds: number;
  statSerialSeconds?: number;
}

async function bench9p(what: string, fs: P9Fs): Promise<Row> {
  const paths = Array.from({ length: FILES }, (_, i) => `/small/f${i}`);
  const readSeconds = await measure(async () => {
    let n = 0;
    for await (const chunk of fs.createReadStream('/big.bin')) n += (chunk as Buffer).length;
    if (n !== SIZE) throw new Error(`read ${n} bytes, expected ${SIZE}`);
  });
  const statSeconds = await measure(async () => {
    const stats = await Promise.all(paths.map((p) => fs.stat(p)));
    if (stats.some((s) => s.size !== 1)) throw new Error('wrong getattr result');
  });
  const statSerialSeconds = await measure(async () => {
    for (const p of paths) await fs.stat(p);
  });
  fs.close();
  return { what, readMiBs: SIZE / 1048576 / readSeconds, statSeconds, statSerialSeconds };
}

async function main(): Promise<void> {
  const tmp = tempDir('qemount-bench-9p-');
  const exportDir = join(tmp.dir, 'export');
  mkdirSync(join(exportDir, 'small'), { recursive: true });
  const big = join(exportDir, 'big.bin');
  writeFileSync(big, randomBytes(SIZE));
  const smallPaths = Array.from({ length: FILES }, (_, i) => join(exportDir, 'small', `f${i}`));
  for (const p of smallPaths) writeFileSync(p, 'x');

  const rows: Row[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  try {
    // Host baselines, same files, same run.
    const catSeconds = await measure(() => run('sh', ['-c', `cat "$1" > /dev/null`, 'sh', big]));
    const statSeconds = await measure(() => run('stat', ['-c', '%s', ...smallPaths], { maxBuffer: 1 << 20 }));
    rows.push({ what: 'host: cat / one stat process', readMiBs: SIZE / 1048576 / catSeconds, statSeconds });

    // transport-unix: diod serving the connection accepted on a unix socket (as QEMU's chardev would hand it over).
    const sock = join(tmp.dir, '9p.sock');
    const unixServer = await diodBehindUnixSocket({ exportDir }, sock);
    cleanups.push(unixServer.close);
    rows.push(await bench9p('9P via transport-unix (diod)', await P9Fs.connect(await connectUnix(sock, { timeoutMs: 5000 }), { aname: exportDir })));

    // transport-tcp: diod listening on loopback.
    const port = await freePort();
    const tcpServer = diodListening({ exportDir }, `127.0.0.1:${port}`);
    cleanups.push(tcpServer.stop);
    rows.push(await bench9p('9P via transport-tcp (diod)', await P9Fs.connect(await connectTcp('127.0.0.1', port, { timeoutMs: 5000 }), { aname: exportDir })));
  } finally {
    for (const c of cleanups) await c();
    tmp.remove();
  }

  const header = ['', 'seq. read 100 MiB', `${FILES} getattr (pipelined)`, `${FILES} getattr (one at a time)`];
  const table = rows.map((r) => [
    r.what,
    `${r.readMiBs.toFixed(0)} MiB/s`,
    `${r.statSeconds.toFixed(3)} s`,
    r.statSerialSeconds === undefined ? '-' : `${r.statSerialSeconds.toFixed(3)} s`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(`9P benchmark: median of ${RUNS} runs after ${WARMUP} warm-up runs; msize 64 KiB (diod's cap), read-ahead 16`);
  console.log(line(header));
  for (const row of table) console.log(line(row));
}

await main();
