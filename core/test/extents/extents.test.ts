// Extent reads without a guest: filefrag's report as the host's own filefrag prints it, the
// layout's refusals (the guest is not trusted), reads through a layout over a real image file,
// and the control channel's tagged replies (a late reply is never taken for another's).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource } from '../../src/detect/BlockSource.js';
import { ExtentFile } from '../../src/extents/ExtentFile.js';
import { extentLayout, type ExtentLayout } from '../../src/extents/extentLayout.js';
import { parseFilefragReport, type FileExtents } from '../../src/extents/filefragReport.js';
import { encodePathWord } from '../../src/session/GuestSession.js';
import { withGuest } from '../session/fakeGuest.js';

const tmp = mkdtempSync(join(tmpdir(), 'qemount-extents-'));
const MiB = 1 << 20;

function filefrag(path: string): string[] {
  return execFileSync('/usr/sbin/filefrag', ['-e', '-b1', path], { encoding: 'utf8' }).split('\n');
}

test('the host filefrag report of a written, synced file parses to extents covering it', () => {
  const path = join(tmp, 'written.bin');
  const fd = openSync(path, 'w');
  writeSync(fd, randomBytes(3 * MiB + 123));
  fsyncSync(fd);
  closeSync(fd);
  const report = parseFilefragReport(filefrag(path));
  assert.is(report.size, 3 * MiB + 123);
  assert.ok(report.extents.length >= 1);
  let covered = 0;
  for (const e of report.extents) {
    assert.ok(e.length > 0 && e.physical > 0, JSON.stringify(e));
    covered += e.length;
  }
  assert.ok(covered >= report.size, `${covered} bytes of extents for ${report.size}`);
});

test('a report with the "expected" column, unknown locations and hex flags', () => {
  const report = parseFilefragReport([
    'Filesystem type is: ef53',
    'File size of /proc/self/fd/4 is 10485760 (10485760 blocks of 1 bytes)',
    ' ext:     logical_offset:        physical_offset: length:   expected: flags:',
    '   0:        0..    4095:      40960..     45055:   4096:             ',
    '   1:  4997120.. 5001215: 34473787392..34473791487:   4096:      45056: unwritten',
    '   2:  5001216.. 6049791:          0..         0:      0:             unknown_loc,delalloc',
    '   3:  6049792.. 6053887:     909312..    913407:   4096:             last,0x8000,eof',
    '/proc/self/fd/4: 4 extents found',
  ]);
  assert.is(report.size, 10485760);
  assert.equal(report.extents.map((e) => e.flags), [[], ['unwritten'], ['unknown_loc', 'delalloc'], ['last', '0x8000', 'eof']]);
  assert.equal(report.extents[1], { logical: 4997120, physical: 34473787392, length: 4096, flags: ['unwritten'] });
  assert.throws(() => parseFilefragReport(['   0:        0..    4095:      40960..     45055:   4096:']), /file size/);
  assert.throws(() => parseFilefragReport(['File size of x is 5 (4096 block of 1 bytes)', '   0:        0..    4095:      40960..     45000:   4096:']), /inconsistent/);
  assert.throws(() => parseFilefragReport(['File size of x is 5 (4096 block of 1 bytes)', '   0:        0..    garbage']), /unreadable/);
});

const report = (size: number, extents: [number, number, number, string?][]): FileExtents => ({
  size, extents: extents.map(([logical, physical, length, flags]) => ({ logical, physical, length, flags: flags ? flags.split(',') : [] })),
});
const limits = { fileSize: 10 * MiB, deviceSize: 64 * MiB, allocated: MiB };

test('layout: holes and unwritten extents read as zeros; extents past the end of the file are cut', () => {
  const result = extentLayout(report(10 * MiB, [[0, 8 * MiB, MiB], [2 * MiB, 20 * MiB, MiB, 'unwritten'], [3 * MiB, 30 * MiB, 8 * MiB, 'last,eof']]), limits);
  assert.ok('layout' in result);
  const { layout } = result as { layout: ExtentLayout };
  assert.equal(layout.segments, [
    { start: 0, end: MiB, physical: 8 * MiB },
    { start: MiB, end: 3 * MiB },
    { start: 3 * MiB, end: 10 * MiB, physical: 30 * MiB },
  ]);
  assert.is(layout.mapped, 2);
  assert.is(layout.zeroBytes, 2 * MiB);
});

test('layout refuses what does not prove where every byte is', () => {
  const refused = (r: FileExtents, l = limits) => {
    const result = extentLayout(r, l);
    return 'refused' in result ? result.refused : 'accepted';
  };
  for (const flag of ['unknown_loc', 'delalloc', 'encoded', 'encrypted', 'not_aligned', 'inline', 'tail_packed', '0x2000']) {
    assert.match(refused(report(10 * MiB, [[0, 0, MiB, flag]])), flag);
  }
  assert.match(refused(report(5, [[0, MiB, 4096]])), /guest sees 5 bytes/);
  assert.match(refused(report(10 * MiB, [[0, 63 * MiB, 2 * MiB]])), /outside the partition/);
  assert.match(refused(report(10 * MiB, [[0, 0, 2 * MiB], [MiB, 4 * MiB, MiB]])), /overlap/);
  assert.match(refused(report(10 * MiB, [])), /allocated blocks/);
  assert.is(refused(report(10 * MiB, []), { ...limits, allocated: 0 }), 'accepted'); // all hole
});

test('an ExtentFile reads the file its layout describes, from a partition of an image file', async () => {
  // A 4 MiB "disk" whose partition starts at 1 MiB; the file's pieces lie in it out of order.
  const disk = randomBytes(4 * MiB);
  const image = join(tmp, 'disk.img');
  writeFileSync(image, disk);
  const partition = { offset: MiB, size: 3 * MiB };
  const size = 700_000;
  const result = extentLayout(report(size, [[0, 2 * MiB, 100_000], [200_000, 4096, 300_000, 'unwritten'], [500_000, 1_000_000, 250_000]]), { fileSize: size, deviceSize: partition.size, allocated: 1 });
  const { layout } = result as { layout: ExtentLayout };
  const expected = Buffer.alloc(size);
  disk.copy(expected, 0, MiB + 2 * MiB, MiB + 2 * MiB + 100_000);
  disk.copy(expected, 500_000, MiB + 1_000_000, MiB + 1_000_000 + 200_000);
  const source = await FileSource.open(image);
  try {
    const file = new ExtentFile('/f', layout, source, partition);
    assert.ok((await file.read(0, size + 5000)).equals(expected), 'whole file');
    for (const [at, length] of [[0, 1], [99_999, 2], [150_000, 100_000], [499_000, 131_072], [size - 10, 4096], [size, 10]]) {
      assert.ok((await file.read(at, length)).equals(expected.subarray(at, Math.min(at + length, size))), `read ${at}+${length}`);
    }
    // A layout that lies about the partition is caught at read time too.
    const lying = new ExtentFile('/g', { size: 10, segments: [{ start: 0, end: 10, physical: partition.size - 5 }], mapped: 1, zeroBytes: 0 }, source, partition);
    await lying.read(0, 10).then(() => assert.unreachable('read outside the partition'), (e: Error) => assert.match(e.message, /outside the partition/));
  } finally {
    await source.close();
  }
});

test('paths become one protocol word', () => {
  assert.is(encodePathWord('/a dir/é x%.bin'), '/a%20dir/%C3%A9%20x%25.bin');
  assert.is(encodePathWord('/plain-name_1.txt'), '/plain-name_1.txt');
});

test('control channel: a query collects its tagged lines; a late reply is dropped, not taken for the next', () =>
  withGuest(async (channel, guest, received) => {
    await channel.query('EXTENTS', ['/slow'], 100).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /did not answer EXTENTS/));
    const next = channel.query('EXTENTS', ['/fast'], 2000);
    const synced = channel.command('SYNC', 2000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(received, ['EXTENTS 1 /slow', 'EXTENTS 2 /fast', 'SYNC']);
    // The first query's answer comes late, then the second's, with an OK for SYNC in between.
    guest.write('REPLY 1 File size of x is 1 (1 block of 1 bytes)\nREPLY 1 END 0\nREPLY 2 File size of y is 2 (\nOK synced\nREPLY 2 line two\nREPLY 2 END 0\n');
    assert.equal(await next, { status: '0', lines: ['File size of y is 2 (', 'line two'] });
    assert.equal(await synced, { text: 'synced' });
    // A guest whose init predates the command refuses it untagged: the query fails at once, and
    // the refusal is not left for the next command to take as its answer.
    const unknown = channel.query('EXTENTS', ['/old'], 2000);
    const after = channel.command('SYNC', 2000);
    await new Promise((r) => setTimeout(r, 50));
    guest.write('ERR unknown command EXTENTS\nOK synced\n');
    await unknown.then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /does not know the EXTENTS command/));
    assert.equal(await after, { text: 'synced' });
  }));

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
