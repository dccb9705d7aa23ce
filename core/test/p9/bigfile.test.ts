// A 100 MiB file written and read through the API against diod, compared by sha256 with what the
// host holds; random-access reads of the same file; a read stream cut short by the server dying.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { P9Fs } from '../../src/p9/P9Fs.js';
import { diodOnSocketPair, rejection, tempDir, within, type Diod } from './diod.js';

const SIZE = 100 << 20;
const tmp = tempDir();
const root = tmp.dir;
const servers: Diod[] = [];
let fs: P9Fs;

async function mount() {
  const diod = diodOnSocketPair({ exportDir: root });
  servers.push(diod);
  return { fs: await within(5000, P9Fs.connect(diod.stream, { aname: root })), diod };
}

/** 100 MiB of a repeated random block, generated chunk by chunk (no 100 MiB buffer), hashed as it goes. */
function source(hash: ReturnType<typeof createHash>): Readable {
  const block = randomBytes(1 << 20);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= SIZE) return void this.push(null);
      // Vary each MiB so misplaced chunks change the hash.
      const chunk = Buffer.from(block);
      chunk.writeUInt32LE(sent >>> 20, 0);
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

async function sha256(stream: AsyncIterable<Buffer | string>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}

test.before(async () => {
  ({ fs } = await mount());
});

test.after(async () => {
  fs?.close();
  await Promise.all(servers.map((s) => s.stop()));
  tmp.remove();
});

test('writeFile of a 100 MiB stream, then createReadStream: sha256 equal to the source and the host file', async () => {
  const hashing = createHash('sha256');
  const t0 = Date.now();
  assert.is(await within(60_000, fs.writeFile('/big.bin', source(hashing)), 'write 100 MiB'), SIZE);
  const wrote = Date.now() - t0;
  const expected = hashing.digest('hex');
  assert.is(await sha256(createReadStream(join(root, 'big.bin'))), expected, 'the host sees exactly what was written');
  const t1 = Date.now();
  const got = await within(60_000, sha256(fs.createReadStream('/big.bin')), 'read 100 MiB');
  const read = Date.now() - t1;
  assert.is(got, expected, 'reading back through 9P gives the same bytes');
  console.log(`    100 MiB: write ${wrote} ms, read ${read} ms`);
});

test('random-access reads (open + read(offset, len)) match the host file', async () => {
  const host = readFileSync(join(root, 'big.bin'));
  const f = await fs.open('/big.bin');
  const offsets = [0, 1, 65511, 65512, 65513, (50 << 20) + 7, SIZE - 10, SIZE - 1];
  for (const offset of offsets) {
    const data = await f.read(offset, 200_000);
    assert.ok(data.equals(host.subarray(offset, offset + 200_000)), `offset ${offset}`);
  }
  // A range read spanning many Treads.
  const range = await f.read(3 << 20, 5 << 20);
  assert.ok(range.equals(host.subarray(3 << 20, 8 << 20)));
  await f.close();
});

test('createReadStream honours start/end like fs.createReadStream', async () => {
  const host = readFileSync(join(root, 'big.bin'));
  const chunks: Buffer[] = [];
  for await (const c of fs.createReadStream('/big.bin', { start: 1000, end: 300_000 })) chunks.push(c as Buffer);
  assert.ok(Buffer.concat(chunks).equals(host.subarray(1000, 300_001)));
});

test('P9File.write pipelines a 10 MiB buffer at an offset', async () => {
  const data = randomBytes(10 << 20);
  writeFileSync(join(root, 'patch.bin'), Buffer.alloc(1 << 20));
  const f = await fs.open('/patch.bin', 'r+');
  assert.is(await f.write(512 << 10, data), data.length);
  await f.close();
  const host = readFileSync(join(root, 'patch.bin'));
  assert.is(host.length, (512 << 10) + data.length);
  assert.ok(host.subarray(512 << 10).equals(data));
});

test('a read stream fails with EIO when the server dies mid-read', async () => {
  const { fs: other, diod } = await mount();
  const stream = other.createReadStream('/big.bin');
  let received = 0;
  const done = (async () => {
    for await (const chunk of stream) {
      received += (chunk as Buffer).length;
      if (received >= 4 << 20 && diod.process.exitCode === null) diod.process.kill('SIGKILL');
    }
  })();
  const error = await rejection(within(5000, done, 'stream after the server died'));
  assert.is(error.code, 'EIO');
  assert.ok(received < SIZE, 'the stream did not pretend to finish');
});

test.run();
