// qcow2 (versions 2 and 3): L1/L2 cluster maps, compressed clusters (deflate), zero clusters and
// a backing file. Anything else that changes how guest bytes are found is refused.
import { containerError, Reader, type BlockSource } from '../BlockSource.js';
import { u64be } from '../util.js';

const L1_OFFSET_MASK = 0x00fffffffffffe00n;
const COPIED = 1n << 63n;
const COMPRESSED = 1n << 62n;

export interface Qcow2Info {
  version: number;
  clusterSize: number;
  virtualSize: number;
  backingFile?: string;
  backingFormat?: string;
  compressionType: 'zlib' | 'zstd';
  dirty: boolean;
  encrypted: boolean;
}

export async function readQcow2Header(file: Reader): Promise<Qcow2Info> {
  const h = await file.bytes(0, 112);
  const version = h.readUInt32BE(4);
  if (version !== 2 && version !== 3) throw containerError(`qcow2 version ${version} is not supported (only 2 and 3)`);
  const clusterBits = h.readUInt32BE(20);
  if (clusterBits < 9 || clusterBits > 21) throw containerError(`qcow2 header is corrupt: cluster_bits ${clusterBits}`);
  const info: Qcow2Info = {
    version,
    clusterSize: 2 ** clusterBits,
    virtualSize: u64be(h, 24),
    compressionType: 'zlib',
    dirty: false,
    encrypted: h.readUInt32BE(32) !== 0,
  };
  let headerLength = 72;
  if (version === 3) {
    const incompatible = h.readBigUInt64BE(72);
    headerLength = h.readUInt32BE(100);
    info.dirty = Boolean(incompatible & 1n);
    if (incompatible & 2n) throw containerError('the qcow2 image is marked corrupt', 'qemu-img check -r all IMAGE   (repairs it)');
    if (incompatible & 4n) throw containerError('qcow2 images with an external data file are not supported');
    if (incompatible & 16n) throw containerError('qcow2 images with extended L2 entries (subclusters) are not supported yet');
    const unknown = incompatible & ~0x1fn;
    if (unknown) throw containerError(`the qcow2 image uses incompatible features qemount does not know (0x${unknown.toString(16)})`);
    if (incompatible & 8n && headerLength > 104) info.compressionType = h[104] === 1 ? 'zstd' : 'zlib';
  }
  const backingOffset = u64be(h, 8);
  const backingSize = h.readUInt32BE(16);
  if (backingOffset && backingSize) {
    if (backingSize > 1023) throw containerError('qcow2 header is corrupt: backing file name too long');
    info.backingFile = (await file.bytes(backingOffset, backingSize)).toString('utf8');
  }
  // Header extensions: the backing file's format.
  for (let at = headerLength, n = 0; n < 64 && at + 8 <= Math.min(file.size, info.clusterSize); n++) {
    const ext = await file.bytes(at, 8);
    const type = ext.readUInt32BE(0);
    const length = ext.readUInt32BE(4);
    if (type === 0) break;
    if (type === 0xe2792aca) info.backingFormat = (await file.bytes(at + 8, length)).toString('utf8');
    at += 8 + Math.ceil(length / 8) * 8;
  }
  return info;
}

export class Qcow2Source implements BlockSource {
  readonly size: number;
  private l1?: Buffer;
  private readonly l1Offset: number;
  private readonly l1Size: number;
  private readonly clusterBits: number;
  private readonly l2Cache = new Map<number, Promise<Buffer>>();
  private readonly clusterCache = new Map<number, Promise<Buffer>>();

  constructor(private readonly file: Reader, header: Buffer, readonly info: Qcow2Info, private readonly backing?: BlockSource) {
    this.size = info.virtualSize;
    this.clusterBits = Math.log2(info.clusterSize);
    this.l1Offset = u64be(header, 40);
    this.l1Size = header.readUInt32BE(36);
    if (info.encrypted) throw containerError('encrypted qcow2 images are not supported', 'qemu-img convert -O qcow2 --object secret,... (decrypt it first)');
    const needed = Math.ceil(this.size / (info.clusterSize * (info.clusterSize / 8)));
    if (this.l1Size < needed) throw containerError(`qcow2 header is corrupt: L1 table has ${this.l1Size} entries, ${needed} needed`);
    if (this.l1Offset + this.l1Size * 8 > file.size) throw containerError('the qcow2 image is truncated: its L1 table lies past the end of the file');
  }

  private async l2(offset: number): Promise<Buffer> {
    let hit = this.l2Cache.get(offset);
    if (!hit) {
      if (offset + this.info.clusterSize > this.file.size) throw containerError('the qcow2 image is truncated: an L2 table lies past the end of the file');
      hit = this.file.bytes(offset, this.info.clusterSize);
      if (this.l2Cache.size > 32) this.l2Cache.delete(this.l2Cache.keys().next().value!);
      this.l2Cache.set(offset, hit);
    }
    return hit;
  }

  /** The guest bytes of one cluster. */
  private async cluster(index: number): Promise<Buffer> {
    const cached = this.clusterCache.get(index);
    if (cached) return cached;
    const pending = this.loadCluster(index);
    if (this.clusterCache.size > 16) this.clusterCache.delete(this.clusterCache.keys().next().value!);
    this.clusterCache.set(index, pending);
    pending.catch(() => this.clusterCache.delete(index));
    return pending;
  }

  private async loadCluster(index: number): Promise<Buffer> {
    const cs = this.info.clusterSize;
    this.l1 ??= await this.file.bytes(this.l1Offset, this.l1Size * 8);
    const perL2 = cs / 8;
    const l1Index = Math.floor(index / perL2);
    const l1Entry = this.l1.readBigUInt64BE(l1Index * 8);
    const l2Offset = Number(l1Entry & L1_OFFSET_MASK);
    if (!l2Offset) return this.fromBacking(index);
    const entry = (await this.l2(l2Offset)).readBigUInt64BE((index % perL2) * 8);
    if (entry & COMPRESSED) {
      if (this.info.compressionType !== 'zlib') throw containerError('qcow2 clusters compressed with zstd are not supported (Node has no zstd)', 'qemu-img convert -O qcow2 IMAGE OUT   (rewrites it uncompressed)');
      const x = 62 - (this.clusterBits - 8);
      const host = Number(entry & ((1n << BigInt(x)) - 1n));
      const sectors = Number((entry >> BigInt(x)) & ((1n << BigInt(this.clusterBits - 8)) - 1n)) + 1;
      const length = sectors * 512 - (host & 511);
      if (host + 1 > this.file.size) throw containerError('the qcow2 image is truncated: a compressed cluster lies past the end of the file');
      const data = await this.file.bytes(host, Math.min(length, this.file.size - host));
      // Loaded on the first compressed cluster: most images have none, and node:zlib is slow to load.
      const { inflateRawSync, constants: zlibConstants } = await import('node:zlib');
      try {
        const out = inflateRawSync(data, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
        if (out.length < cs) {
          const full = Buffer.alloc(cs);
          out.copy(full);
          return full;
        }
        return out.subarray(0, cs);
      } catch (error) {
        throw containerError(`a compressed qcow2 cluster at ${host} does not decompress`, undefined, error);
      }
    }
    const host = Number(entry & L1_OFFSET_MASK);
    if (entry & 1n) return Buffer.alloc(cs); // reads as zeros
    if (!host) return this.fromBacking(index);
    if (host >= this.file.size) throw containerError(`the qcow2 image is truncated: cluster ${index} lies at ${host}, past the end of the file (${this.file.size} bytes)`);
    void COPIED;
    return this.file.bytes(host, cs);
  }

  private async fromBacking(index: number): Promise<Buffer> {
    if (!this.backing) return Buffer.alloc(this.info.clusterSize);
    return this.backing.read(index * this.info.clusterSize, this.info.clusterSize);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const out = Buffer.alloc(length);
    const cs = this.info.clusterSize;
    let done = 0;
    while (done < length && offset + done < this.size) {
      const at = offset + done;
      const index = Math.floor(at / cs);
      const within = at - index * cs;
      const n = Math.min(cs - within, length - done, this.size - at);
      (await this.cluster(index)).copy(out, done, within, within + n);
      done += n;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.backing?.close?.();
  }
}
