// Every generated test image detects as what it is, and every container form of the gpt image
// detects the same inner tree as the raw image.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectImage } from '../../src/detect/detect.ts';
import type { DetectedDisk, DetectedTable } from '../../src/detect/types.ts';
import { buildAll, corpus, type Recipe } from '../../../test/images/corpus.ts';

const paths = new Map<string, string>();
const built = await buildAll();
for (const [name, result] of built) {
  if (result instanceof Error) throw new Error(`test image ${name} could not be built: ${result.message}`);
  paths.set(name, result);
}

function partitionFs(table: DetectedTable, index: number): string[] | undefined {
  const p = table.partitions.find((x) => x.index === index);
  return p && [...p.filesystems.map((f) => f.type), ...(p.table ? p.table.partitions.flatMap((q) => q.filesystems.map((f) => f.type)) : [])].filter((v, i, a) => a.indexOf(v) === i);
}

function check(recipe: Recipe, disk: DetectedDisk): void {
  const e = recipe.expect;
  assert.is(disk.container.format, e.container ?? 'raw', 'container');
  assert.equal(disk.filesystems.map((f) => f.type), e.fs ?? [], 'whole-disk filesystems');
  assert.is(disk.tables[0]?.type, e.table, 'partition table');
  for (const [index, types] of Object.entries(e.partitions ?? {})) {
    assert.equal(partitionFs(disk.tables[0], Number(index)), types, `filesystems of partition ${index}`);
  }
  const main = disk.filesystems[0];
  if (e.label) assert.is(main?.label ?? disk.tables[0]?.partitions.flatMap((p) => p.filesystems)[0]?.label, e.label, 'label');
  if (e.uuid) assert.is(main?.uuid, e.uuid, 'uuid');
}

for (const recipe of corpus.values()) {
  test(`${recipe.name}: ${recipe.description}`, async () => {
    check(recipe, await detectImage(paths.get(recipe.name)!));
  });
}

const strip = (d: DetectedDisk) => JSON.stringify({ tables: d.tables, filesystems: d.filesystems });

test('every container form of the gpt image detects the same inner tree', async () => {
  const raw = strip(await detectImage(paths.get('gpt')!));
  const forms = [...corpus.values()].filter((r) => r.kind === 'container');
  assert.ok(forms.length >= 10);
  for (const r of forms) assert.is(strip(await detectImage(paths.get(r.name)!)), raw, r.name);
});

test('the damaged primary GPT header is reported, and the hybrid MBR is noted', async () => {
  const backup = await detectImage(paths.get('gpt-backup')!);
  assert.match(backup.tables[0].notes!.join('\n'), /backup header was used/);
  const hybrid = await detectImage(paths.get('hybrid-mbr')!);
  assert.match(hybrid.tables[0].notes!.join('\n'), /hybrid MBR/);
});

test('details: ext features, FAT by cluster count, ISO extensions, UFS byte order, squashfs compressor, HFS+ label', async () => {
  const d = async (n: string) => (await detectImage(paths.get(n)!)).filesystems[0];
  assert.match(String((await d('ext4')).details!.features), /extent/);
  assert.ok(Number((await d('fat12')).details!.clusters) < 4085);
  assert.ok(Number((await d('fat32')).details!.clusters) >= 65525);
  const iso = await d('iso9660');
  assert.is(iso.details!.joliet, true);
  assert.is(iso.details!.rockRidge, true);
  assert.is((await d('iso9660-plain')).details!.rockRidge, false);
  assert.is((await d('ufs1-be')).details!.byteOrder, 'big-endian');
  assert.is((await d('ufs2-le')).details!.byteOrder, 'little-endian');
  for (const c of ['gzip', 'xz', 'zstd', 'lz4', 'lzo']) assert.is((await d(`squashfs-${c}`)).details!.compressor, c);
  const hp = await detectImage(paths.get('iso-hfsplus')!);
  assert.is(hp.tables[0].partitions.find((p) => p.index === 3)!.filesystems[0].label, 'QEMOUNT_HFSP');
  const minix = await Promise.all(['minix1', 'minix2', 'minix3'].map(d));
  assert.equal(minix.map((m) => m.version), ['1', '2', '3']);
  const luks = await Promise.all(['luks1', 'luks2'].map(d));
  assert.equal(luks.map((m) => m.version), ['1', '2']);
});

test('partitions: MBR logical 5 and GPT 2 are where the filled filesystems are, with names and types', async () => {
  const mbr = await detectImage(paths.get('mbr')!);
  const p5 = mbr.tables[0].partitions.find((p) => p.index === 5)!;
  assert.ok(p5.flags!.includes('logical'));
  assert.is(p5.filesystems[0].offset, p5.start);
  const gpt = await detectImage(paths.get('gpt')!);
  const p2 = gpt.tables[0].partitions.find((p) => p.index === 2)!;
  assert.is(p2.name, 'linux data');
  assert.is(p2.typeName, 'Linux filesystem');
  assert.is(p2.start, 34816 * 512);
  const nested = await detectImage(paths.get('mbr-bsd')!);
  assert.is(nested.tables[0].partitions[0].table?.type, 'bsd');
  assert.is(nested.tables[0].partitions[0].table?.partitions[0].start, 2048 * 512);
  const minix = await detectImage(paths.get('minix-sub')!);
  assert.is(minix.tables[0].partitions[0].table?.type, 'minix');
  assert.equal(minix.tables[0].partitions[0].table?.partitions.map((p) => p.start), [4096 * 512, 20480 * 512]);
});

test('the 64 MiB gpt image is detected in under 100 ms (library call, warm)', async () => {
  const path = paths.get('gpt')!;
  await detectImage(path);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await detectImage(path);
    times.push(performance.now() - t);
  }
  const median = times.sort((a, b) => a - b)[2];
  assert.ok(median < 100, `median ${median.toFixed(1)} ms`);
});

test.run();
