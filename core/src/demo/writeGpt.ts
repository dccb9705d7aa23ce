// Writes a GPT (protective MBR, primary and backup headers and entry arrays) onto a disk image,
// for the built-in sample disk. 512-byte sectors, 128 entries.
import { randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import { crc32 } from '../detect/util.js';

export interface GptPartition {
  /** First and last sector, inclusive. */
  first: number;
  last: number;
  /** Partition type GUID. */
  type: string;
  name: string;
}

export const gptTypes = {
  linuxData: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
  microsoftData: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
};

/** A GUID as its mixed-endian on-disk bytes. */
function guidBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, '');
  const b = Buffer.from(hex, 'hex');
  return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
}

export async function writeGpt(path: string, diskSectors: number, partitions: GptPartition[]): Promise<void> {
  const entries = Buffer.alloc(128 * 128);
  partitions.forEach((p, i) => {
    const e = entries.subarray(i * 128, (i + 1) * 128);
    guidBytes(p.type).copy(e, 0);
    guidBytes(randomUUID()).copy(e, 16);
    e.writeBigUInt64LE(BigInt(p.first), 32);
    e.writeBigUInt64LE(BigInt(p.last), 40);
    e.write(p.name, 56, 72, 'utf16le');
  });
  const entriesCrc = crc32(entries);
  const diskGuid = guidBytes(randomUUID());
  const header = (current: number, backup: number, entriesAt: number): Buffer => {
    const h = Buffer.alloc(512);
    h.write('EFI PART', 0, 'latin1');
    h.writeUInt32LE(0x00010000, 8);
    h.writeUInt32LE(92, 12);
    h.writeBigUInt64LE(BigInt(current), 24);
    h.writeBigUInt64LE(BigInt(backup), 32);
    h.writeBigUInt64LE(34n, 40); // first usable
    h.writeBigUInt64LE(BigInt(diskSectors - 34), 48); // last usable
    diskGuid.copy(h, 56);
    h.writeBigUInt64LE(BigInt(entriesAt), 72);
    h.writeUInt32LE(128, 80);
    h.writeUInt32LE(128, 84);
    h.writeUInt32LE(entriesCrc, 88);
    h.writeUInt32LE(crc32(h.subarray(0, 92)), 16);
    return h;
  };
  const mbr = Buffer.alloc(512);
  mbr[446 + 4] = 0xee; // protective partition over the whole disk
  mbr.writeUInt32LE(1, 446 + 8);
  mbr.writeUInt32LE(Math.min(diskSectors - 1, 0xffffffff), 446 + 12);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  const file = await open(path, 'r+');
  try {
    await file.write(mbr, 0, 512, 0);
    await file.write(header(1, diskSectors - 1, 2), 0, 512, 512);
    await file.write(entries, 0, entries.length, 2 * 512);
    await file.write(entries, 0, entries.length, (diskSectors - 33) * 512);
    await file.write(header(diskSectors - 1, 1, diskSectors - 33), 0, 512, (diskSectors - 1) * 512);
  } finally {
    await file.close();
  }
}
