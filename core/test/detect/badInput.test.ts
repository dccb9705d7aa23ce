// Bad input gives a clear QemountError with its own exit code, never a stack trace.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { detectImage } from '../../src/detect/detect.ts';
import { QemountError } from '../../src/QemountError.ts';
import { buildImage } from '../../../test/images/corpus.ts';

const dir = mkdtempSync(join(tmpdir(), 'qemount-detect-bad-'));
const cli = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../bin/qemount.js');

async function rejects(path: string, code: string, exitCode: number, message: RegExp): Promise<void> {
  try {
    await detectImage(path);
  } catch (error) {
    assert.instance(error, QemountError);
    const e = error as QemountError;
    assert.is(e.code, code, e.message);
    assert.is(e.exitCode, exitCode);
    assert.match(e.message, message);
    return;
  }
  assert.unreachable(`${path} was accepted`);
}

function runCli(path: string): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [cli, 'detect', path], { encoding: 'utf8', env: { ...process.env, QEMOUNT_DEBUG: '' } });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function noStack(stderr: string): void {
  assert.not.match(stderr, /\n\s+at /, 'no stack trace');
  assert.match(stderr, /^error: /);
}

const random = join(dir, 'random.img');
writeFileSync(random, Buffer.concat(Array.from({ length: 2048 }, (_, i) => createHash('sha256').update(`random-${i}`).digest())));
const empty = join(dir, 'empty.img');
writeFileSync(empty, '');
const missing = join(dir, 'missing.img');

const cases: [string, () => Promise<string> | string, string, number, RegExp][] = [
  ['a missing file', () => missing, 'E_DETECT_NOT_FOUND', 3, /no such file/],
  ['a directory', () => dir, 'E_DETECT_NOT_A_FILE', 4, /is a directory/],
  ['an empty file', () => empty, 'E_DETECT_EMPTY', 6, /is empty/],
  ['a truncated qcow2', async () => {
    const path = join(dir, 'truncated.qcow2');
    copyFileSync(await buildImage('qcow2'), path);
    truncateSync(path, Math.floor(statSync(path).size / 3));
    return path;
  }, 'E_DETECT_CONTAINER', 7, /truncated/],
  ['a truncated streamOptimized VMDK', async () => {
    const path = join(dir, 'truncated.vmdk');
    copyFileSync(await buildImage('vmdk-stream'), path);
    truncateSync(path, Math.floor(statSync(path).size / 2));
    return path;
  }, 'E_DETECT_CONTAINER', 7, /truncated|footer/],
  ['a qcow2 whose backing file is missing', async () => {
    const path = join(dir, 'orphan.qcow2');
    copyFileSync(await buildImage('qcow2-backing'), path);
    return path;
  }, 'E_DETECT_CONTAINER', 7, /backing file .* is missing/],
];

for (const [what, make, code, exitCode, message] of cases) {
  test(`${what}: ${code} (exit ${exitCode}), library and CLI`, async () => {
    const path = await make();
    await rejects(path, code, exitCode, message);
    const r = runCli(path);
    assert.is(r.status, exitCode, r.stderr);
    noStack(r.stderr);
    assert.match(r.stderr, /hint: /);
  });
}

test('a file of random bytes: nothing recognised, exit 8 from the CLI', async () => {
  const disk = await detectImage(random);
  assert.is(disk.tables.length + disk.filesystems.length, 0);
  const r = runCli(random);
  assert.is(r.status, 8, r.stderr);
  noStack(r.stderr);
  assert.match(r.stderr, /no partition table or filesystem recognised/);
});

test('an unreadable file: E_DETECT_UNREADABLE (exit 5) when not root', async () => {
  const path = join(dir, 'secret.img');
  copyFileSync(random, path);
  chmodSync(path, 0);
  if (process.getuid?.() === 0) {
    // root reads anything: check the mapping with a file that vanishes into EACCES instead
    const r = runCli(path);
    assert.is(r.status, 8); // readable by root, random content
    return;
  }
  await rejects(path, 'E_DETECT_UNREADABLE', 5, /permission denied/);
});

test('a partition entry pointing past the end of the disk is flagged, with a note', async () => {
  const path = join(dir, 'pastend.img');
  copyFileSync(await buildImage('mbr'), path);
  const fd = openSync(path, 'r+');
  const entry = Buffer.alloc(16);
  entry[4] = 0x83;
  entry.writeUInt32LE(200000, 8); // starts at ~98 MiB of a 64 MiB disk
  entry.writeUInt32LE(4096, 12);
  writeSync(fd, entry, 0, 16, 446 + 2 * 16);
  closeSync(fd);
  const disk = await detectImage(path);
  const p3 = disk.tables[0].partitions.find((p) => p.index === 3)!;
  assert.ok(p3.flags!.includes('past-end'));
  assert.match(disk.tables[0].notes!.join('\n'), /partition 3 starts at byte 102400000, past the end of the disk/);
  const r = runCli(path);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /past the end of the disk/);
});

test('a corrupt qcow2 header (cluster bits) and an unsupported container feature are clear errors', async () => {
  const path = join(dir, 'corrupt.qcow2');
  copyFileSync(await buildImage('qcow2'), path);
  const data = readFileSync(path);
  data.writeUInt32BE(40, 20);
  writeFileSync(path, data);
  await rejects(path, 'E_DETECT_CONTAINER', 7, /cluster_bits 40/);
  data.writeUInt32BE(16, 20);
  data.writeBigUInt64BE(1n << 4n, 72); // extended L2 entries
  writeFileSync(path, data);
  await rejects(path, 'E_DETECT_CONTAINER', 7, /extended L2/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
