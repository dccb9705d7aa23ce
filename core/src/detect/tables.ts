// Partition tables: each prober reads a disk (or a slice) and returns the table with its
// partitions, or undefined. Filesystems inside the partitions are found later by detect.ts.
import type { Reader } from './BlockSource.js';
import type { DetectedPartition, DetectedTable } from './types.js';
import { cstr, crc32, guid, isZero, u64le, utf16 } from './util.js';

export interface TableContext {
  /** Absolute offset of the reader's window on the virtual disk. */
  base: number;
  /** true when a filesystem prober recognises something at this absolute offset (for PC-98 geometry). */
  hasFilesystem(absoluteOffset: number): Promise<boolean>;
}

function part(index: number, start: number, size: number, extra: Partial<DetectedPartition> = {}): DetectedPartition {
  return { index, start, size, filesystems: [], ...extra };
}

// ---------------------------------------------------------------------------------------------
// MBR

export const mbrTypes: Record<number, string> = {
  0x01: 'FAT12', 0x04: 'FAT16 <32M', 0x05: 'Extended', 0x06: 'FAT16', 0x07: 'HPFS/NTFS/exFAT', 0x0b: 'W95 FAT32',
  0x0c: 'W95 FAT32 (LBA)', 0x0e: 'W95 FAT16 (LBA)', 0x0f: 'W95 Extended (LBA)', 0x11: 'Hidden FAT12', 0x14: 'Hidden FAT16 <32M',
  0x16: 'Hidden FAT16', 0x17: 'Hidden HPFS/NTFS', 0x1b: 'Hidden W95 FAT32', 0x1c: 'Hidden W95 FAT32 (LBA)', 0x1e: 'Hidden W95 FAT16 (LBA)',
  0x27: 'Hidden NTFS WinRE', 0x39: 'Plan 9', 0x3c: 'PartitionMagic recovery', 0x42: 'SFS / Windows LDM', 0x4d: 'QNX4.x', 0x4e: 'QNX4.x 2nd part',
  0x4f: 'QNX4.x 3rd part', 0x52: 'CP/M', 0x63: 'GNU HURD or SysV', 0x64: 'Novell Netware 286', 0x65: 'Novell Netware 386',
  0x80: 'Old Minix', 0x81: 'Minix / old Linux', 0x82: 'Linux swap / Solaris', 0x83: 'Linux', 0x85: 'Linux extended', 0x86: 'NTFS volume set',
  0x87: 'NTFS volume set', 0x88: 'Linux plaintext', 0x8e: 'Linux LVM', 0x93: 'Amoeba', 0x9f: 'BSD/OS', 0xa5: 'FreeBSD', 0xa6: 'OpenBSD',
  0xa8: 'Darwin UFS', 0xa9: 'NetBSD', 0xab: 'Darwin boot', 0xaf: 'HFS / HFS+', 0xb7: 'BSDI fs', 0xbe: 'Solaris boot', 0xbf: 'Solaris',
  0xcd: 'ISO 9660 (hybrid)', 0xda: 'Non-FS data', 0xdb: 'CP/M / CTOS', 0xde: 'Dell Utility', 0xeb: 'BeOS fs', 0xee: 'GPT protective',
  0xef: 'EFI (FAT-12/16/32)', 0xf2: 'DOS secondary', 0xfb: 'VMware VMFS', 0xfc: 'VMware VMKCORE', 0xfd: 'Linux raid autodetect',
};

const isExtended = (type: number) => type === 0x05 || type === 0x0f || type === 0x85;

/** A FAT/NTFS/exFAT boot sector also ends in 55 AA; it is not a partition table. */
export function looksLikeBootSector(s: Buffer): boolean {
  const oem = s.toString('latin1', 3, 11);
  if (oem === 'NTFS    ' || oem === 'EXFAT   ' || oem === '-FVE-FS-') return true;
  if (s[0] !== 0xeb && s[0] !== 0xe9) return false;
  const bps = s.readUInt16LE(11);
  const spc = s[13];
  const valid = [512, 1024, 2048, 4096].includes(bps) && spc > 0 && (spc & (spc - 1)) === 0 && s.readUInt16LE(14) > 0 && (s[16] === 1 || s[16] === 2);
  if (!valid) return false;
  // A boot sector with a BPB: a partition table would have sane entries instead.
  return s.toString('latin1', 0x36, 0x39) === 'FAT' || s.toString('latin1', 0x52, 0x55) === 'FAT' || s.readUInt16LE(0x16) > 0;
}

interface MbrEntry {
  slot: number;
  boot: number;
  type: number;
  start: number;
  sectors: number;
}

function mbrEntries(s: Buffer): MbrEntry[] | undefined {
  if (s[510] !== 0x55 || s[511] !== 0xaa) return undefined;
  const entries: MbrEntry[] = [];
  for (let i = 0; i < 4; i++) {
    const o = 446 + i * 16;
    const boot = s[o];
    if (boot !== 0 && boot !== 0x80) return undefined;
    entries.push({ slot: i, boot, type: s[o + 4], start: s.readUInt32LE(o + 8), sectors: s.readUInt32LE(o + 12) });
  }
  return entries;
}

export async function probeMbr(r: Reader, ctx: TableContext): Promise<DetectedTable | undefined> {
  const s = await r.bytes(0, 512);
  const entries = mbrEntries(s);
  if (!entries || looksLikeBootSector(s)) return undefined;
  const used = entries.filter((e) => e.type !== 0 && e.sectors > 0);
  if (used.some((e) => e.type === 0xee)) return undefined; // GPT's business
  const table: DetectedTable = { type: 'mbr', offset: ctx.base, id: s.readUInt32LE(440).toString(16).padStart(8, '0'), partitions: [], notes: [] };
  const notes = table.notes!;
  for (const e of used) {
    const p = part(e.slot + 1, e.start * 512, e.sectors * 512, { typeCode: `0x${e.type.toString(16).padStart(2, '0')}`, typeName: mbrTypes[e.type] ?? 'unknown' });
    const flags: string[] = [];
    if (e.boot === 0x80) flags.push('boot');
    if (isExtended(e.type)) flags.push('extended');
    if (flags.length) p.flags = flags;
    table.partitions.push(p);
    if (isExtended(e.type)) await readLogicals(r, e.start, e.sectors, table, notes);
  }
  if (!table.partitions.length) notes.push('the table is empty');
  if (!notes.length) delete table.notes;
  return table;
}

async function readLogicals(r: Reader, extStart: number, extSectors: number, table: DetectedTable, notes: string[]): Promise<void> {
  let ebr = extStart;
  let index = 5;
  const seen = new Set<number>();
  for (let n = 0; n < 128; n++) {
    if (seen.has(ebr)) {
      notes.push(`the chain of logical partitions loops at sector ${ebr}`);
      return;
    }
    seen.add(ebr);
    if (ebr * 512 >= r.size) {
      notes.push(`an extended boot record at sector ${ebr} lies past the end of the disk`);
      return;
    }
    const s = await r.bytes(ebr * 512, 512);
    const entries = mbrEntries(s);
    if (!entries) {
      if (n === 0) return; // an empty extended partition
      notes.push(`the extended boot record at sector ${ebr} is invalid`);
      return;
    }
    const [data, next] = entries;
    if (data.type !== 0 && data.sectors > 0) {
      table.partitions.push(part(index++, (ebr + data.start) * 512, data.sectors * 512, {
        typeCode: `0x${data.type.toString(16).padStart(2, '0')}`, typeName: mbrTypes[data.type] ?? 'unknown', flags: ['logical'],
      }));
    }
    if (!isExtended(next.type) || !next.sectors) return;
    ebr = extStart + next.start;
    if (next.start >= extSectors) {
      notes.push(`a logical partition link points outside the extended partition (sector ${ebr})`);
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// GPT

export const gptTypes: Record<string, string> = {
  'C12A7328-F81F-11D2-BA4B-00A0C93EC93B': 'EFI System',
  '21686148-6449-6E6F-744E-656564454649': 'BIOS boot',
  '024DEE41-33E7-11D3-9D69-0008C781F39F': 'MBR partition scheme',
  'E3C9E316-0B5C-4DB8-817D-F92DF00215AE': 'Microsoft reserved',
  'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7': 'Microsoft basic data',
  '5808C8AA-7E8F-42E0-85D2-E1E90434CFB3': 'Microsoft LDM metadata',
  'AF9B60A0-1431-4F62-BC68-3311714A69AD': 'Microsoft LDM data',
  'DE94BBA4-06D1-4D40-A16A-BFD50179D6AC': 'Windows recovery environment',
  '0FC63DAF-8483-4772-8E79-3D69D8477DE4': 'Linux filesystem',
  '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F': 'Linux swap',
  'E6D6D379-F507-44C2-A23C-238F2A3DF928': 'Linux LVM',
  'A19D880F-05FC-4D3B-A006-743F0F84911E': 'Linux RAID',
  '933AC7E1-2EB4-4F13-B844-0E14E2AEF915': 'Linux home',
  '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709': 'Linux root (x86-64)',
  'BC13C2FF-59E6-4262-A352-B275FD6F7172': 'Linux extended boot',
  'CA7D7CCB-63ED-4C53-861C-1742536059CC': 'LUKS',
  '516E7CB4-6ECF-11D6-8FF8-00022D09712B': 'FreeBSD data',
  '516E7CB5-6ECF-11D6-8FF8-00022D09712B': 'FreeBSD swap',
  '516E7CB6-6ECF-11D6-8FF8-00022D09712B': 'FreeBSD UFS',
  '516E7CBA-6ECF-11D6-8FF8-00022D09712B': 'FreeBSD ZFS',
  '83BD6B9D-7F41-11DC-BE0B-001560B84F0F': 'FreeBSD boot',
  '49F48D5A-B10E-11DC-B99B-0019D1879648': 'NetBSD FFS',
  '49F48D32-B10E-11DC-B99B-0019D1879648': 'NetBSD swap',
  '824CC7A0-36A8-11E3-890A-952519AD3F61': 'OpenBSD data',
  '48465300-0000-11AA-AA11-00306543ECAC': 'Apple HFS/HFS+',
  '7C3457EF-0000-11AA-AA11-00306543ECAC': 'Apple APFS',
  '55465300-0000-11AA-AA11-00306543ECAC': 'Apple UFS',
  '426F6F74-0000-11AA-AA11-00306543ECAC': 'Apple boot',
  '6A898CC3-1DD2-11B2-99A6-080020736631': 'Solaris /usr & Apple ZFS',
  '6A82CB45-1DD2-11B2-99A6-080020736631': 'Solaris boot',
  '42465331-3BA3-10F1-802A-4861696B7521': 'Haiku BFS',
  '9D275380-40AD-11DB-BF97-000C2911D1B8': 'VMware VMFS',
  'AA31E02A-400F-11DB-9590-000C2911D1B8': 'VMware reserved',
  'FE3A2A5D-4F32-41A7-B725-ACCC3285A309': 'ChromeOS kernel',
  '3CB8E202-3B7E-47DD-8A3C-7FF2A13CFCEC': 'ChromeOS root',
};

interface GptHeader {
  sectorSize: number;
  lba: number;
  alternate: number;
  entriesLba: number;
  count: number;
  entrySize: number;
  entriesCrc: number;
  diskGuid: string;
}

async function readGptHeader(r: Reader, lba: number, ss: number): Promise<GptHeader | undefined> {
  if (lba <= 0 || (lba + 1) * ss > r.size) return undefined;
  const h = await r.bytes(lba * ss, ss);
  if (h.toString('latin1', 0, 8) !== 'EFI PART') return undefined;
  const size = h.readUInt32LE(12);
  if (size < 92 || size > ss) return undefined;
  const copy = Buffer.from(h.subarray(0, size));
  copy.writeUInt32LE(0, 16);
  if (crc32(copy) !== h.readUInt32LE(16)) return undefined;
  if (u64le(h, 24) !== lba) return undefined;
  const header: GptHeader = {
    sectorSize: ss, lba, alternate: u64le(h, 32), entriesLba: u64le(h, 72), count: h.readUInt32LE(80),
    entrySize: h.readUInt32LE(84), entriesCrc: h.readUInt32LE(88), diskGuid: guid(h.subarray(56, 72)),
  };
  if (header.entrySize < 128 || header.entrySize % 8 || header.count > 4096) return undefined;
  return header;
}

async function readGptEntries(r: Reader, h: GptHeader): Promise<Buffer | undefined> {
  const length = h.count * h.entrySize;
  if (h.entriesLba * h.sectorSize + length > r.size) return undefined;
  const entries = await r.bytes(h.entriesLba * h.sectorSize, length);
  return crc32(entries) === h.entriesCrc ? entries : undefined;
}

export async function probeGpt(r: Reader, ctx: TableContext): Promise<DetectedTable | undefined> {
  const mbr = await r.bytes(0, 512);
  const pmbr = mbrEntries(mbr);
  for (const ss of [512, 4096]) {
    const notes: string[] = [];
    let header = await readGptHeader(r, 1, ss);
    let entries = header && (await readGptEntries(r, header));
    if (!header || !entries) {
      const lastLba = Math.floor(r.size / ss) - 1;
      const backup = (await readGptHeader(r, lastLba, ss)) ?? (header && header.alternate !== lastLba ? await readGptHeader(r, header.alternate, ss) : undefined);
      const backupEntries = backup && (await readGptEntries(r, backup));
      if (!backup || !backupEntries) continue;
      notes.push(header ? 'the primary GPT partition entries are damaged: the backup copy was used' : 'the primary GPT header is damaged or missing: the backup header was used');
      header = backup;
      entries = backupEntries;
    } else if (!(await readGptHeader(r, header.alternate, ss))) {
      notes.push('the backup GPT header is missing or damaged');
    }
    if (!pmbr) notes.push('no protective MBR');
    else {
      const used = pmbr.filter((e) => e.type !== 0 && e.sectors > 0);
      if (!used.some((e) => e.type === 0xee)) notes.push('the MBR has no protective (0xEE) entry');
      else if (used.length > 1) notes.push(`hybrid MBR: it also lists ${used.filter((e) => e.type !== 0xee).map((e) => `partition ${e.slot + 1} (type 0x${e.type.toString(16)})`).join(', ')}`);
    }
    const table: DetectedTable = { type: 'gpt', offset: ctx.base + ss, id: header.diskGuid, partitions: [] };
    for (let i = 0; i < header.count; i++) {
      const e = entries.subarray(i * header.entrySize, (i + 1) * header.entrySize);
      if (isZero(e.subarray(0, 16))) continue;
      const type = guid(e.subarray(0, 16));
      const first = u64le(e, 32);
      const last = u64le(e, 40);
      const attrs = e.readBigUInt64LE(48);
      const flags: string[] = [];
      if (attrs & 1n) flags.push('required');
      if (attrs & 4n) flags.push('legacy-boot');
      if (attrs & (1n << 60n)) flags.push('read-only');
      if (attrs & (1n << 62n)) flags.push('hidden');
      if (attrs & (1n << 63n)) flags.push('no-automount');
      const p = part(i + 1, first * ss, (last - first + 1) * ss, { typeCode: type, typeName: gptTypes[type] ?? 'unknown', name: utf16(e.subarray(56, 128)) || undefined });
      if (!p.name) delete p.name;
      if (flags.length) p.flags = flags;
      table.partitions.push(p);
    }
    if (notes.length) table.notes = notes;
    return table;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Apple partition map

export async function probeApm(r: Reader, ctx: TableContext): Promise<DetectedTable | undefined> {
  const ddr = await r.bytes(0, 512);
  const hasDdr = ddr.toString('latin1', 0, 2) === 'ER';
  const blockSize = hasDdr ? ddr.readUInt16BE(2) : 512;
  // Entries are usually at 512-byte steps; some (CD hybrids) use the driver descriptor's block size.
  for (const step of [...new Set([512, blockSize])]) {
    if (step < 512 || step > 4096 || step % 512) continue;
    const first = await r.bytes(step, 512);
    if (first.toString('latin1', 0, 2) !== 'PM') continue;
    const count = first.readUInt32BE(4);
    if (!count || count > 256) continue;
    const table: DetectedTable = { type: 'apm', offset: ctx.base, partitions: [] };
    const unit = hasDdr ? blockSize : step;
    for (let i = 1; i <= count; i++) {
      const e = i === 1 ? first : await r.bytes(i * step, 512);
      if (e.toString('latin1', 0, 2) !== 'PM') break;
      const type = cstr(e.subarray(48, 80), 'latin1');
      const name = cstr(e.subarray(16, 48), 'latin1');
      const p = part(i, e.readUInt32BE(8) * unit, e.readUInt32BE(12) * unit, { typeCode: type, typeName: apmTypeName(type) });
      if (name) p.name = name;
      table.partitions.push(p);
    }
    return table;
  }
  return undefined;
}

function apmTypeName(type: string): string {
  const names: Record<string, string> = {
    Apple_partition_map: 'partition map', Apple_HFS: 'HFS/HFS+', Apple_HFSX: 'HFSX', Apple_UFS: 'UFS', Apple_Free: 'free space',
    Apple_Driver: 'driver', Apple_Driver43: 'driver', Apple_Driver_ATA: 'driver', Apple_Patches: 'patches', Apple_Boot: 'boot',
    Apple_Bootstrap: 'bootstrap', Apple_Scratch: 'scratch', Apple_Void: 'void', Apple_PRODOS: 'ProDOS', Apple_MFS: 'MFS',
    Apple_UNIX_SVR2: 'A/UX', ISO9660_data: 'ISO 9660 data', Linux: 'Linux', Linux_swap: 'Linux swap',
  };
  return names[type] ?? type;
}

// ---------------------------------------------------------------------------------------------
// BSD disklabel

const bsdFsTypes = ['unused', 'swap', 'Version 6', 'Version 7', 'System V', '4.1BSD', 'Eighth Edition', '4.2BSD', 'MS-DOS', '4.4LFS',
  'unknown', 'HPFS', 'ISO9660', 'boot', 'ADOS', 'HFS', 'AdvFS', 'ext2', 'ccd', 'RAID', 'Apple UFS', 'vinum', 'UDF', 'SysVBFS', 'EFS', 'ZFS'];

/**
 * A BSD disklabel on a whole disk (`sliceStart` 0) or inside an MBR slice. Offsets in a nested
 * label are absolute on the disk, except in labels whose 'c' partition starts at 0 (relative).
 */
export async function probeBsd(r: Reader, ctx: TableContext, slice?: { start: number; size: number }): Promise<DetectedTable | undefined> {
  for (const at of [512, 64, 0, 576]) {
    const l = await r.bytes(at, 512);
    if (l.readUInt32LE(0) !== 0x82564557 || l.readUInt32LE(132) !== 0x82564557) continue;
    const secsize = l.readUInt32LE(40) || 512;
    const count = Math.min(l.readUInt16LE(138), 22);
    const entries = Array.from({ length: count }, (_, i) => {
      const e = l.subarray(148 + i * 16, 164 + i * 16);
      return { i, size: e.readUInt32LE(0), offset: e.readUInt32LE(4), fstype: e[12] };
    });
    const sliceStartSectors = slice ? slice.start / secsize : 0;
    // As Linux: offsets are relative to the slice only when 'c' (the slice itself) starts at 0.
    const relative = !slice || (entries[2] !== undefined && entries[2].size > 0 && entries[2].offset === 0);
    const table: DetectedTable = { type: 'bsd', offset: ctx.base + at, partitions: [] };
    for (const e of entries) {
      if (!e.size) continue;
      const start = (relative ? e.offset : e.offset - sliceStartSectors) * secsize;
      const size = e.size * secsize;
      // The whole-parent partition ('c') duplicates what holds the label; NetBSD's 'd' (the whole
      // disk) starts before a nested label's slice.
      if (start < 0 || (start === 0 && size >= r.size && entries.filter((x) => x.size).length > 1)) continue;
      table.partitions.push(part(e.i + 1, start, size, { typeCode: String(e.fstype), typeName: bsdFsTypes[e.fstype] ?? 'unknown', name: String.fromCharCode(97 + e.i) }));
    }
    return table;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Sun VTOC

const sunTags: Record<number, string> = {
  0: 'unassigned', 1: 'boot', 2: 'root', 3: 'swap', 4: 'usr', 5: 'whole disk', 6: 'stand', 7: 'var', 8: 'home', 9: 'alt sector',
  10: 'cache', 11: 'reserved', 0x82: 'Linux swap', 0x83: 'Linux', 0x8e: 'Linux LVM', 0xfd: 'Linux RAID',
};

export async function probeSun(r: Reader, ctx: TableContext): Promise<DetectedTable | undefined> {
  const l = await r.bytes(0, 512);
  if (l.readUInt16BE(508) !== 0xdabe) return undefined;
  let sum = 0;
  for (let i = 0; i < 512; i += 2) sum ^= l.readUInt16BE(i);
  if (sum !== 0) return undefined;
  const nhead = l.readUInt16BE(436);
  const nsect = l.readUInt16BE(438);
  const vtoc = l.readUInt32BE(188) === 0x600ddeee;
  const table: DetectedTable = { type: 'sun', offset: ctx.base, partitions: [] };
  const volume = cstr(l.subarray(132, 140), 'latin1');
  if (volume) table.id = volume;
  for (let i = 0; i < 8; i++) {
    const cyl = l.readUInt32BE(444 + i * 8);
    const sectors = l.readUInt32BE(448 + i * 8);
    if (!sectors) continue;
    const tag = vtoc ? l.readUInt16BE(142 + i * 4) : undefined;
    const p = part(i + 1, cyl * nhead * nsect * 512, sectors * 512);
    if (tag !== undefined) {
      p.typeCode = `0x${tag.toString(16).padStart(2, '0')}`;
      p.typeName = sunTags[tag] ?? 'unknown';
      if (tag === 5) p.flags = ['whole-disk'];
    }
    table.partitions.push(p);
  }
  return table;
}

// ---------------------------------------------------------------------------------------------
// SGI disk volume header

const sgiTypes: Record<number, string> = {
  0: 'volume header', 1: 'track replacement', 2: 'sector replacement', 3: 'raw', 4: 'BSD', 5: 'System V', 6: 'whole volume',
  7: 'EFS', 8: 'logical volume', 9: 'raw logical volume', 10: 'XFS', 11: 'XFS log', 12: 'XLV', 13: 'XVM', 0x82: 'Linux swap', 0x83: 'Linux',
  0x8e: 'Linux LVM', 0xfd: 'Linux RAID',
};

export async function probeSgi(r: Reader, ctx: TableContext): Promise<DetectedTable | undefined> {
  const l = await r.bytes(0, 512);
  if (l.readUInt32BE(0) !== 0x0be5a941) return undefined;
  let sum = 0;
  for (let i = 0; i < 512; i += 4) sum = (sum + l.readUInt32BE(i)) >>> 0;
  if (sum !== 0) return undefined;
  const table: DetectedTable = { type: 'sgi', offset: ctx.base, partitions: [] };
  for (let i = 0; i < 16; i++) {
    const o = 312 + i * 12;
    const blocks = l.readUInt32BE(o);
    if (!blocks) continue;
    const type = l.readUInt32BE(o + 8);
    const p = part(i + 1, l.readUInt32BE(o + 4) * 512, blocks * 512, { typeCode: String(type), typeName: sgiTypes[type] ?? 'unknown' });
    if (type === 6) p.flags = ['whole-disk'];
    if (type === 0) p.flags = ['volume-header'];
    table.partitions.push(p);
  }
  return table;
}

// ---------------------------------------------------------------------------------------------
// Amiga Rigid Disk Block

function amigaChecksumOk(b: Buffer): boolean {
  const longs = Math.min(b.readUInt32BE(4), b.length / 4);
  if (longs < 2) return false;
  let sum = 0;
  for (let i = 0; i < longs; i++) sum = (sum + b.readUInt32BE(i * 4)) | 0;
  return sum === 0;
}

export async function probeRdb(r: Reader, ctx: TableContext): Promise<DetectedTable | undefined> {
  for (let blk = 0; blk < 16; blk++) {
    const rdb = await r.bytes(blk * 512, 512);
    if (rdb.toString('latin1', 0, 4) !== 'RDSK' || !amigaChecksumOk(rdb)) continue;
    const blksize = Math.max(1, rdb.readUInt32BE(16) / 512);
    const table: DetectedTable = { type: 'rdb', offset: ctx.base + blk * 512, partitions: [] };
    let next = rdb.readUInt32BE(28);
    const seen = new Set<number>();
    for (let index = 1; next !== 0xffffffff && index <= 128 && !seen.has(next); index++) {
      seen.add(next);
      const pb = await r.bytes(next * blksize * 512, 512);
      if (pb.toString('latin1', 0, 4) !== 'PART' || !amigaChecksumOk(pb)) {
        table.notes = [`partition block ${next} is invalid`];
        break;
      }
      const env = (i: number) => pb.readUInt32BE(128 + i * 4);
      const sizeBlock = env(1) ? (env(1) * 4) / 512 : 1;
      const cylSectors = env(3) * env(5) * sizeBlock;
      const nameLength = Math.min(pb[36], 31);
      const dosType = pb.subarray(128 + 64, 128 + 68);
      const printable = [...dosType].every((c) => c >= 0x20 && c < 0x7f);
      const code = dosType.toString('latin1', 0, 3) + (printable ? dosType.toString('latin1', 3, 4) : `\\${dosType[3]}`);
      const p = part(index, env(9) * cylSectors * 512, (env(10) - env(9) + 1) * cylSectors * 512, { typeCode: code, typeName: amigaDosTypeName(dosType) });
      const name = pb.toString('latin1', 37, 37 + nameLength);
      if (name) p.name = name;
      table.partitions.push(p);
      next = pb.readUInt32BE(16);
    }
    return table;
  }
  return undefined;
}

function amigaDosTypeName(t: Buffer): string {
  const id = t.toString('latin1', 0, 3);
  if (id === 'DOS') return ['OFS', 'FFS', 'OFS intl', 'FFS intl', 'OFS dircache', 'FFS dircache', 'OFS long names', 'FFS long names'][t[3]] ?? 'AmigaDOS';
  if (id === 'SFS') return 'Smart File System';
  if (id === 'PFS' || id === 'PDS') return 'Professional File System';
  if (id === 'LNX') return 'Linux';
  if (id === 'SWP') return 'Linux swap';
  if (id === 'UNI') return 'Amix / Unix';
  return 'unknown';
}

// ---------------------------------------------------------------------------------------------
// Atari AHDI

const alnum = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0xc0 && c !== 0xd7 && c !== 0xf7);
const atariIds: Record<string, string> = { GEM: 'GEMDOS (< 32 MiB)', BGM: 'GEMDOS (big)', LNX: 'Linux', SWP: 'swap', RAW: 'raw', MIX: 'Minix', MNX: 'Minix', UNX: 'Atari SysV', F32: 'FAT32', XGM: 'extended' };

export async function probeAtari(r: Reader, ctx: TableContext): Promise<DetectedTable | undefined> {
  const s = await r.bytes(0, 512);
  const hdSize = r.size / 512;
  const entry = (o: number) => ({ flags: s[o], id: s.toString('latin1', o + 1, o + 4), idBytes: s.subarray(o + 1, o + 4), start: s.readUInt32BE(o + 4), size: s.readUInt32BE(o + 8) });
  const prim = [0, 1, 2, 3].map((i) => entry(0x1c6 + i * 12));
  const valid = (e: ReturnType<typeof entry>) => e.flags & 1 && [...e.idBytes].every(alnum) && e.start <= hdSize && e.start + e.size <= hdSize;
  if (!prim.some(valid)) return undefined;
  const table: DetectedTable = { type: 'atari', offset: ctx.base, partitions: [] };
  let index = 1;
  for (const e of prim) {
    if (!(e.flags & 1)) {
      index++;
      continue;
    }
    if (e.id === 'XGM') {
      // Extended: a chain of root sectors, each with one data partition and a link.
      let x = e.start;
      for (let n = 0; n < 64; n++) {
        const xs = await r.bytes(x * 512, 512);
        const xe = [0, 1, 2, 3].map((i) => ({ flags: xs[0x1c6 + i * 12], id: xs.toString('latin1', 0x1c7 + i * 12, 0x1ca + i * 12), start: xs.readUInt32BE(0x1ca + i * 12), size: xs.readUInt32BE(0x1ce + i * 12) }));
        const data = xe.findIndex((q) => q.flags & 1);
        if (data < 0 || xe[data].id === 'XGM') break;
        table.partitions.push(part(index++, (x + xe[data].start) * 512, xe[data].size * 512, { typeCode: xe[data].id, typeName: atariIds[xe[data].id] ?? 'unknown', flags: ['extended'] }));
        const link = xe[data + 1];
        if (!link || !(link.flags & 1) || link.id !== 'XGM') break;
        x = e.start + link.start;
      }
      continue;
    }
    table.partitions.push(part(index++, e.start * 512, e.size * 512, { typeCode: e.id, typeName: atariIds[e.id] ?? 'unknown' }));
  }
  return table;
}

// ---------------------------------------------------------------------------------------------
// NEC PC-98

const pc98Geometries: [number, number][] = [[8, 16], [8, 17], [8, 32], [16, 63], [255, 63], [16, 32], [4, 32]];

export async function probePc98(r: Reader, ctx: TableContext): Promise<DetectedTable | undefined> {
  const boot = await r.bytes(0, 512);
  if (boot[510] !== 0x55 || boot[511] !== 0xaa) return undefined;
  if (boot.toString('latin1', 4, 8) !== 'IPL1' && boot.toString('latin1', 0x36, 0x39) !== 'IPL') return undefined;
  const t = await r.bytes(512, 512);
  const entries: { i: number; mid: number; sid: number; ssect: number; shd: number; scyl: number; esect: number; ehd: number; ecyl: number; name: string }[] = [];
  for (let i = 0; i < 16; i++) {
    const e = t.subarray(i * 32, i * 32 + 32);
    if (!e[0] && !e[1]) continue;
    entries.push({
      i, mid: e[0], sid: e[1],
      ssect: e[8], shd: e[9], scyl: e.readUInt16LE(10), esect: e[12], ehd: e[13], ecyl: e.readUInt16LE(14),
      name: cstr(e.subarray(16, 32), 'latin1'),
    });
  }
  if (!entries.length || entries.some((e) => e.ecyl < e.scyl)) return undefined;
  // CHS only: find the geometry under which the first partition holds a filesystem.
  const layout = (heads: number, sectors: number) =>
    entries.map((e) => {
      const start = (e.scyl * heads + e.shd) * sectors + e.ssect;
      const end = (e.ecyl * heads + e.ehd) * sectors + e.esect;
      const endCyl = e.esect === 0 && e.ehd === 0 ? (e.ecyl + 1) * heads * sectors : end + 1;
      return { e, start: start * 512, size: (endCyl - start) * 512 };
    });
  let chosen = layout(...pc98Geometries[0]);
  let note = `CHS geometry not recorded in the table: ${pc98Geometries[0][0]} heads × ${pc98Geometries[0][1]} sectors assumed`;
  for (const [heads, sectors] of pc98Geometries) {
    const l = layout(heads, sectors);
    if (l[0].start + l[0].size <= r.size && (await ctx.hasFilesystem(ctx.base + l[0].start))) {
      chosen = l;
      note = `geometry ${heads} heads × ${sectors} sectors (found by the filesystem in partition ${l[0].e.i + 1})`;
      break;
    }
  }
  const table: DetectedTable = { type: 'pc98', offset: ctx.base + 512, partitions: [], notes: [note] };
  for (const { e, start, size } of chosen) {
    const p = part(e.i + 1, start, size, { typeCode: `0x${e.mid.toString(16).padStart(2, '0')}${e.sid.toString(16).padStart(2, '0')}`, typeName: pc98TypeName(e.sid) });
    if (e.name) p.name = e.name;
    if (e.mid & 0x80) p.flags = ['bootable'];
    table.partitions.push(p);
  }
  return table;
}

function pc98TypeName(sid: number): string {
  const names: Record<number, string> = { 0x01: 'FAT12', 0x11: 'FAT12', 0x04: 'PC-UX', 0x06: 'N88-BASIC', 0x14: 'FAT16', 0x21: 'FAT16', 0x44: 'FreeBSD', 0x61: 'FAT16 (big)', 0x62: 'Linux', 0xe2: 'Linux' };
  return names[sid & 0x7f] ?? names[sid] ?? 'unknown';
}

// ---------------------------------------------------------------------------------------------
// Minix subpartitions (inside an MBR partition of type 0x81)

export async function probeMinixSub(r: Reader, ctx: TableContext, slice: { start: number }): Promise<DetectedTable | undefined> {
  const s = await r.bytes(0, 512);
  const entries = mbrEntries(s);
  if (!entries || entries[0].type !== 0x81) return undefined;
  const table: DetectedTable = { type: 'minix', offset: ctx.base, partitions: [] };
  for (const e of entries) {
    if (e.type !== 0x81 || !e.sectors) continue;
    table.partitions.push(part(e.slot + 1, e.start * 512 - slice.start, e.sectors * 512, { typeCode: '0x81', typeName: 'Minix' }));
  }
  return table.partitions.length ? table : undefined;
}
