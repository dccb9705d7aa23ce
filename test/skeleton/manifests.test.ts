// Issue 2, acceptance 1: the built-in manifests are valid and use only catalogue ids; the
// catalogue holds every format the issue lists; guest-linux-6's declarations have the right shape.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { Qemount } from '../../core/src/Qemount.ts';
import { resolveConfig } from '../../core/src/config/loadConfig.ts';
import { builtinManifests, catalogueDir, catalogueFormats, readJson, schemasDir, pluginsDir } from './helpers.ts';

const issueFilesystems = `ext2 ext3 ext4 fat12 fat16 fat32 exfat ntfs iso9660 udf hfs hfsplus ufs1 ufs2 lfs xfs jfs btrfs f2fs
  bcachefs erofs reiserfs affs amiga-sfs amiga-pfs minix v7 sysv squashfs cramfs romfs efs befs hpfs qnx4 qnx6 adfs filecore
  vxfs omfs nilfs2 gfs2 ocfs2 coda bfs zfs apfs refs hammer2 jffs2 ubifs highsierra`.split(/\s+/);
const issueTables = `mbr gpt bsd apm rdb atari sun sgi ldm minix ubi acorn aix ultrix sysv68 ibm-dasd pc98 karma osf lif qnx4
  plan9 netware hybrid-mbr protective-mbr openbsd disklabel64 next cpm86`.split(/\s+/);

const ajv = new Ajv({ allErrors: true, strict: false });
const manifestSchema = ajv.compile<any>(readJson(join(schemasDir, 'plugin-manifest.schema.json')));
const catalogueSchema = ajv.compile<any>(readJson(join(schemasDir, 'catalogue.schema.json')));
const manifests = builtinManifests();
const fsIds = new Set(catalogueFormats('fs').map((f) => f.id));
const ptIds = new Set(catalogueFormats('pt').map((f) => f.id));

test('the built-in plugins are the six the design names', () => {
  assert.equal(
    manifests.map((m) => m.folder),
    ['frontend-fuse', 'guest-linux-2', 'guest-linux-6', 'guest-netbsd', 'transport-tcp', 'transport-unix'],
  );
  for (const { folder, manifest } of manifests) {
    assert.is(manifest.name, folder, `${folder}: manifest name equals its folder`);
    assert.is(readJson(join(pluginsDir, folder, 'package.json')).name, folder, `${folder}: package name equals its folder`);
    assert.ok(manifest[manifest.kind], `${folder}: has its "${manifest.kind}" section`);
  }
});

test('every built-in manifest validates against registry/schemas/plugin-manifest.schema.json', () => {
  for (const { file, manifest } of manifests) {
    const ok = manifestSchema(structuredClone(manifest));
    assert.ok(ok, `${file}: ${ajv.errorsText(manifestSchema.errors)}`);
  }
});

test('every fs and partition-table id a guest declares exists in registry/catalogue', () => {
  let checked = 0;
  for (const { file, manifest } of manifests.filter((m) => m.manifest.kind === 'guest')) {
    const fsUnknown = Object.keys(manifest.guest.filesystems).filter((id) => !fsIds.has(id));
    const ptUnknown = Object.keys(manifest.guest.partitionTables).filter((id) => !ptIds.has(id));
    assert.equal(fsUnknown, [], `${file}: filesystems not in the catalogue`);
    assert.equal(ptUnknown, [], `${file}: partition tables not in the catalogue`);
    checked += Object.keys(manifest.guest.filesystems).length + Object.keys(manifest.guest.partitionTables).length;
  }
  assert.ok(checked > 100, `checked ${checked} ids`);
});

test('the real loader (Qemount.create) accepts every built-in manifest and keeps what they declare', async () => {
  const core = await Qemount.create({ config: resolveConfig({}) });
  assert.equal([...core.plugins.keys()].sort(), manifests.map((m) => m.folder));
  for (const { folder, manifest } of manifests) {
    const record = core.plugins.get(folder)!;
    assert.is(record.source, 'built-in');
    assert.is(record.manifestFile, join(pluginsDir, folder, 'qemount.json'));
    assert.is(record.manifest.kind, manifest.kind);
  }
  assert.equal(core.guests().map((g) => g.id).sort(), ['linux-2', 'linux-6', 'netbsd']);
  for (const { manifest } of manifests.filter((m) => m.manifest.kind === 'guest')) {
    const loaded = core.guest(manifest.guest.id).declaration;
    assert.equal(Object.keys(loaded.filesystems).sort(), Object.keys(manifest.guest.filesystems).sort());
    assert.equal(Object.keys(loaded.partitionTables).sort(), Object.keys(manifest.guest.partitionTables).sort());
    for (const [id, support] of Object.entries<any>(manifest.guest.filesystems)) {
      assert.is(loaded.filesystems[id].access, support.access, `${manifest.guest.id} ${id}`);
      assert.is(loaded.filesystems[id].driver, support.driver, `${manifest.guest.id} ${id}`);
      // Schema defaults are filled in by the loader.
      assert.is(loaded.filesystems[id].quality, support.quality ?? 'stable');
      assert.is(loaded.filesystems[id].tested, support.tested ?? false);
    }
    // Every declared id is one the loaded catalogue knows, too.
    for (const id of Object.keys(loaded.filesystems)) assert.ok(core.catalogue.has('fs', id), id);
    for (const id of Object.keys(loaded.partitionTables)) assert.ok(core.catalogue.has('pt', id), id);
  }
  assert.is(core.transportPlugin('unix').name, 'transport-unix');
  assert.is(core.transportPlugin('tcp').name, 'transport-tcp');
  assert.is(core.frontendPlugin('fuse').name, 'frontend-fuse');
});

test('the catalogue files validate against catalogue.schema.json and have unique ids', () => {
  for (const [kind, file] of [['fs', 'filesystems.json'], ['pt', 'partition-tables.json'], ['container', 'containers.json']] as const) {
    const data: any = readJson(join(catalogueDir, file));
    assert.ok(catalogueSchema(data), `${file}: ${ajv.errorsText(catalogueSchema.errors)}`);
    assert.is(data.kind, kind);
    const ids = data.formats.map((f: any) => f.id);
    assert.is(new Set(ids).size, ids.length, `${file}: duplicate ids`);
  }
});

test('the catalogue holds every filesystem of the issue, each with id, name, description, origin', () => {
  assert.is(issueFilesystems.length, 52); // the issue's list, as typed above
  const byId = new Map(catalogueFormats('fs').map((f) => [f.id, f]));
  const missing = issueFilesystems.filter((id) => !byId.has(id));
  assert.equal(missing, [], 'filesystems missing from registry/catalogue/filesystems.json');
  for (const id of issueFilesystems) {
    const f = byId.get(id)!;
    for (const field of ['id', 'name', 'description', 'origin']) {
      assert.type(f[field], 'string', `${id}.${field}`);
      assert.ok(f[field].trim().length > 0, `${id}.${field} is empty`);
    }
  }
});

test('the catalogue holds every partition table of the issue, each with id, name, description, origin', () => {
  assert.is(issueTables.length, 29);
  const byId = new Map(catalogueFormats('pt').map((f) => [f.id, f]));
  const missing = issueTables.filter((id) => !byId.has(id));
  assert.equal(missing, [], 'partition tables missing from registry/catalogue/partition-tables.json');
  for (const id of issueTables) {
    const f = byId.get(id)!;
    for (const field of ['id', 'name', 'description', 'origin']) {
      assert.type(f[field], 'string', `${id}.${field}`);
      assert.ok(f[field].trim().length > 0, `${id}.${field} is empty`);
    }
  }
});

const linux6 = manifests.find((m) => m.folder === 'guest-linux-6')!.manifest.guest;

test('guest-linux-6 declares at least 35 filesystems', () => {
  const count = Object.keys(linux6.filesystems).length;
  assert.ok(count >= 35, `linux-6 declares ${count}`);
});

test("each linux-6 driver names a module file, a built-in kernel option or a helper, in a well-formed way", () => {
  const ko = /\b([a-z0-9_-]+)\.ko\b/g;
  const option = /\bCONFIG_[A-Z0-9_]+\b/g;
  for (const [id, support] of Object.entries<any>(linux6.filesystems)) {
    const driver: string = support.driver;
    const modules = [...driver.matchAll(ko)].map((m) => m[1]);
    const options = driver.match(option) ?? [];
    const helper: string | undefined = support.helper;
    assert.ok(modules.length || options.length || helper, `${id}: driver "${driver}" names no .ko, no CONFIG_ option and no helper`);
    if (helper) assert.ok(driver.includes(helper), `${id}: driver "${driver}" names its helper ${helper}`);
    // Every CONFIG_ mention says how it is set: =m, =y, or "is not set".
    for (const m of driver.matchAll(/\bCONFIG_[A-Z0-9_]+(=[a-z]+| is not set)?/g)) {
      assert.ok(m[1] === '=m' || m[1] === '=y' || m[1] === ' is not set', `${id}: "${m[0]}" in "${driver}" should read CONFIG_X=m, CONFIG_X=y or CONFIG_X is not set`);
    }
    // A module named as the driver (the first .ko) is one the guest loads.
    if (modules.length) {
      const loads = (support.modules ?? []).map((m: string) => m.replace(/-/g, '_'));
      assert.ok(loads.includes(modules[0].replace(/-/g, '_')), `${id}: driver ${modules[0]}.ko is not in modules ${JSON.stringify(support.modules)}`);
    }
    // Module names are plain names, not file names or paths.
    for (const name of support.modules ?? []) assert.match(name, /^[a-z0-9_-]+$/, `${id}: module "${name}"`);
  }
});

test.run();
