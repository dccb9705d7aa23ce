// The built-in sample for `qemount demo`: an 80 MiB GPT disk with a FAT32 partition and a larger
// ext4 one (so the ext4 one is what a plain mount picks), each holding a few files, made with
// Debian's mkfs tools.
import { execa } from 'execa';
import { mkdtemp, mkdir, open, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QemountError } from '../QemountError.js';
import { gptTypes, writeGpt } from './writeGpt.js';

const MiB = 1024 * 1024;
const sector = 512;

async function tool(command: string, args: string[], pkg: string): Promise<void> {
  const run = await execa(command, args, { reject: false, all: true });
  if (run.exitCode === 0) return;
  const missing = (run as { code?: string }).code === 'ENOENT' || /ENOENT|not found/.test(String(run.all ?? ''));
  throw new QemountError('E_DEMO_TOOL', missing ? `the sample disk needs ${command}, which is not installed` : `${command} failed: ${String(run.all).trim()}`, {
    hint: missing ? `sudo apt-get install ${pkg}` : undefined,
  });
}

async function copyInto(image: string, offsetBytes: number, source: string): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const data = await readFile(source);
  const file = await open(image, 'r+');
  await file.write(data, 0, data.length, offsetBytes);
  await file.close();
}

/** Writes the sample disk to `path` and returns what each partition holds. */
export async function makeSampleDisk(path: string): Promise<{ partitions: { index: number; fs: string; files: string[] }[] }> {
  const work = await mkdtemp(join(tmpdir(), 'qemount-sample-'));
  try {
    const ext4Tree = join(work, 'ext4');
    await mkdir(join(ext4Tree, 'docs'), { recursive: true });
    await writeFile(join(ext4Tree, 'hello.txt'), 'Hello from an ext4 partition, read by a Linux guest over 9P.\n');
    await writeFile(join(ext4Tree, 'docs', 'notes.md'), '# qemount sample\n\nThis disk has a GPT with two partitions: FAT32 and ext4.\n');
    await symlink('docs/notes.md', join(ext4Tree, 'notes-link'));
    const fatFile = join(work, 'readme.txt');
    await writeFile(fatFile, 'This file lives on the FAT32 partition.\n');

    const fat = join(work, 'fat.img');
    const ext4 = join(work, 'ext4.img');
    await tool('mkfs.fat', ['-F', '32', '-n', 'SAMPLEFAT', '-C', fat, String((33 * MiB) / 1024)], 'dosfstools');
    await tool('mcopy', ['-i', fat, fatFile, '::/readme.txt'], 'mtools');
    await tool('mke2fs', ['-q', '-t', 'ext4', '-L', 'sample-ext4', '-d', ext4Tree, ext4, `${40 * 1024}k`], 'e2fsprogs');

    const diskSectors = (80 * MiB) / sector;
    const fatStart = MiB / sector;
    const extStart = 35 * (MiB / sector);
    await writeFile(path, '');
    await truncate(path, 80 * MiB);
    await writeGpt(path, diskSectors, [
      { first: fatStart, last: fatStart + (33 * MiB) / sector - 1, type: gptTypes.microsoftData, name: 'sample FAT32' },
      { first: extStart, last: extStart + (40 * MiB) / sector - 1, type: gptTypes.linuxData, name: 'sample ext4' },
    ]);
    await copyInto(path, fatStart * sector, fat);
    await copyInto(path, extStart * sector, ext4);
    return {
      partitions: [
        { index: 1, fs: 'fat32', files: ['readme.txt'] },
        { index: 2, fs: 'ext4', files: ['hello.txt', 'docs/notes.md', 'notes-link'] },
      ],
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
