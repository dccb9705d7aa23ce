// Formats detected by the catalogue's magic rules (data), on synthetic images: each magic placed
// in an otherwise empty 4 MiB file must be found, as the only answer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalogue } from '../../src/catalogue/Catalogue.ts';
import { detectImage } from '../../src/detect/detect.ts';

const catalogue = await Catalogue.load();
const magic = catalogue.list('fs').filter((f) => f.magic?.length).map((f) => ({ id: f.id, magic: f.magic! }));
const dir = mkdtempSync(join(tmpdir(), 'qemount-magic-'));

test('the catalogue carries magic rules for the formats without code', () => {
  assert.ok(magic.length >= 10, `${magic.length} formats with magic`);
});

for (const format of magic) {
  format.magic.forEach((rule, i) => {
    test(`${format.id}: rule ${i + 1} is detected`, async () => {
      const image = Buffer.alloc(4 << 20);
      for (const check of rule.checks) {
        const bytes = check.hex !== undefined ? Buffer.from(check.hex, 'hex') : Buffer.from(check.string!, 'latin1');
        bytes.copy(image, check.offset);
      }
      const path = join(dir, `${format.id}-${i}.img`);
      writeFileSync(path, image);
      const disk = await detectImage(path, { magic });
      assert.equal(disk.filesystems.map((f) => f.type), [format.id]);
      assert.is(disk.tables.length, 0);
    });
  });
}

test('an HFS wrapper around HFS+ is reported as HFS+ with the wrapper noted', async () => {
  const image = Buffer.alloc(4 << 20);
  // HFS master directory block at 1024: 'BD', allocation block size 4096, first block at sector 16,
  // embedded volume signature 'H+' starting at allocation block 2.
  image.write('BD', 1024, 'latin1');
  image.writeUInt32BE(4096, 1024 + 20);
  image.writeUInt16BE(16, 1024 + 28);
  image.write('H+', 1024 + 124, 'latin1');
  image.writeUInt16BE(2, 1024 + 126);
  image.writeUInt16BE(256, 1024 + 128);
  const embedded = 16 * 512 + 2 * 4096;
  image.write('H+', embedded + 1024, 'latin1');
  image.writeUInt16BE(4, embedded + 1026);
  image.writeUInt32BE(4096, embedded + 1024 + 40);
  image.writeUInt32BE(256, embedded + 1024 + 44);
  const path = join(dir, 'wrapper.img');
  writeFileSync(path, image);
  const [fs] = (await detectImage(path)).filesystems;
  assert.is(fs.type, 'hfsplus');
  assert.is(fs.details!.wrapper, 'HFS');
  assert.is(fs.details!.embeddedOffset, embedded);
  assert.is(fs.size, 256 * 4096);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
