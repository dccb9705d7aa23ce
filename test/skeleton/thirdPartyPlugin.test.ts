// Issue 2, acceptance 4: a third-party guest plugin (test/fixtures/guest-haiku, plain JavaScript,
// no build) listed in a site config by path or as an npm package shows up in `qemount formats`
// and `qemount guests` through the real CLI; broken plugin entries fail with the file and the
// JSON path on stderr and no stack trace.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Qemount } from '../../core/src/Qemount.ts';
import { fixturesDir, parseJson, repoRoot, runCli, stackLine, TempDirs } from './helpers.ts';

const temp = new TempDirs();
const cache = temp.make('qemount-3p-cache-');
const env = { QEMOUNT_CACHE_DIR: cache, QEMOUNT_STATE_DIR: temp.make('qemount-3p-state-') };
const haikuDir = join(fixturesDir, 'guest-haiku');
const pathConfig = join(fixturesDir, 'haiku-path.qemount.json');

/** A temp project whose node_modules holds guest-haiku (a symlink, as `npm link` makes, or a copy). */
function packageProject(how: 'symlink' | 'copy'): { dir: string; config: string } {
  const dir = temp.make(`qemount-3p-${how}-`);
  mkdirSync(join(dir, 'node_modules', '@qemount'), { recursive: true });
  if (how === 'symlink') {
    symlinkSync(haikuDir, join(dir, 'node_modules', 'guest-haiku'), 'dir');
  } else {
    mkdirSync(join(dir, 'node_modules', 'guest-haiku'));
    for (const f of ['package.json', 'qemount.json', 'index.js']) copyFileSync(join(haikuDir, f), join(dir, 'node_modules', 'guest-haiku', f));
    // A copied plugin resolves its peer dependency from the project's node_modules, as after `npm install`.
    symlinkSync(join(repoRoot, 'core'), join(dir, 'node_modules', '@qemount', 'core'), 'dir');
  }
  const config = join(dir, 'qemount.config.json');
  writeFileSync(config, JSON.stringify({ plugins: ['guest-haiku'] }));
  return { dir, config };
}

test("the fixture's import of '@qemount/core' resolves (through the workspace link) to the built core", () => {
  const resolved = createRequire(join(haikuDir, 'index.js')).resolve('@qemount/core');
  assert.is(realpathSync(resolved), join(repoRoot, 'core', 'dist', 'index.js'));
});

test('in-process: the path-listed plugin registers guest haiku and its code provides a PrebuiltGuest driver', async () => {
  const core = await Qemount.create({ file: pathConfig });
  const record = core.plugins.get('guest-haiku')!;
  assert.ok(record);
  assert.is(record.dir, haikuDir);
  assert.equal(record.source, { path: './guest-haiku' });
  const driver = await core.guestDriver('haiku');
  assert.is(driver.id, 'haiku');
  assert.is(driver.constructor.name, 'PrebuiltGuest');
  const choice = core.chooseGuest({ fs: 'befs', access: 'rw' });
  assert.equal(choice.candidates.map((c) => c.guest), ['haiku']);
  assert.equal(
    choice.rejected.map((r) => `${r.guest}: ${r.why}`).sort(),
    ['linux-2: mounts befs read-only only', 'linux-6: mounts befs read-only only', 'netbsd: does not support befs'],
  );
});

function checkFormats(matrix: any): void {
  assert.ok(matrix.guests.includes('haiku'), `guests: ${matrix.guests}`);
  const row = (id: string, kind = 'fs') => matrix.rows.find((r: any) => r.id === id && r.kind === kind);
  const befs = row('befs');
  assert.equal(befs.guests.haiku, {
    access: 'rw',
    driver: "Haiku's bfs add-on",
    note: "Haiku's native file system (attributes and indices included); the only guest that writes BFS",
    quality: 'stable',
    tested: false,
  });
  assert.is(befs.guests['linux-6'].access, 'ro', 'linux-6 mounts befs read-only');
  const writers = Object.entries<any>(befs.guests).filter(([, s]) => s?.access === 'rw').map(([g]) => g);
  assert.equal(writers, ['haiku'], 'no other guest writes befs');
  assert.is(befs.pick.rw, 'haiku', 'the read-write pick for befs is haiku');
  // For a read-only mount any guest that reads befs may win (the scoring, not this plugin, decides).
  assert.ok(['haiku', 'linux-6'].includes(befs.pick.ro), `read-only pick for befs: ${befs.pick.ro}`);
  assert.is(row('iso9660').guests.haiku.access, 'ro');
  assert.is(row('fat32').guests.haiku.access, 'rw');
  assert.is(row('fat32').pick.rw, 'linux-6', 'haiku does not take fat32 from linux-6');
  assert.is(row('ext4').guests.haiku, null);
  assert.is(row('gpt', 'pt').guests.haiku.access, 'rw');
  assert.is(row('sun', 'pt').guests.haiku, null);
}

test('CLI, by path: formats --json shows the haiku column, befs rw, and haiku as the befs pick', async () => {
  const run = await runCli(['--config', pathConfig, 'formats', '--json'], { env });
  assert.is(run.code, 0, run.stderr);
  checkFormats(parseJson(run));
});

test('CLI, by path: formats --guest haiku lists only what haiku supports, befs rw picked by haiku', async () => {
  const json = await runCli(['--config', pathConfig, 'formats', '--guest', 'haiku', '--json'], { env });
  assert.is(json.code, 0, json.stderr);
  const matrix = parseJson(json);
  assert.equal(matrix.guests, ['haiku']);
  assert.equal(matrix.rows.map((r: any) => `${r.kind}:${r.id}`).sort(), ['fs:befs', 'fs:fat32', 'fs:iso9660', 'pt:gpt', 'pt:mbr']);
  const text = await runCli(['--config', pathConfig, 'formats', '--guest', 'haiku'], { env });
  assert.is(text.code, 0, text.stderr);
  const lines = text.stdout.split('\n');
  assert.match(lines[0], /^filesystem\s+haiku\s+pick\s+origin\s+description$/);
  assert.match(lines.find((l) => l.startsWith('befs '))!, /^befs\s+rw\s+haiku\s+BeOS\s/);
  assert.match(lines.find((l) => l.startsWith('iso9660 '))!, /^iso9660\s+ro\s+haiku\s/);
  assert.not.ok(lines.some((l) => l.startsWith('ext4 ')), 'ext4 is not listed for haiku');
});

test('CLI, by path: guests --json lists haiku with source "path ./guest-haiku" and missing assets with a fix', async () => {
  const run = await runCli(['--config', pathConfig, 'guests', '--json'], { env });
  assert.is(run.code, 0, run.stderr);
  const haiku = parseJson<any[]>(run).find((g) => g.id === 'haiku');
  assert.ok(haiku, 'haiku is listed');
  assert.is(haiku.plugin, 'guest-haiku');
  assert.is(haiku.source, 'path ./guest-haiku');
  assert.is(haiku.system, 'Haiku R1/beta5');
  assert.equal(haiku.filesystems, { rw: 2, ro: 1, total: 3 });
  assert.is(haiku.partitionTables, 2);
  assert.is(haiku.assets.present, false);
  assert.is(haiku.assets.location, join(cache, 'guests', 'haiku'));
  assert.is(haiku.assets.detail, `missing in ${join(cache, 'guests', 'haiku')}: kernel_x86_64, haiku-boot.cpio`);
  assert.match(haiku.assets.fix, /^set guests\.haiku\.kernel \(and initrd\) in the site config, or put kernel_x86_64 and haiku-boot\.cpio in /);
});

test('CLI, by path: guests (text) shows the source and the fix line', async () => {
  const run = await runCli(['--config', pathConfig, 'guests'], { env });
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /^haiku\s+path \.\/guest-haiku\s+Haiku R1\/beta5\s+2 rw \+ 1 ro\s+2\s+missing$/m);
  assert.match(run.stdout, /^haiku: missing in .*\n  fix: set guests\.haiku\.kernel/m);
});

test("CLI, by path: guest build haiku fails with the plugin's own reason (its code ran), no stack trace", async () => {
  const run = await runCli(['--config', pathConfig, 'guest', 'build', 'haiku'], { env });
  assert.is(run.code, 1);
  assert.ok(run.stderr.includes('error: guest haiku cannot be built on this host: Haiku is built with its own toolchain'), run.stderr);
  assert.match(run.stderr, /^hint: set guests\.haiku\.kernel/m);
  assert.not.match(run.stderr, stackLine);
});

for (const how of ['symlink', 'copy'] as const) {
  test(`CLI, as npm package "guest-haiku" (node_modules ${how}): guests and formats show it`, async () => {
    const project = packageProject(how);
    const guests = await runCli(['--config', project.config, 'guests', '--json'], { env });
    assert.is(guests.code, 0, guests.stderr);
    const haiku = parseJson<any[]>(guests).find((g) => g.id === 'haiku');
    assert.ok(haiku, 'haiku is listed');
    assert.is(haiku.source, 'package guest-haiku');
    assert.is(haiku.assets.present, false);
    assert.ok(haiku.assets.fix?.includes('guests.haiku.kernel'), `the plugin's driver answered: ${JSON.stringify(haiku.assets)}`);
    const formats = await runCli(['--config', project.config, 'formats', '--json'], { env });
    assert.is(formats.code, 0, formats.stderr);
    checkFormats(parseJson(formats));
  });
}

test('CLI, as npm package: found by the config search from the project folder (no --config)', async () => {
  const project = packageProject('symlink');
  const sub = join(project.dir, 'src');
  mkdirSync(sub);
  const run = await runCli(['guests', '--json'], { cwd: sub, env });
  assert.is(run.code, 0, run.stderr);
  assert.is(parseJson<any[]>(run).find((g) => g.id === 'haiku')?.source, 'package guest-haiku');
});

async function expectPluginFailure(config: string, expected: string[]): Promise<void> {
  for (const args of [['formats', '--json'], ['guests']]) {
    const run = await runCli(['--config', config, ...args], { env });
    assert.is(run.code, 1, `exit code of ${args.join(' ')}`);
    assert.is(run.stdout, '', 'nothing on stdout');
    assert.match(run.stderr, /^error: /);
    for (const text of expected) assert.ok(run.stderr.includes(text), `stderr says ${JSON.stringify(text)}:\n${run.stderr}`);
    assert.match(run.stderr, /^hint: /m);
    assert.not.match(run.stderr, stackLine, 'no stack trace');
  }
}

test('a plugin path that does not exist: the config file, /plugins/0 and the path tried', async () => {
  const config = join(fixturesDir, 'missing-path.qemount.json');
  await expectPluginFailure(config, [
    `plugin "./guest-does-not-exist" (${config} at /plugins/0) was not found`,
    `${join(fixturesDir, 'guest-does-not-exist', 'qemount.json')} does not exist`,
    'paths are relative to the config file',
  ]);
});

test('a package name that is not installed: the config file, /plugins/0, and npm install as the fix', async () => {
  const config = join(fixturesDir, 'missing-package.qemount.json');
  await expectPluginFailure(config, [
    `plugin "guest-not-installed-anywhere" (${config} at /plugins/0) was not found in any node_modules folder`,
    'hint: npm install guest-not-installed-anywhere',
  ]);
});

test('an installed package that is not a qemount plugin says so', async () => {
  const dir = temp.make('qemount-3p-notplugin-');
  mkdirSync(join(dir, 'node_modules', 'left-pad'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'left-pad', 'package.json'), JSON.stringify({ name: 'left-pad' }));
  const config = join(dir, 'qemount.config.json');
  writeFileSync(config, JSON.stringify({ plugins: ['guest-haiku', 'left-pad'] }));
  mkdirSync(join(dir, 'node_modules', 'guest-haiku'));
  for (const f of ['package.json', 'qemount.json', 'index.js']) copyFileSync(join(haikuDir, f), join(dir, 'node_modules', 'guest-haiku', f));
  await expectPluginFailure(config, [`package "left-pad" (${config} at /plugins/1) is installed at ${join(dir, 'node_modules', 'left-pad')} but is not a qemount plugin`]);
});

test('a plugin with a broken manifest (access "yes", no "system"): the manifest file and both JSON paths', async () => {
  await expectPluginFailure(join(fixturesDir, 'broken-manifest.qemount.json'), [
    `error: ${join(fixturesDir, 'guest-broken', 'qemount.json')} is not a valid plugin manifest`,
    '/guest/filesystems/ext4/access: must be one of "rw", "ro" (got "yes")',
    '/guest/system: is required',
  ]);
});

test('listing the same plugin twice is an error naming both manifests', async () => {
  const dir = temp.make('qemount-3p-dup-');
  symlinkSync(haikuDir, join(dir, 'guest-haiku'), 'dir');
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(haikuDir, join(dir, 'node_modules', 'guest-haiku'), 'dir');
  const config = join(dir, 'qemount.config.json');
  writeFileSync(config, JSON.stringify({ plugins: ['./guest-haiku', 'guest-haiku'] }));
  await expectPluginFailure(config, ['two plugins are named "guest-haiku"']);
});

test('a plugin whose code fails to load: guests says so, guest build fails with E_PLUGIN_LOAD and no stack trace', async () => {
  const dir = temp.make('qemount-3p-throws-');
  mkdirSync(join(dir, 'guest-haiku'));
  for (const f of ['package.json', 'qemount.json']) copyFileSync(join(haikuDir, f), join(dir, 'guest-haiku', f));
  writeFileSync(join(dir, 'guest-haiku', 'index.js'), "throw new Error('haiku plugin exploded');\n");
  const config = join(dir, 'qemount.config.json');
  writeFileSync(config, JSON.stringify({ plugins: ['./guest-haiku'] }));
  const guests = await runCli(['--config', config, 'guests', '--json'], { env });
  assert.is(guests.code, 0, guests.stderr);
  const haiku = parseJson<any[]>(guests).find((g) => g.id === 'haiku');
  assert.match(haiku.assets.detail, /its plugin cannot be loaded: cannot load plugin "guest-haiku" from .*index\.js: haiku plugin exploded/);
  const build = await runCli(['--config', config, 'guest', 'build', 'haiku'], { env });
  assert.is(build.code, 1);
  assert.ok(build.stderr.includes(`error: cannot load plugin "guest-haiku" from ${join(dir, 'guest-haiku', 'index.js')}: haiku plugin exploded`), build.stderr);
  assert.match(build.stderr, /^hint: reinstall the plugin, or check \/entry in /m);
  assert.not.match(build.stderr, stackLine);
});

test.after(() => temp.cleanup());
test.run();
