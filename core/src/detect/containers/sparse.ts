// VMDK (monolithicSparse, streamOptimized), VDI (dynamic, fixed), VHD (fixed, dynamic) and VHDX
// (fixed, dynamic): each a map from virtual blocks to file offsets.
import { containerError, Reader, type BlockSource } from '../BlockSource.js';
import { crc32c, guid, u64be, u64le } from '../util.js';

/** Where a block's bytes are: at a file offset (read only the part asked for), decoded in memory, or zeros (null). */
type BlockData = { fileOffset: number } | Buffer | null;

/** A source made of equal blocks, each found by `block`. */
abstract class BlockMapSource implements BlockSource {
  abstract readonly size: number;
  protected abstract readonly blockSize: number;
  protected abstract readonly file: Reader;
  protected abstract block(index: number): Promise<BlockData>;
  private readonly cache = new Map<number, Promise<BlockData>>();

  private cached(index: number): Promise<BlockData> {
    let hit = this.cache.get(index);
    if (!hit) {
      hit = this.block(index);
      hit.catch(() => this.cache.delete(index));
      if (this.cache.size > 64) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(index, hit);
    }
    return hit;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const out = Buffer.alloc(length);
    let done = 0;
    while (done < length && offset + done < this.size) {
      const at = offset + done;
      const index = Math.floor(at / this.blockSize);
      const within = at - index * this.blockSize;
      const n = Math.min(this.blockSize - within, length - done, this.size - at);
      const data = await this.cached(index);
      if (Buffer.isBuffer(data)) data.copy(out, done, within, within + n);
      else if (data) (await this.file.bytes(data.fileOffset + within, n)).copy(out, done);
      done += n;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// VMDK

export class VmdkSource extends BlockMapSource {
  readonly size: number;
  protected readonly blockSize: number;
  private gd?: Buffer;
  private readonly gtCache = new Map<number, Promise<Buffer>>();
  readonly streamOptimized: boolean;
  readonly compressed: boolean;
  readonly createType?: string;

  private constructor(protected readonly file: Reader, private readonly header: Buffer, descriptor: string) {
    super();
    const flags = header.readUInt32LE(8);
    this.size = u64le(header, 12) * 512;
    this.blockSize = u64le(header, 20) * 512;
    this.compressed = Boolean(flags & (1 << 16));
    this.streamOptimized = Boolean(flags & (1 << 17));
    this.createType = /createType\s*=\s*"([^"]*)"/.exec(descriptor)?.[1];
    if (!this.blockSize || this.blockSize > 128 * 1024 * 1024) throw containerError(`VMDK header is corrupt: grain size ${this.blockSize}`);
    if (this.compressed && header.readUInt16LE(77) !== 1) throw containerError(`VMDK compression algorithm ${header.readUInt16LE(77)} is not supported (only deflate)`);
  }

  static async open(file: Reader): Promise<VmdkSource> {
    let header = await file.bytes(0, 512);
    const version = header.readUInt32LE(4);
    if (version > 3) throw containerError(`VMDK sparse extent version ${version} is not supported`);
    const descOffset = u64le(header, 28) * 512;
    const descSize = Math.min(u64le(header, 36) * 512, 64 * 1024);
    const descriptor = descOffset ? (await file.bytes(descOffset, descSize)).toString('latin1').replace(/\0+$/, '') : '';
    if (header.readBigUInt64LE(56) === 0xffffffffffffffffn) {
      // streamOptimized: the real grain directory offset is in the footer, 1 KiB before the end.
      if (file.size < 1536) throw containerError('the VMDK image is truncated: no footer');
      const footer = await file.bytes(file.size - 1024, 512);
      if (!footer.subarray(0, 4).equals(Buffer.from('KDMV'))) throw containerError('the streamOptimized VMDK has no footer (truncated or still being written)');
      header = footer;
    }
    return new VmdkSource(file, header, descriptor);
  }

  private async gt(offset: number, entries: number): Promise<Buffer> {
    let hit = this.gtCache.get(offset);
    if (!hit) {
      if (offset + entries * 4 > this.file.size) throw containerError('the VMDK image is truncated: a grain table lies past the end of the file');
      hit = this.file.bytes(offset, entries * 4);
      if (this.gtCache.size > 32) this.gtCache.delete(this.gtCache.keys().next().value!);
      this.gtCache.set(offset, hit);
    }
    return hit;
  }

  protected async block(index: number): Promise<BlockData> {
    const perGt = this.header.readUInt32LE(44);
    const gdOffset = u64le(this.header, 56) * 512;
    const grainsTotal = Math.ceil(this.size / this.blockSize);
    const gdEntries = Math.ceil(grainsTotal / perGt);
    if (!this.gd) {
      if (gdOffset + gdEntries * 4 > this.file.size) throw containerError('the VMDK image is truncated: its grain directory lies past the end of the file');
      this.gd = await this.file.bytes(gdOffset, gdEntries * 4);
    }
    const gtSector = this.gd.readUInt32LE(Math.floor(index / perGt) * 4);
    if (!gtSector) return null;
    const grain = (await this.gt(gtSector * 512, perGt)).readUInt32LE((index % perGt) * 4);
    if (grain === 0 || grain === 1) return null;
    const at = grain * 512;
    if (at >= this.file.size) throw containerError(`the VMDK image is truncated: grain ${index} lies past the end of the file`);
    if (!this.compressed) return { fileOffset: at };
    const marker = await this.file.bytes(at, 12);
    const size = marker.readUInt32LE(8);
    if (!size || at + 12 + size > this.file.size) throw containerError(`the VMDK image is truncated or corrupt at grain ${index}`);
    // Loaded on the first compressed grain: most images have none, and node:zlib is slow to load.
    const { inflateSync } = await import('node:zlib');
    try {
      const data = inflateSync(await this.file.bytes(at + 12, size));
      if (data.length >= this.blockSize) return data.subarray(0, this.blockSize);
      const full = Buffer.alloc(this.blockSize);
      data.copy(full);
      return full;
    } catch (error) {
      throw containerError(`a compressed VMDK grain (${index}) does not decompress`, undefined, error);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// VDI

export class VdiSource extends BlockMapSource {
  readonly size: number;
  protected readonly blockSize: number;
  readonly imageType: number;
  private map?: Buffer;
  private readonly offBlocks: number;
  private readonly offData: number;
  private readonly extra: number;
  private readonly blocks: number;

  constructor(protected readonly file: Reader, h: Buffer) {
    super();
    const major = h.readUInt16LE(70);
    if (major !== 1) throw containerError(`VDI version ${major}.${h.readUInt16LE(68)} is not supported`);
    this.imageType = h.readUInt32LE(76);
    if (this.imageType === 4) throw containerError('differencing VDI images are not supported (their parent is found by UUID)', 'VBoxManage clonemedium IMAGE OUT.vdi   (merges it)');
    if (this.imageType !== 1 && this.imageType !== 2) throw containerError(`VDI image type ${this.imageType} is not supported`);
    this.offBlocks = h.readUInt32LE(340);
    this.offData = h.readUInt32LE(344);
    this.size = u64le(h, 368);
    this.blockSize = h.readUInt32LE(376);
    this.extra = h.readUInt32LE(380);
    this.blocks = h.readUInt32LE(384);
    if (!this.blockSize || this.blocks * this.blockSize < this.size) throw containerError('VDI header is corrupt: its blocks do not cover the disk');
  }

  protected async block(index: number): Promise<BlockData> {
    if (!this.map) {
      if (this.offBlocks + this.blocks * 4 > this.file.size) throw containerError('the VDI image is truncated: its block map lies past the end of the file');
      this.map = await this.file.bytes(this.offBlocks, this.blocks * 4);
    }
    const entry = this.map.readUInt32LE(index * 4);
    if (entry >= 0xfffffffe) return null;
    const at = this.offData + entry * (this.blockSize + this.extra) + this.extra;
    if (at >= this.file.size) throw containerError(`the VDI image is truncated: block ${index} lies past the end of the file`);
    return { fileOffset: at };
  }
}

// ---------------------------------------------------------------------------------------------
// VHD

export interface VhdFooter {
  diskType: number;
  currentSize: number;
  /** The size qemu presents (CHS-based for images made by Virtual PC and qemu itself). */
  virtualSize: number;
  dataOffset: number;
  creator: string;
}

export function parseVhdFooter(f: Buffer): VhdFooter {
  const creator = f.toString('latin1', 28, 32);
  const currentSize = u64be(f, 48);
  const chs = f.readUInt16BE(56) * f[58] * f[59] * 512;
  // qemu's rule (block/vpc.c): these creators size the disk by current_size; the rest by CHS.
  const bySize = ['win ', 'qem2', 'd2v ', 'CTXS'].includes(creator) || creator.startsWith('tap') || chs === 65535 * 16 * 255 * 512;
  return { diskType: f.readUInt32BE(60), currentSize, virtualSize: bySize ? currentSize : chs, dataOffset: u64be(f, 16), creator };
}

export class VhdSource extends BlockMapSource {
  readonly size: number;
  protected readonly blockSize: number;
  private bat?: Buffer;
  private readonly batOffset: number;
  private readonly batEntries: number;
  private readonly bitmapSize: number;

  constructor(protected readonly file: Reader, footer: VhdFooter, dyn: Buffer) {
    super();
    if (!dyn.subarray(0, 8).equals(Buffer.from('cxsparse'))) throw containerError('VHD dynamic header is missing or corrupt');
    this.size = footer.virtualSize;
    this.batOffset = u64be(dyn, 16);
    this.batEntries = dyn.readUInt32BE(28);
    this.blockSize = dyn.readUInt32BE(32);
    if (!this.blockSize || this.blockSize % 512) throw containerError(`VHD header is corrupt: block size ${this.blockSize}`);
    this.bitmapSize = Math.ceil(this.blockSize / 512 / 8 / 512) * 512;
  }

  protected async block(index: number): Promise<BlockData> {
    if (index >= this.batEntries) return null;
    if (!this.bat) {
      if (this.batOffset + this.batEntries * 4 > this.file.size) throw containerError('the VHD image is truncated: its block table lies past the end of the file');
      this.bat = await this.file.bytes(this.batOffset, this.batEntries * 4);
    }
    const sector = this.bat.readUInt32BE(index * 4);
    if (sector === 0xffffffff) return null;
    const at = sector * 512 + this.bitmapSize;
    if (at >= this.file.size) throw containerError(`the VHD image is truncated: block ${index} lies past the end of the file`);
    return { fileOffset: at };
  }
}

// ---------------------------------------------------------------------------------------------
// VHDX

const VHDX = {
  bat: '2DC27766-F623-4200-9D64-115E9BFD4A08',
  metadata: '8B7CA206-4790-4B9A-B8FE-575F050F886E',
  fileParameters: 'CAA16737-FA36-4D43-B3B6-33F0AA44E76B',
  virtualDiskSize: '2FA54224-CD1B-4876-B211-5DBED83BF4B8',
  logicalSectorSize: '8141BF1D-A96F-4709-BA47-F233A8FAAB5F',
};

export class VhdxSource extends BlockMapSource {
  size = 0;
  protected blockSize = 0;
  private sectorSize = 512;
  private batOffset = 0;
  private batLength = 0;
  private bat?: Buffer;

  private constructor(protected readonly file: Reader) {
    super();
  }

  static async open(file: Reader): Promise<VhdxSource> {
    const s = new VhdxSource(file);
    await s.init();
    return s;
  }

  private async init(): Promise<void> {
    const f = this.file;
    // The current header: valid checksum, highest sequence number.
    let header: Buffer | undefined;
    let best = -1n;
    for (const at of [64 * 1024, 128 * 1024]) {
      const h = await f.bytes(at, 4096);
      if (!h.subarray(0, 4).equals(Buffer.from('head'))) continue;
      const copy = Buffer.from(h);
      copy.writeUInt32LE(0, 4);
      if (crc32c(copy) !== h.readUInt32LE(4)) continue;
      const seq = h.readBigUInt64LE(8);
      if (seq > best) {
        best = seq;
        header = h;
      }
    }
    if (!header) throw containerError('the VHDX image has no valid header (both copies are corrupt or missing)');
    if (!header.subarray(48, 64).every((b) => b === 0)) {
      throw containerError('the VHDX image has a log that must be replayed before it can be read', 'open it once read-write in Hyper-V, or: qemu-img check -r all IMAGE');
    }
    let regions: Buffer | undefined;
    for (const at of [192 * 1024, 256 * 1024]) {
      const r = await f.bytes(at, 64 * 1024);
      if (!r.subarray(0, 4).equals(Buffer.from('regi'))) continue;
      const copy = Buffer.from(r);
      copy.writeUInt32LE(0, 4);
      if (crc32c(copy) === r.readUInt32LE(4)) {
        regions = r;
        break;
      }
    }
    if (!regions) throw containerError('the VHDX image has no valid region table');
    let metadataOffset = 0;
    const count = regions.readUInt32LE(8);
    for (let i = 0; i < Math.min(count, 2047); i++) {
      const e = regions.subarray(16 + i * 32, 48 + i * 32);
      const id = guid(e);
      const offset = u64le(e, 16);
      if (id === VHDX.bat) {
        this.batOffset = offset;
        this.batLength = e.readUInt32LE(24);
      } else if (id === VHDX.metadata) metadataOffset = offset;
      else if (e.readUInt32LE(28) & 1) throw containerError(`the VHDX image needs region ${id}, which qemount does not know`);
    }
    if (!this.batOffset || !metadataOffset) throw containerError('the VHDX image lacks its BAT or metadata region');
    const meta = await f.bytes(metadataOffset, 64 * 1024);
    if (!meta.subarray(0, 8).equals(Buffer.from('metadata'))) throw containerError('the VHDX metadata region is corrupt');
    const entries = meta.readUInt16LE(10);
    for (let i = 0; i < Math.min(entries, 2047); i++) {
      const e = meta.subarray(32 + i * 32, 64 + i * 32);
      const id = guid(e);
      const at = e.readUInt32LE(16);
      const item = await f.bytes(metadataOffset + at, 8);
      if (id === VHDX.fileParameters) {
        this.blockSize = item.readUInt32LE(0);
        if (item.readUInt32LE(4) & 2) throw containerError('differencing VHDX images (with a parent) are not supported yet');
      } else if (id === VHDX.virtualDiskSize) this.size = u64le(item, 0);
      else if (id === VHDX.logicalSectorSize) this.sectorSize = item.readUInt32LE(0);
      else if (e.readUInt32LE(24) & 4 && ![VHDX.fileParameters, VHDX.virtualDiskSize, VHDX.logicalSectorSize].includes(id)) {
        // Page 83 data and physical sector size are required but do not change how bytes are read.
        if (!['BECA12AB-B2E6-4523-93EF-C309E000C746', 'CDA348C7-445D-4471-9CC9-E9885251C556'].includes(id)) {
          throw containerError(`the VHDX image needs metadata item ${id}, which qemount does not know`);
        }
      }
    }
    if (!this.blockSize || !this.size) throw containerError('the VHDX metadata lacks the block size or the disk size');
  }

  protected async block(index: number): Promise<BlockData> {
    const chunkRatio = (2 ** 23 * this.sectorSize) / this.blockSize;
    const entryIndex = index + Math.floor(index / chunkRatio);
    if (!this.bat) {
      if (this.batOffset + this.batLength > this.file.size) throw containerError('the VHDX image is truncated: its BAT lies past the end of the file');
      this.bat = await this.file.bytes(this.batOffset, this.batLength);
    }
    if ((entryIndex + 1) * 8 > this.bat.length) throw containerError('the VHDX BAT is too small for the disk size');
    const entry = this.bat.readBigUInt64LE(entryIndex * 8);
    const state = Number(entry & 7n);
    if (state === 6) {
      const at = Number(entry >> 20n) * 1024 * 1024;
      if (at >= this.file.size) throw containerError(`the VHDX image is truncated: block ${index} lies past the end of the file`);
      return { fileOffset: at };
    }
    if (state === 7) throw containerError('partially present VHDX blocks belong to differencing images, which are not supported');
    return null;
  }
}

export { u64be };
