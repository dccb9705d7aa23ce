// Issue 2, acceptance 2: an invalid manifest fails with E_MANIFEST_INVALID, and the message names
// the manifest file, the JSON path of each problem and what was expected there.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Qemount } from '../../core/src/Qemount.ts';
import { QemountError } from '../../core/src/QemountError.ts';
import { TempDirs } from './helpers.ts';

const temp = new TempDirs();
const root = temp.make('qemount-schema-errors-');
let serial = 0;

function validManifest(name: string): any {
  return {
    name,
    kind: 'guest',
    entry: 'index.js',
    description: 'a test guest',
    guest: {
      id: name.replace(/^guest-/, ''),
      system: 'Test OS 1.0',
      arch: 'x86_64',
      filesystems: { ext4: { access: 'rw', driver: 'ext4.ko (CONFIG_EXT4_FS=m)' } },
      partitionTables: { gpt: { access: 'rw', driver: 'efi partition parser' } },
    },
  };
}

/** Writes a plugin folder and a config listing it; returns the manifest and config paths. */
function pluginWith(edit: (m: any) => void, manifestText?: string): { manifestFile: string; configFile: string } {
  const name = `guest-t${++serial}`;
  const dir = join(root, `case${serial}`);
  mkdirSync(join(dir, name), { recursive: true });
  const manifest = validManifest(name);
  edit(manifest);
  const manifestFile = join(dir, name, 'qemount.json');
  writeFileSync(manifestFile, manifestText ?? JSON.stringify(manifest, null, 2));
  writeFileSync(join(dir, name, 'package.json'), JSON.stringify({ name, type: 'module' }));
  writeFileSync(join(dir, name, 'index.js'), 'throw new Error("plugin code must not load while manifests are read");\n');
  const configFile = join(dir, 'qemount.config.json');
  writeFileSync(configFile, JSON.stringify({ plugins: [`./${name}`] }));
  return { manifestFile, configFile };
}

async function loadError(configFile: string): Promise<QemountError> {
  try {
    await Qemount.create({ file: configFile });
  } catch (error) {
    assert.instance(error, QemountError);
    return error as QemountError;
  }
  assert.unreachable(`${configFile}: Qemount.create accepted an invalid manifest`);
  throw new Error('unreachable');
}

async function expectInvalid(edit: (m: any) => void, lines: string[]): Promise<QemountError> {
  const { manifestFile, configFile } = pluginWith(edit);
  const error = await loadError(configFile);
  assert.is(error.code, 'E_MANIFEST_INVALID', error.message);
  assert.ok(error.message.includes(manifestFile), `the message names ${manifestFile}:\n${error.message}`);
  for (const line of lines) assert.ok(error.message.includes(line), `the message says ${JSON.stringify(line)}:\n${error.message}`);
  return error;
}

test('control: the valid test manifest loads, so the failures below come from the edits', async () => {
  const { configFile } = pluginWith(() => {});
  const core = await Qemount.create({ file: configFile });
  assert.is(core.guest('t' + serial).declaration.filesystems.ext4.access, 'rw');
});

test('a wrong value: access "yes" names /guest/filesystems/ext4/access and the allowed values', async () => {
  const error = await expectInvalid((m) => (m.guest.filesystems.ext4.access = 'yes'), [
    '/guest/filesystems/ext4/access: must be one of "rw", "ro" (got "yes")',
  ]);
  assert.match(error.hint ?? '', /plugin-manifest\.schema\.json/);
});

test('a wrong type and a wrong enum elsewhere: quality, arch, priority', async () => {
  await expectInvalid(
    (m) => {
      m.guest.filesystems.ext4.quality = 'great';
      m.guest.arch = 'sparc';
      m.guest.priority = 'high';
    },
    [
      '/guest/filesystems/ext4/quality: must be one of "stable", "partial", "experimental" (got "great")',
      '/guest/arch: must be one of "x86_64", "i386", "aarch64", "m68k", "ppc" (got "sparc")',
      '/guest/priority: must be integer (got "high")',
    ],
  );
});

test('a missing required field names its path: /guest/system, /guest/filesystems/ext4/driver, /entry', async () => {
  await expectInvalid((m) => delete m.guest.system, ['/guest/system: is required']);
  await expectInvalid((m) => delete m.guest.filesystems.ext4.driver, ['/guest/filesystems/ext4/driver: is required']);
  await expectInvalid((m) => delete m.entry, ['/entry: is required']);
});

test('a guest plugin without its "guest" section: /guest is required', async () => {
  const error = await expectInvalid((m) => delete m.guest, ['/guest: is required']);
  assert.not.match(error.message, /must match "then" schema/, 'the if/then wrapper is not repeated');
});

test('an unknown property names its path and says it is not allowed', async () => {
  await expectInvalid((m) => (m.guest.filesystems.ext4.colour = 'blue'), ['/guest/filesystems/ext4/colour: is not allowed here (unknown property)']);
  await expectInvalid((m) => (m.author = 'someone'), ['/author: is not allowed here (unknown property)']);
});

test('every problem of a manifest is reported at once', async () => {
  const error = await expectInvalid(
    (m) => {
      m.guest.filesystems.ext4.access = 'yes';
      delete m.guest.system;
      m.guest.extra = 1;
    },
    ['/guest/filesystems/ext4/access: must be one of "rw", "ro" (got "yes")', '/guest/system: is required', '/guest/extra: is not allowed here (unknown property)'],
  );
  assert.is(error.message.split('\n').length, 4, error.message);
});

test('an unknown filesystem id names /guest/filesystems/<id> and says it is not a catalogue id', async () => {
  await expectInvalid((m) => (m.guest.filesystems.ext5 = { access: 'rw', driver: 'x' }), [
    '/guest/filesystems/ext5: "ext5" is not a filesystem id of the catalogue',
  ]);
});

test('a catalogue alias used as an id is rejected with the id it stands for', async () => {
  await expectInvalid((m) => (m.guest.filesystems.openbfs = { access: 'ro', driver: 'x' }), [
    '/guest/filesystems/openbfs: "openbfs" is not a filesystem id of the catalogue (did you mean "befs"?)',
  ]);
});

test('an unknown partition-table id names /guest/partitionTables/<id>', async () => {
  const error = await expectInvalid((m) => (m.guest.partitionTables['no-such-table'] = { access: 'ro', driver: 'x' }), [
    '/guest/partitionTables/no-such-table: "no-such-table" is not a partition-table id of the catalogue',
  ]);
  assert.match(error.hint ?? '', /qemount formats/);
});

test('a manifest name that differs from its folder and package fails on /name', async () => {
  await expectInvalid((m) => (m.name = 'guest-other'), ['/name: must equal the plugin\'s folder and package name', '(got "guest-other")']);
});

test('a manifest that is not JSON fails with E_MANIFEST_INVALID naming the file', async () => {
  const { manifestFile, configFile } = pluginWith(() => {}, '{ "name": "oops", ');
  const error = await loadError(configFile);
  assert.is(error.code, 'E_MANIFEST_INVALID');
  assert.ok(error.message.includes(`cannot read plugin manifest ${manifestFile}`), error.message);
});

test.after(() => temp.cleanup());
test.run();
