// The README's formats table is rendered from the manifests: it must match what `qemount formats`
// says now, and the README must show the two set-up commands and the test command.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

test('the formats table is current (npm run docs:formats)', () => {
  execFileSync(process.execPath, [join(root, 'scripts', 'render-formats.mjs'), '--check'], { stdio: 'pipe' });
  assert.match(readme, /\| ext4 \(`ext4`\) \|/);
});

test('the set-up and test commands are the ones package.json runs', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.ok(pkg.scripts.demo && pkg.scripts.test);
  assert.match(readme, /npm ci && npm run demo/);
  assert.match(readme, /^npm test/m);
  assert.match(readFileSync(join(root, '.ci', 'run'), 'utf8'), /npm test/);
});

test.run();
