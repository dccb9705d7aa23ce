// Regression: a read stream used to clunk its fid while read-ahead requests past the end of the
// file were still in flight; diod then read through a freed fid and crashed (1 run in 6 under
// `qemount cp -r`). The stream now waits for its requests before it clunks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { P9Fs } from '../../src/index.ts';
import { diodOnSocketPair } from './diod.ts';

const dir = mkdtempSync(join(tmpdir(), 'p9-clunk-'));
const files = new Map<string, Buffer>();
mkdirSync(join(dir, 'sub'));
for (let i = 0; i < 12; i++) {
  // Sizes around the 64 KiB request size, so streams end with reads past the end in flight.
  const data = Buffer.alloc(1000 + i * 37_000, i);
  const name = `${i % 2 ? 'sub/' : ''}f${i}.bin`;
  files.set(name, data);
  writeFileSync(join(dir, name), data);
}

test('streaming every file to its end, 40 connections in a row, never kills diod', async () => {
  for (let round = 0; round < 40; round++) {
    const diod = diodOnSocketPair({ exportDir: dir });
    const fs = await P9Fs.connect(diod.stream, { aname: dir });
    try {
      await Promise.all([...files].map(async ([name, want]) => {
        const chunks: Buffer[] = [];
        for await (const chunk of fs.createReadStream(`/${name}`)) chunks.push(chunk as Buffer);
        const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
        assert.is(sha(Buffer.concat(chunks)), sha(want), `round ${round}: ${name}`);
      }));
      // The server is still there and answers.
      assert.is((await fs.stat('/sub')).kind, 'directory');
    } finally {
      fs.close();
      await diod.stop();
    }
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
