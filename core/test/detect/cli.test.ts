// qemount detect IMAGE [--json]: the tree, the partition map and the guest pick per filesystem.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImage } from '../../../test/images/corpus.ts';
import { partitionMap } from '../../src/cli/commands/detect.ts';

const cli = join(fileURLToPath(import.meta.url), '..', '..', '..', 'bin', 'qemount.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'detect', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

test('--json: the tree with a guest pick (or the reason there is none) on every filesystem', async () => {
  const r = run(await buildImage('mbr'), '--json');
  assert.is(r.status, 0, r.stderr);
  const disk = JSON.parse(r.stdout);
  assert.is(disk.container.format, 'raw');
  const parts = disk.tables[0].partitions;
  const p5 = parts.find((p: { index: number }) => p.index === 5);
  assert.is(p5.filesystems[0].type, 'ext4');
  assert.type(p5.filesystems[0].guest.reasons, 'object');
  const p6 = parts.find((p: { index: number }) => p.index === 6);
  if (p6.filesystems[0].guest.guest === null) assert.match(p6.filesystems[0].guest.reasons.join(' '), /swap/);
});

test('the text tree: container, table, partition map, partitions, filesystems, guests', async () => {
  const r = run(await buildImage('qcow2'));
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /qcow2 \(version 3/);
  assert.match(r.stdout, /gpt partition table/);
  assert.match(r.stdout, /\[·1+2+3+\]/);
  assert.match(r.stdout, /"linux data"/);
  assert.match(r.stdout, /ext4 .*label "gpt-data"/);
  assert.match(r.stdout, /→ (guest|no guest)/);
});

test('--help documents the exit codes', () => {
  const r = run('--help');
  assert.match(r.stdout, /Exit codes:/);
  for (const code of ['3', '4', '5', '6', '7', '8']) assert.match(r.stdout, new RegExp(`\\n  ${code}  `));
});

test('partitionMap draws partitions to scale', () => {
  const map = partitionMap({ type: 'mbr', offset: 0, partitions: [
    { index: 1, start: 0, size: 50, filesystems: [] },
    { index: 2, start: 75, size: 25, filesystems: [] },
  ] }, 100, 8);
  assert.is(map, '[1111··22]');
});

test.run();
