// Pulls the uncompressed ELF vmlinux out of a bzImage, as the kernel's scripts/extract-vmlinux
// does: find a compressed stream by its magic, decompress it, keep it if it is an ELF file.
// The ELF has a PVH entry, so qemu boots it directly and skips decompression (~2.5 s under TCG).
import { spawn } from 'node:child_process';
import { open, readFile, rm } from 'node:fs/promises';

const decoders: { magic: Buffer; command: string[] }[] = [
  { magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), command: ['xz', '-dc'] },
  { magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), command: ['zstd', '-dc'] },
  { magic: Buffer.from([0x1f, 0x8b, 0x08]), command: ['gzip', '-dc'] },
  { magic: Buffer.from([0x02, 0x21, 0x4c, 0x18]), command: ['lz4', '-dc'] },
];

/** Decompresses `input` into the file `out` (streamed: the kernel is ~70 MB). */
async function decompressTo(command: string[], input: Buffer, out: string): Promise<void> {
  const file = await open(out, 'w');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(command[0], command.slice(1), { stdio: ['pipe', file.fd, 'ignore'] });
      child.on('error', reject);
      // Trailing bytes after the stream make decoders exit non-zero; the output is still whole.
      child.on('close', () => resolve());
      child.stdin!.on('error', () => {});
      child.stdin!.end(input);
    });
  } finally {
    await file.close();
  }
}

export async function extractVmlinux(bzImagePath: string, out: string): Promise<void> {
  const bzImage = await readFile(bzImagePath);
  for (const { magic, command } of decoders) {
    for (let at = bzImage.indexOf(magic); at >= 0; at = bzImage.indexOf(magic, at + 1)) {
      await decompressTo(command, bzImage.subarray(at), out);
      const head = Buffer.alloc(4);
      const file = await open(out, 'r');
      await file.read(head, 0, 4, 0);
      await file.close();
      if (head.readUInt32BE(0) === 0x7f454c46) return;
    }
  }
  await rm(out, { force: true });
  throw new Error(`no compressed ELF kernel found inside ${bzImagePath}`);
}
