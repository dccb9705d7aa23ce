// Issue 2, acceptance 3: the site config (cosmiconfig) is found in every supported form, searched
// upward from a nested folder, filled with defaults, its relative folders and plugin paths resolved
// against the config file's folder, and rejected precisely when invalid.
//
// Hermetic: HOME and XDG_CONFIG_HOME point into a temp root for this process, so the upward search
// stops there (cosmiconfig's "global" strategy stops at the home folder) and the global config
// folder is ours; QEMOUNT_CACHE_DIR / QEMOUNT_STATE_DIR / XDG_CACHE_HOME are unset.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig, type ResolvedConfig } from '../../core/src/config/loadConfig.ts';
import { Qemount } from '../../core/src/Qemount.ts';
import { QemountError } from '../../core/src/QemountError.ts';
import { fixturesDir, runCli, stackLine, TempDirs } from './helpers.ts';

const temp = new TempDirs();
const root = temp.make('qemount-config-');
process.env.HOME = root;
process.env.XDG_CONFIG_HOME = join(root, '.config');
for (const key of ['QEMOUNT_CACHE_DIR', 'QEMOUNT_STATE_DIR', 'XDG_CACHE_HOME']) delete process.env[key];

let serial = 0;
/** A fresh project folder under the temp root. */
function project(): string {
  const dir = join(root, `p${++serial}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function write(path: string, text: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

function assertDefaults(config: ResolvedConfig, except: Partial<Record<keyof ResolvedConfig, unknown>> = {}): void {
  const defaults = { accelerator: 'auto', memory: 128, transport: 'unix', frontend: 'fuse', plugins: [], preferGuest: {}, guests: {} };
  for (const [key, value] of Object.entries(defaults)) {
    if (key in except) assert.equal((config as any)[key], (except as any)[key], key);
    else assert.equal((config as any)[key], value, `default ${key}`);
  }
}

async function configError(options: Parameters<typeof loadConfig>[0]): Promise<QemountError> {
  try {
    await loadConfig(options);
  } catch (error) {
    assert.instance(error, QemountError);
    return error as QemountError;
  }
  assert.unreachable('the config was accepted');
  throw new Error('unreachable');
}

test('the environment is hermetic: home is the temp root', () => {
  assert.is(homedir(), root);
});

test('no config anywhere: defaults (accelerator auto, memory 128, transport unix, frontend fuse)', async () => {
  const cwd = join(project(), 'a', 'b');
  mkdirSync(cwd, { recursive: true });
  const config = await loadConfig({ cwd });
  assert.is(config.file, undefined);
  assertDefaults(config);
  assert.is(config.cacheDir, join(root, '.cache', 'qemount'), 'default cache folder is ~/.cache/qemount');
  assert.ok(config.stateDir.startsWith('/'), config.stateDir);
});

const forms: Array<{ name: string; text: (memory: number) => string; extra?: Record<string, string> }> = [
  { name: 'qemount.config.json', text: (m) => JSON.stringify({ memory: m, accelerator: 'tcg' }) },
  { name: 'qemount.config.yaml', text: (m) => `memory: ${m}\naccelerator: tcg\n` },
  { name: 'qemount.config.yml', text: (m) => `memory: ${m}\naccelerator: tcg\n` },
  { name: 'qemount.config.mjs', text: (m) => `export default { memory: ${m}, accelerator: 'tcg' };\n` },
  { name: 'qemount.config.js', text: (m) => `module.exports = { memory: ${m}, accelerator: 'tcg' };\n` },
  {
    name: 'qemount.config.js',
    text: (m) => `export default { memory: ${m}, accelerator: 'tcg' };\n`,
    // An ES module .js: its folder's package.json says "type": "module" (and has no qemount key).
    extra: { 'package.json': JSON.stringify({ name: 'esm-project', type: 'module' }) },
  },
  { name: 'qemount.config.cjs', text: (m) => `module.exports = { memory: ${m}, accelerator: 'tcg' };\n` },
  { name: '.qemountrc', text: (m) => `memory: ${m}\naccelerator: tcg\n` },
  { name: '.qemountrc', text: (m) => JSON.stringify({ memory: m, accelerator: 'tcg' }) },
  { name: '.qemountrc.json', text: (m) => JSON.stringify({ memory: m, accelerator: 'tcg' }) },
  { name: '.qemountrc.yaml', text: (m) => `memory: ${m}\naccelerator: tcg\n` },
  { name: '.qemountrc.yml', text: (m) => `memory: ${m}\naccelerator: tcg\n` },
  { name: '.qemountrc.cjs', text: (m) => `module.exports = { memory: ${m}, accelerator: 'tcg' };\n` },
  { name: '.qemountrc.mjs', text: (m) => `export default { memory: ${m}, accelerator: 'tcg' };\n` },
  { name: 'package.json', text: (m) => JSON.stringify({ name: 'some-project', qemount: { memory: m, accelerator: 'tcg' } }) },
];

forms.forEach((form, index) => {
  test(`found as ${form.name}${form.extra ? ' (ES module project)' : ''}${form.name === '.qemountrc' ? (form.text(1).startsWith('{') ? ' (JSON)' : ' (YAML)') : ''}`, async () => {
    const dir = project();
    const memory = 200 + index;
    const file = write(join(dir, form.name), form.text(memory));
    for (const [name, text] of Object.entries(form.extra ?? {})) write(join(dir, name), text);
    const config = await loadConfig({ cwd: dir });
    assert.is(config.file, file);
    assertDefaults(config, { memory, accelerator: 'tcg' });
  });
});

test('searched upward from a nested folder; a package.json without "qemount" is passed over', async () => {
  const dir = project();
  const file = write(join(dir, 'qemount.config.yaml'), 'memory: 512\n');
  write(join(dir, 'app', 'package.json'), JSON.stringify({ name: 'app' }));
  const cwd = join(dir, 'app', 'src', 'deep');
  mkdirSync(cwd, { recursive: true });
  const config = await loadConfig({ cwd });
  assert.is(config.file, file);
  assert.is(config.memory, 512);
});

test('the nearest config wins over one further up', async () => {
  const dir = project();
  write(join(dir, 'qemount.config.json'), JSON.stringify({ memory: 300 }));
  const near = write(join(dir, 'sub', '.qemountrc.json'), JSON.stringify({ memory: 400 }));
  const config = await loadConfig({ cwd: join(dir, 'sub') });
  assert.is(config.file, near);
  assert.is(config.memory, 400);
});

test('in one folder, package.json#qemount comes first (the search order)', async () => {
  const dir = project();
  const pkg = write(join(dir, 'package.json'), JSON.stringify({ name: 'x', qemount: { memory: 333 } }));
  write(join(dir, 'qemount.config.json'), JSON.stringify({ memory: 444 }));
  const config = await loadConfig({ cwd: dir });
  assert.is(config.file, pkg);
  assert.is(config.memory, 333);
});

test('the global config (~/.config/qemount/config.json) is used when nothing is found above', async () => {
  const globalFile = write(join(root, '.config', 'qemount', 'config.json'), JSON.stringify({ memory: 640 }));
  try {
    const dir = project();
    const config = await loadConfig({ cwd: dir });
    assert.is(config.file, globalFile);
    assert.is(config.memory, 640);
    write(join(dir, 'qemount.config.json'), JSON.stringify({ memory: 256 }));
    assert.is((await loadConfig({ cwd: dir })).memory, 256, 'a project config wins over the global one');
  } finally {
    rmSync(join(root, '.config'), { recursive: true, force: true });
  }
});

test('relative cacheDir, stateDir and guest kernel paths resolve against the config file, not the cwd', async () => {
  const dir = project();
  write(join(dir, 'qemount.config.yaml'), 'cacheDir: ./cache\nstateDir: run/state\nguests:\n  netbsd:\n    kernel: ./kernels/netbsd\n    initrd: ramdisk.fs\n');
  const cwd = join(dir, 'x', 'y');
  mkdirSync(cwd, { recursive: true });
  const config = await loadConfig({ cwd });
  assert.is(config.cacheDir, join(dir, 'cache'));
  assert.is(config.stateDir, join(dir, 'run', 'state'));
  assert.equal(config.guests.netbsd, { kernel: join(dir, 'kernels', 'netbsd'), initrd: join(dir, 'ramdisk.fs') });
});

test('absolute folders stay as they are; ~ means the home folder', async () => {
  const dir = project();
  write(join(dir, 'qemount.config.json'), JSON.stringify({ cacheDir: '/var/tmp/qm-cache', stateDir: '~/qm-state' }));
  const config = await loadConfig({ cwd: dir });
  assert.is(config.cacheDir, '/var/tmp/qm-cache');
  assert.is(config.stateDir, join(root, 'qm-state'));
});

test('QEMOUNT_CACHE_DIR and QEMOUNT_STATE_DIR override the config file', async () => {
  const dir = project();
  write(join(dir, 'qemount.config.json'), JSON.stringify({ cacheDir: './cache', stateDir: './state' }));
  process.env.QEMOUNT_CACHE_DIR = '/var/tmp/env-cache';
  process.env.QEMOUNT_STATE_DIR = '/var/tmp/env-state';
  try {
    const config = await loadConfig({ cwd: dir });
    assert.is(config.cacheDir, '/var/tmp/env-cache');
    assert.is(config.stateDir, '/var/tmp/env-state');
  } finally {
    delete process.env.QEMOUNT_CACHE_DIR;
    delete process.env.QEMOUNT_STATE_DIR;
  }
});

test('plugin paths resolve against the config file folder (loaded from a nested cwd)', async () => {
  const dir = project();
  const pluginDir = join(dir, 'vendor', 'guest-haiku');
  mkdirSync(pluginDir, { recursive: true });
  for (const f of ['qemount.json', 'package.json', 'index.js']) copyFileSync(join(fixturesDir, 'guest-haiku', f), join(pluginDir, f));
  const file = write(join(dir, 'qemount.config.json'), JSON.stringify({ plugins: ['./vendor/guest-haiku'] }));
  const cwd = join(dir, 'work', 'here');
  mkdirSync(cwd, { recursive: true });
  const core = await Qemount.create({ cwd });
  assert.is(core.config.file, file);
  const record = core.plugins.get('guest-haiku');
  assert.ok(record, 'guest-haiku is registered');
  assert.is(record!.dir, pluginDir);
  assert.is(record!.manifestFile, join(pluginDir, 'qemount.json'));
  assert.equal(record!.source, { path: './vendor/guest-haiku' });
  assert.is(core.guest('haiku').declaration.filesystems.befs.access, 'rw');
});

test('an explicit file (--config) is used as given, relative to the cwd, and skips the search', async () => {
  const dir = project();
  write(join(dir, 'qemount.config.json'), JSON.stringify({ memory: 999 }));
  const file = write(join(dir, 'conf', 'site.yaml'), 'memory: 1024\ntransport: tcp\nfrontend: cli\npreferGuest:\n  ufs2: netbsd\n');
  const config = await loadConfig({ cwd: dir, file: 'conf/site.yaml' });
  assert.is(config.file, file);
  assertDefaults(config, { memory: 1024, transport: 'tcp', frontend: 'cli', preferGuest: { ufs2: 'netbsd' } });
});

test('overrides win over the file', async () => {
  const dir = project();
  write(join(dir, 'qemount.config.json'), JSON.stringify({ memory: 256, accelerator: 'kvm' }));
  const config = await loadConfig({ cwd: dir, overrides: { accelerator: 'tcg' } });
  assert.is(config.accelerator, 'tcg');
  assert.is(config.memory, 256);
});

const invalid: Array<{ what: string; content: unknown; lines: string[] }> = [
  { what: 'memory 50', content: { memory: 50 }, lines: ['/memory: must be >= 104 (got 50)'] },
  { what: 'memory 100000', content: { memory: 100000 }, lines: ['/memory: must be <= 65536 (got 100000)'] },
  { what: 'memory 128.5', content: { memory: 128.5 }, lines: ['/memory: must be integer (got 128.5)'] },
  { what: 'accelerator "fast"', content: { accelerator: 'fast' }, lines: ['/accelerator: must be one of "auto", "kvm", "tcg" (got "fast")'] },
  { what: 'an unknown key', content: { colour: 'blue' }, lines: ['/colour: is not allowed here (unknown property)'] },
  { what: 'an unknown guest setting', content: { guests: { netbsd: { kernl: '/k' } } }, lines: ['/guests/netbsd/kernl: is not allowed here (unknown property)'] },
  { what: 'plugins not a list', content: { plugins: 'guest-haiku' }, lines: ['/plugins: must be array (got "guest-haiku")'] },
  {
    what: 'three problems at once',
    content: { memory: 50, accelerator: 'fast', colour: 'blue' },
    lines: ['/memory: must be >= 104 (got 50)', '/accelerator: must be one of "auto", "kvm", "tcg" (got "fast")', '/colour: is not allowed here (unknown property)'],
  },
];

for (const { what, content, lines } of invalid) {
  test(`invalid config (${what}): E_CONFIG_INVALID naming the file and the JSON path`, async () => {
    const dir = project();
    const file = write(join(dir, 'qemount.config.json'), JSON.stringify(content));
    const error = await configError({ cwd: dir });
    assert.is(error.code, 'E_CONFIG_INVALID');
    assert.ok(error.message.startsWith(`${file} is not a valid site config`), error.message);
    for (const line of lines) assert.ok(error.message.includes(line), `says ${JSON.stringify(line)}:\n${error.message}`);
    assert.match(error.hint ?? '', /site-config\.schema\.json/);
  });
}

test('an invalid YAML config found by search is also E_CONFIG_INVALID with its path', async () => {
  const dir = project();
  const file = write(join(dir, '.qemountrc.yaml'), 'memory: 50\naccelerator: fast\n');
  const error = await configError({ cwd: join(dir) });
  assert.is(error.code, 'E_CONFIG_INVALID');
  assert.ok(error.message.includes(file));
  assert.ok(error.message.includes('/memory: must be >= 104 (got 50)'));
});

test('a config with a syntax error fails with E_CONFIG_UNREADABLE naming the file', async () => {
  const dir = project();
  const file = write(join(dir, 'qemount.config.json'), '{ "memory": 256, ');
  const error = await configError({ cwd: dir });
  assert.is(error.code, 'E_CONFIG_UNREADABLE');
  assert.ok(error.message.includes(file), error.message);
});

test('a missing --config file fails with E_CONFIG_NOT_FOUND naming the path', async () => {
  const dir = project();
  const error = await configError({ cwd: dir, file: 'nope/qemount.config.json' });
  assert.is(error.code, 'E_CONFIG_NOT_FOUND');
  assert.ok(error.message.includes(join(dir, 'nope', 'qemount.config.json')), error.message);
  const folder = await configError({ cwd: dir, file: '.' });
  assert.is(folder.code, 'E_CONFIG_NOT_FOUND', 'a folder is not a config file');
});

const cliEnv = () => ({ HOME: root, XDG_CONFIG_HOME: join(root, '.config'), QEMOUNT_CACHE_DIR: join(root, 'cli-cache'), QEMOUNT_STATE_DIR: join(root, 'cli-state') });

test('CLI: a config found from the cwd is used (formats --json sees the site config preferGuest)', async () => {
  const dir = project();
  write(join(dir, '.qemountrc.yaml'), 'preferGuest:\n  ext4: netbsd\n');
  const cwd = join(dir, 'deep', 'er');
  mkdirSync(cwd, { recursive: true });
  const run = await runCli(['formats', '--json', '--kind', 'fs'], { cwd, env: cliEnv() });
  assert.is(run.code, 0, run.stderr);
  const ext4 = JSON.parse(run.stdout).rows.find((r: any) => r.id === 'ext4');
  assert.is(ext4.pick.ro, 'netbsd', 'the config found by search moved netbsd first for ext4');
  const ext3 = JSON.parse(run.stdout).rows.find((r: any) => r.id === 'ext3');
  assert.is(ext3.pick.ro, 'linux-6');
});

test('CLI: --config FILE with memory 50 exits non-zero, stderr names the file and /memory, no stack trace', async () => {
  const dir = project();
  const file = write(join(dir, 'bad.json'), JSON.stringify({ memory: 50, accelerator: 'fast', colour: 1 }));
  const run = await runCli(['--config', file, 'formats', '--json'], { env: cliEnv() });
  assert.is(run.code, 1);
  assert.is(run.stdout, '');
  assert.ok(run.stderr.includes(`error: ${file} is not a valid site config`), run.stderr);
  for (const line of ['/memory: must be >= 104 (got 50)', '/accelerator: must be one of "auto", "kvm", "tcg" (got "fast")', '/colour: is not allowed here (unknown property)']) {
    assert.ok(run.stderr.includes(line), `stderr says ${line}:\n${run.stderr}`);
  }
  assert.match(run.stderr, /^hint: /m);
  assert.not.match(run.stderr, stackLine);
});

test('CLI: --config with a file that does not exist exits non-zero naming it, no stack trace', async () => {
  const dir = project();
  const run = await runCli(['--config', 'missing.yaml', 'guests', '--json'], { cwd: dir, env: cliEnv() });
  assert.is(run.code, 1);
  assert.ok(run.stderr.includes(`error: config file ${join(dir, 'missing.yaml')} does not exist`), run.stderr);
  assert.match(run.stderr, /hint: check the path given to --config/);
  assert.not.match(run.stderr, stackLine);
});

test.after(() => temp.cleanup());
test.run();
