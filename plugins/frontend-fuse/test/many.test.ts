// 2000 files in one directory: `ls -l` and `stat` of every one through a fresh read-only mount
// (one readdir fetches every attribute in a pipelined pass; the lookups that follow hit the
// cache). Timings are printed, not asserted: the machine may be busy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FuseHarness, script, sh } from './harness.js';

const COUNT = 2000;
const h = new FuseHarness();
const exportDir = h.dir('export');

test.before(() => {
  mkdirSync(join(exportDir, 'many'));
  for (let i = 0; i < COUNT; i++) writeFileSync(join(exportDir, 'many', `file-with-a-longish-name-${String(i).padStart(5, '0')}.txt`), 'x'.repeat(i % 97));
});

test.after(() => h.cleanup());

const lsLong = (dir: string) => sh('ls', ['-l', '--time-style=+%s', dir], { timeoutMs: 60_000 });

test(`ls -l of ${COUNT} files through a fresh mount equals ls -l of the export`, async () => {
  const { mnt } = await h.mount(exportDir, { readOnly: true });
  const cold = await lsLong(join(mnt, 'many'));
  assert.is(cold.code, 0, cold.stderr);
  const warm = await lsLong(join(mnt, 'many'));
  const host = await lsLong(join(exportDir, 'many'));
  assert.is(cold.stdout.split('\n').filter((l) => l.startsWith('-')).length, COUNT);
  assert.is(cold.stdout, host.stdout);
  assert.is(warm.stdout, host.stdout);
  console.log(`      ls -l of ${COUNT} files: ${cold.ms} ms cold (fresh mount), ${warm.ms} ms warm; on the host ${host.ms} ms`);
});

test(`stat of each of ${COUNT} files (a process per 500) through a second fresh mount`, async () => {
  const { mnt } = await h.mount(exportDir, { readOnly: true });
  const started = Date.now();
  const r = await script(`ls | xargs -n 500 stat -c '%n %s %a' | sort`, { cwd: join(mnt, 'many'), timeoutMs: 60_000 });
  const ms = Date.now() - started;
  const host = await script(`ls | xargs -n 500 stat -c '%n %s %a' | sort`, { cwd: join(exportDir, 'many') });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.trim().split('\n').length, COUNT);
  assert.is(r.stdout, host.stdout);
  console.log(`      ls + stat of ${COUNT} files: ${ms} ms`);
});

test.run();
