#!/usr/bin/env node
// Runs every uvu test file in its own Node process (TypeScript through tsx) and ends with one
// line CI reads: "N passed, N failed". Fast tests are *.test.ts; e2e tests (*.e2e.ts) boot real
// guests and run after them.
//   node scripts/run-tests.mjs [--fast | --e2e] [filter...]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const args = process.argv.slice(2);
const only = args.includes('--fast') ? 'fast' : args.includes('--e2e') ? 'e2e' : 'all';
const filters = args.filter((a) => !a.startsWith('--'));
const concurrency = Number(process.env.TEST_CONCURRENCY || 2);

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (/\.(test|e2e)\.ts$/.test(name)) out.push(path);
  }
  return out;
}

const roots = ['test', 'core/test', ...readdirSync(join(root, 'plugins')).map((p) => `plugins/${p}/test`)];
const all = roots.flatMap((r) => { try { return findTests(join(root, r)); } catch { return []; } })
  .map((f) => relative(root, f))
  .filter((f) => !filters.length || filters.some((x) => f.includes(x)))
  .sort();
const fast = all.filter((f) => f.endsWith('.test.ts'));
const e2e = all.filter((f) => f.endsWith('.e2e.ts'));

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, env: { ...process.env, FORCE_COLOR: '0' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => {
      const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const passed = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
      // uvu's Total already leaves skipped tests out. A file that crashed before uvu reported
      // counts as one failure.
      const failed = code === 0 ? total - passed : Math.max(1, total - passed);
      resolve({ file, code, out, passed, failed, ms: Date.now() - started });
    });
  });
}

async function runAll(files, parallel) {
  const results = [];
  let next = 0;
  async function worker() {
    while (next < files.length) {
      const file = files[next++];
      const result = await runFile(file);
      results.push(result);
      const mark = result.failed ? 'FAIL' : 'ok  ';
      console.log(`${mark} ${file}  (${result.passed} passed, ${result.failed} failed, ${(result.ms / 1000).toFixed(1)} s)`);
      if (result.failed || process.env.TEST_VERBOSE) console.log(result.out.replace(/^/gm, '    '));
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  return results;
}

const results = [];
if (only !== 'e2e') results.push(...(await runAll(fast, concurrency)));
// e2e tests boot VMs: one file at a time on a 2-core machine.
if (only !== 'fast') results.push(...(await runAll(e2e, 1)));
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
