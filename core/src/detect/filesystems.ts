// Filesystem probers that need logic (feature bits, cluster counts, byte orders, wrappers, label
// lookups). Formats that a fixed magic number identifies are data in the catalogue (magic.ts).
import type { Reader } from './BlockSource.js';
import type { DetectedFilesystem } from './types.js';
import { cstr, isZero, u64be, u64le, utf16, uuid as fmtUuid } from './util.js';

export type FsResult = Omit<DetectedFilesystem, 'offset'>;

export interface FsProber {
  /** The catalogue ids this prober can answer. */
  ids: string[];
  probe(r: Reader): Promise<FsResult | undefined>;
}

function clean<T extends FsResult>(fs: T): T {
  for (const key of ['label', 'uuid', 'version', 'size'] as const) if (fs[key] === undefined || fs[key] === '') delete fs[key];
  if (fs.details && !Object.keys(fs.details).length) delete fs.details;
  return fs;
}

const pow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;

// ---------------------------------------------------------------------------------------------
// ext2 / ext3 / ext4

const extIncompat: Record<number, string> = { 0x1: 'compression', 0x2: 'filetype', 0x4: 'needs_recovery', 0x8: 'journal_dev', 0x10: 'meta_bg', 0x40: 'extent', 0x80: '64bit', 0x100: 'mmp', 0x200: 'flex_bg', 0x400: 'ea_inode', 0x1000: 'dirdata', 0x2000: 'metadata_csum_seed', 0x4000: 'large_dir', 0x8000: 'inline_data', 0x10000: 'encrypt', 0x20000: 'casefold' };
const extRoCompat: Record<number, string> = { 0x1: 'sparse_super', 0x2: 'large_file', 0x4: 'btree_dir', 0x8: 'huge_file', 0x10: 'uninit_bg', 0x20: 'dir_nlink', 0x40: 'extra_isize', 0x100: 'quota', 0x200: 'bigalloc', 0x400: 'metadata_csum', 0x1000: 'read-only', 0x2000: 'project', 0x8000: 'verity', 0x10000: 'orphan_present' };
const extCompat: Record<number, string> = { 0x1: 'dir_prealloc', 0x2: 'imagic_inodes', 0x4: 'has_journal', 0x8: 'ext_attr', 0x10: 'resize_inode', 0x20: 'dir_index', 0x200: 'sparse_super2', 0x1000: 'orphan_file' };

const ext: FsProber = {
  ids: ['ext2', 'ext3', 'ext4'],
  async probe(r) {
    const sb = await r.bytes(1024, 1024);
    if (sb.readUInt16LE(0x38) !== 0xef53) return undefined;
    const compat = sb.readUInt32LE(0x5c);
    const incompat = sb.readUInt32LE(0x60);
    const roCompat = sb.readUInt32LE(0x64);
    if (incompat & 0x8) return undefined; // an external journal device, not a filesystem
    const logBlock = sb.readUInt32LE(0x18);
    if (logBlock > 6) return undefined;
    const blockSize = 1024 << logBlock;
    const blocks = sb.readUInt32LE(0x04) + (incompat & 0x80 ? sb.readUInt32LE(0x150) * 2 ** 32 : 0);
    // As libblkid: ext4 when a feature ext3 does not know is on; ext3 with a journal; else ext2.
    const ext3Incompat = 0x2 | 0x4 | 0x10;
    const ext3RoCompat = 0x1 | 0x2 | 0x4;
    const type = incompat & ~ext3Incompat || roCompat & ~ext3RoCompat ? 'ext4' : compat & 0x4 ? 'ext3' : 'ext2';
    const names = (bits: number, table: Record<number, string>) => Object.entries(table).filter(([bit]) => bits & Number(bit)).map(([, n]) => n);
    const features = [...names(compat, extCompat), ...names(incompat, extIncompat), ...names(roCompat, extRoCompat)];
    return clean({
      type,
      size: blocks * blockSize,
      label: cstr(sb.subarray(0x78, 0x88)),
      uuid: isZero(sb.subarray(0x68, 0x78)) ? undefined : fmtUuid(sb.subarray(0x68, 0x78)),
      version: `${sb.readUInt32LE(0x4c)}.${sb.readUInt16LE(0x3e)}`,
      details: { blockSize, features: features.join(' '), ...(incompat & 0x4 ? { needsRecovery: true } : {}) },
    });
  },
};

// ---------------------------------------------------------------------------------------------
// FAT12 / FAT16 / FAT32, exFAT, NTFS

function fatSerial(n: number): string {
  return `${(n >>> 16).toString(16).toUpperCase().padStart(4, '0')}-${(n & 0xffff).toString(16).toUpperCase().padStart(4, '0')}`;
}

async function fatRootLabel(r: Reader, offset: number, length: number): Promise<string | undefined> {
  const dir = await r.bytes(offset, Math.min(length, 64 * 1024));
  for (let i = 0; i + 32 <= dir.length; i += 32) {
    const first = dir[i];
    if (first === 0) break;
    if (first === 0xe5) continue;
    const attr = dir[i + 11];
    if (attr === 0x0f) continue; // a long-name entry
    if ((attr & 0x18) === 0x08) return cstr(dir.subarray(i, i + 11), 'latin1').replace(/^\x05/, '\xe5');
  }
  return undefined;
}

const fat: FsProber = {
  ids: ['fat12', 'fat16', 'fat32'],
  async probe(r) {
    const b = await r.bytes(0, 512);
    const oem = b.toString('latin1', 3, 11);
    if (oem === 'NTFS    ' || oem === 'EXFAT   ' || oem === '-FVE-FS-') return undefined;
    const bps = b.readUInt16LE(11);
    const spc = b[13];
    const reserved = b.readUInt16LE(14);
    const nfats = b[16];
    const rootEntries = b.readUInt16LE(17);
    const media = b[21];
    if (![512, 1024, 2048, 4096].includes(bps) || !pow2(spc) || !reserved || nfats < 1 || nfats > 4) return undefined;
    if (media !== 0xf0 && media < 0xf8) return undefined;
    if (b[0] !== 0xeb && b[0] !== 0xe9 && !(b[510] === 0x55 && b[511] === 0xaa)) return undefined;
    const fatSize = b.readUInt16LE(22) || b.readUInt32LE(36);
    const total = b.readUInt16LE(19) || b.readUInt32LE(32);
    if (!fatSize || !total) return undefined;
    const rootSectors = Math.ceil((rootEntries * 32) / bps);
    const firstData = reserved + nfats * fatSize + rootSectors;
    if (firstData >= total) return undefined;
    const clusters = Math.floor((total - firstData) / spc);
    const type = clusters < 4085 ? 'fat12' : clusters < 65525 ? 'fat16' : 'fat32';
    const fat32Bpb = b.readUInt16LE(22) === 0;
    const serialAt = fat32Bpb ? 0x43 : 0x27;
    const hasExtBpb = b[fat32Bpb ? 0x42 : 0x26] === 0x29 || b[fat32Bpb ? 0x42 : 0x26] === 0x28;
    let label: string | undefined;
    if (fat32Bpb) {
      const rootCluster = b.readUInt32LE(44);
      label = await fatRootLabel(r, (firstData + (rootCluster - 2) * spc) * bps, spc * bps);
    } else {
      label = await fatRootLabel(r, (reserved + nfats * fatSize) * bps, rootSectors * bps);
    }
    if (label === undefined && hasExtBpb) {
      const bpbLabel = cstr(b.subarray(serialAt + 4, serialAt + 15), 'latin1');
      if (bpbLabel !== 'NO NAME') label = bpbLabel;
    }
    return clean({
      type,
      size: total * bps,
      label,
      uuid: hasExtBpb ? fatSerial(b.readUInt32LE(serialAt)) : undefined,
      version: type.toUpperCase(),
      details: { clusters, clusterSize: spc * bps, oem: cstr(b.subarray(3, 11), 'latin1') },
    });
  },
};

const exfat: FsProber = {
  ids: ['exfat'],
  async probe(r) {
    const b = await r.bytes(0, 512);
    if (b.toString('latin1', 3, 11) !== 'EXFAT   ') return undefined;
    const bpsShift = b[108];
    const spcShift = b[109];
    if (bpsShift < 9 || bpsShift > 12 || spcShift > 25) return undefined;
    const bps = 2 ** bpsShift;
    const clusterSize = bps * 2 ** spcShift;
    const heap = b.readUInt32LE(88) * bps;
    const root = b.readUInt32LE(96);
    let label: string | undefined;
    const dir = await r.bytes(heap + (root - 2) * clusterSize, Math.min(clusterSize, 16 * 1024));
    for (let i = 0; i + 32 <= dir.length; i += 32) {
      const t = dir[i];
      if (t === 0) break;
      if (t === 0x83) {
        label = utf16(dir.subarray(i + 2, i + 2 + Math.min(dir[i + 1], 11) * 2));
        break;
      }
    }
    return clean({
      type: 'exfat',
      size: u64le(b, 72) * bps,
      label,
      uuid: fatSerial(b.readUInt32LE(100)),
      version: `${b[105]}.${b[104]}`,
      details: { clusterSize },
    });
  },
};

const ntfs: FsProber = {
  ids: ['ntfs'],
  async probe(r) {
    const b = await r.bytes(0, 512);
    if (b.toString('latin1', 3, 11) !== 'NTFS    ') return undefined;
    const bps = b.readUInt16LE(11);
    const spcRaw = b[13];
    const spc = spcRaw > 0x80 ? 2 ** (256 - spcRaw) : spcRaw;
    if (![256, 512, 1024, 2048, 4096].includes(bps) || !pow2(spc)) return undefined;
    const clusterSize = bps * spc;
    const mftCluster = u64le(b, 48);
    const perRecord = b.readInt8(64);
    const recordSize = perRecord < 0 ? 2 ** -perRecord : perRecord * clusterSize;
    let label: string | undefined;
    let version: string | undefined;
    if (recordSize >= 512 && recordSize <= 65536) {
      const rec = Buffer.from(await r.bytes(mftCluster * clusterSize + 3 * recordSize, recordSize));
      if (rec.toString('latin1', 0, 4) === 'FILE') {
        // Undo the update sequence (fixups) at the end of each sector.
        const usaOffset = rec.readUInt16LE(4);
        const usaCount = rec.readUInt16LE(6);
        for (let i = 1; i < usaCount && i * bps <= rec.length && usaOffset + i * 2 + 2 <= rec.length; i++) {
          rec.writeUInt16LE(rec.readUInt16LE(usaOffset + i * 2), i * bps - 2);
        }
        for (let at = rec.readUInt16LE(20), n = 0; at + 24 <= rec.length && n < 64; n++) {
          const type = rec.readUInt32LE(at);
          const length = rec.readUInt32LE(at + 4);
          if (type === 0xffffffff || length < 24) break;
          if (rec[at + 8] === 0) {
            const valueLength = rec.readUInt32LE(at + 16);
            const value = rec.subarray(at + rec.readUInt16LE(at + 20), at + rec.readUInt16LE(at + 20) + valueLength);
            if (type === 0x60) label = utf16(value);
            if (type === 0x70 && value.length >= 10) version = `${value[8]}.${value[9]}`;
          }
          at += length;
        }
      }
    }
    return clean({
      type: 'ntfs',
      size: u64le(b, 40) * bps,
      label,
      uuid: b.readBigUInt64LE(72).toString(16).toUpperCase().padStart(16, '0'),
      version,
      details: { clusterSize },
    });
  },
};

// ---------------------------------------------------------------------------------------------
// ISO 9660 (+ Joliet, Rock Ridge, El Torito), High Sierra, UDF

function isoDate(d: Buffer): string | undefined {
  const s = d.toString('latin1', 0, 16);
  if (!/^\d{16}$/.test(s) || /^0+$/.test(s)) return undefined;
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}-${s.slice(8, 10)}-${s.slice(10, 12)}-${s.slice(12, 14)}-${s.slice(14, 16)}`;
}

const iso9660: FsProber = {
  ids: ['iso9660', 'highsierra'],
  async probe(r) {
    const first = await r.bytes(0x8000, 2048);
    if (first.toString('latin1', 9, 14) === 'CDROM' && first[8] === 1) {
      return clean({ type: 'highsierra', label: cstr(first.subarray(48, 80), 'latin1'), size: first.readUInt32LE(88) * first.readUInt16LE(136) });
    }
    let pvd: Buffer | undefined;
    let joliet: Buffer | undefined;
    let elTorito = false;
    for (let i = 0; i < 32; i++) {
      const d = i === 0 ? first : await r.bytes(0x8000 + i * 2048, 2048);
      if (d.toString('latin1', 1, 6) !== 'CD001') break;
      const type = d[0];
      if (type === 255) break;
      if (type === 0 && d.toString('latin1', 7, 30) === 'EL TORITO SPECIFICATION') elTorito = true;
      if (type === 1 && !pvd) pvd = d;
      if (type === 2 && ['%/@', '%/C', '%/E'].includes(d.toString('latin1', 88, 91))) joliet = d;
    }
    if (!pvd) return undefined;
    const blockSize = pvd.readUInt16LE(128) || 2048;
    const pvdLabel = cstr(pvd.subarray(40, 72), 'latin1');
    const jolietLabel = joliet ? utf16(joliet.subarray(40, 72), true) : undefined;
    // Rock Ridge: the root directory's "." record carries SUSP entries (SP, RR, PX, ...).
    const rootExtent = pvd.readUInt32LE(158);
    const dot = await r.bytes(rootExtent * blockSize, 256);
    const nameLength = dot[32];
    const su = dot.subarray(33 + nameLength + (nameLength % 2 === 0 ? 1 : 0), dot[0]);
    const suText = su.toString('latin1');
    const rockRidge = suText.includes('SP\x07\x01\xbe\xef') || /RR|PX/.test(suText);
    const label = jolietLabel && jolietLabel.length >= pvdLabel.length && jolietLabel.toUpperCase().startsWith(pvdLabel.toUpperCase().slice(0, jolietLabel.length)) ? jolietLabel : pvdLabel;
    return clean({
      type: 'iso9660',
      size: pvd.readUInt32LE(80) * blockSize,
      label: label || pvdLabel,
      uuid: isoDate(pvd.subarray(830, 847)) ?? isoDate(pvd.subarray(813, 830)),
      version: joliet ? 'Joliet Extension' : undefined,
      details: { joliet: Boolean(joliet), rockRidge, ...(elTorito ? { elTorito: true } : {}), blockSize, ...(cstr(pvd.subarray(8, 40), 'latin1') ? { systemId: cstr(pvd.subarray(8, 40), 'latin1') } : {}) },
    });
  },
};

function dstring(field: Buffer): string {
  const used = Math.min(field[field.length - 1], field.length - 1);
  if (!used) return '';
  const comp = field[0];
  const body = field.subarray(1, used);
  if (comp === 16) return utf16(body, true);
  return cstr(body, 'latin1');
}

const udf: FsProber = {
  ids: ['udf'],
  async probe(r) {
    // Volume recognition sequence: BEA01 ... NSR02/NSR03 ... TEA01
    let nsr: string | undefined;
    let bea = false;
    for (let i = 0; i < 64; i++) {
      const id = (await r.bytes(0x8000 + i * 2048 + 1, 5)).toString('latin1');
      if (id === 'BEA01') bea = true;
      else if (id === 'NSR02' || id === 'NSR03') nsr = id;
      else if (id === 'TEA01') break;
      else if (!['CD001', 'CDW02', 'BOOT2'].includes(id)) break;
    }
    if (!bea || !nsr) return undefined;
    for (const bs of [2048, 512, 1024, 4096]) {
      const avdp = await r.bytes(256 * bs, 512);
      if (avdp.readUInt16LE(0) !== 2 || avdp.readUInt32LE(12) !== 256) continue;
      const length = avdp.readUInt32LE(16);
      const location = avdp.readUInt32LE(20);
      let label: string | undefined;
      let volumeId: string | undefined;
      let volSet: string | undefined;
      let version: string | undefined;
      let size: number | undefined;
      for (let i = 0; i < Math.min(Math.ceil(length / bs), 64); i++) {
        const d = await r.bytes((location + i) * bs, 512);
        const tag = d.readUInt16LE(0);
        if (d.readUInt32LE(12) !== location + i) break;
        if (tag === 1) {
          volumeId = dstring(d.subarray(24, 56));
          volSet = dstring(d.subarray(72, 200));
        } else if (tag === 6) {
          label = dstring(d.subarray(84, 212));
          const rev = d.readUInt16LE(216 + 24);
          if (rev) version = `${(rev >> 8).toString(16)}.${(rev & 0xff).toString(16).padStart(2, '0')}`;
        } else if (tag === 5) {
          size = (d.readUInt32LE(188) + d.readUInt32LE(192)) * bs;
        } else if (tag === 8) break;
      }
      let id: string | undefined;
      if (volSet) {
        const hex16 = /^[0-9a-fA-F]{16}/.exec(volSet);
        id = hex16 ? hex16[0].toLowerCase() : Buffer.from(volSet, 'latin1').subarray(0, 8).toString('hex');
      }
      return clean({ type: 'udf', label: label || volumeId, uuid: id, version, size, details: { blockSize: bs, nsr } });
    }
    return undefined;
  },
};

// ---------------------------------------------------------------------------------------------
// HFS, HFS+ (also inside an HFS wrapper)

const macRoman = 'ÄÅÇÉÑÖÜáàâäãåçéèêëíìîïñóòôöõúùûü†°¢£§•¶ß®©™´¨≠ÆØ∞±≤≥¥µ∂∑∏π∫ªºΩæø¿¡¬√ƒ≈∆«»… ÀÃÕŒœ–—“”‘’÷◊ÿŸ⁄€‹›ﬁﬂ‡·‚„‰ÂÊÁËÈÍÎÏÌÓÔÒÚÛÙıˆ˜¯˘˙˚¸˝˛ˇ';
function fromMacRoman(b: Buffer): string {
  return [...b].map((c) => (c < 0x80 ? String.fromCharCode(c) : macRoman[c - 0x80])).join('');
}

async function hfsUuid(finder: Buffer): Promise<string | undefined> {
  const id = finder.subarray(0, 8);
  if (isZero(id)) return undefined;
  // Loaded here, not at the top: only HFS volumes need md5, and node:crypto is slow to load.
  const { createHash } = await import('node:crypto');
  const ns = Buffer.from('b3e20f39f29211d697a400306543ecac', 'hex');
  const h = createHash('md5').update(ns).update(id).digest();
  h[6] = (h[6] & 0x0f) | 0x30;
  h[8] = (h[8] & 0x3f) | 0x80;
  return fmtUuid(h);
}

async function hfsPlus(r: Reader, offset: number): Promise<FsResult | undefined> {
  const h = await r.bytes(offset + 1024, 512);
  const sig = h.toString('latin1', 0, 2);
  if (sig !== 'H+' && sig !== 'HX') return undefined;
  const blockSize = h.readUInt32BE(40);
  if (!pow2(blockSize) || blockSize < 512) return undefined;
  let label: string | undefined;
  // The volume name is the name of the root folder: the first record of the catalog's first leaf.
  try {
    const extents = Array.from({ length: 8 }, (_, i) => ({ start: h.readUInt32BE(0x120 + i * 8), count: h.readUInt32BE(0x124 + i * 8) }));
    const catalogAt = async (pos: number, length: number) => {
      let base = 0;
      for (const e of extents) {
        const bytes = e.count * blockSize;
        if (pos < base + bytes) return r.bytes(offset + e.start * blockSize + (pos - base), length);
        base += bytes;
      }
      return undefined;
    };
    const header = await catalogAt(0, 512);
    if (header) {
      const nodeSize = header.readUInt16BE(14 + 18);
      const firstLeaf = header.readUInt32BE(14 + 10);
      const leaf = nodeSize >= 512 && firstLeaf ? await catalogAt(firstLeaf * nodeSize, nodeSize) : undefined;
      if (leaf && leaf.readInt8(8) === -1) {
        const rec = leaf.readUInt16BE(nodeSize - 2);
        const parent = leaf.readUInt32BE(rec + 2);
        const length = leaf.readUInt16BE(rec + 6);
        if (parent === 1 && length <= 255) label = utf16(leaf.subarray(rec + 8, rec + 8 + length * 2), true);
      }
    }
  } catch {
    label = undefined;
  }
  return clean({
    type: 'hfsplus',
    size: h.readUInt32BE(44) * blockSize,
    label,
    uuid: await hfsUuid(h.subarray(0x68, 0x70)),
    version: String(h.readUInt16BE(2)),
    details: { blockSize, ...(sig === 'HX' ? { caseSensitive: true } : {}), ...(h.readUInt32BE(4) & 0x2000 ? { journaled: true } : {}) },
  });
}

const hfs: FsProber = {
  ids: ['hfs', 'hfsplus'],
  async probe(r) {
    const m = await r.bytes(1024, 512);
    if (m.toString('latin1', 0, 2) === 'BD') {
      const blockSize = m.readUInt32BE(20);
      const firstBlock = m.readUInt16BE(28);
      if (!blockSize || blockSize % 512) return undefined;
      if (m.toString('latin1', 124, 126) === 'H+') {
        const embedded = firstBlock * 512 + m.readUInt16BE(126) * blockSize;
        const inner = await hfsPlus(r, embedded);
        if (inner) return { ...inner, details: { ...inner.details, wrapper: 'HFS', embeddedOffset: embedded } };
      }
      const nameLength = Math.min(m[36], 27);
      return clean({
        type: 'hfs',
        size: m.readUInt16BE(18) * blockSize + firstBlock * 512,
        label: fromMacRoman(m.subarray(37, 37 + nameLength)),
        uuid: await hfsUuid(m.subarray(0x68, 0x70)),
        details: { blockSize },
      });
    }
    return hfsPlus(r, 0);
  },
};

// ---------------------------------------------------------------------------------------------
// UFS1 / UFS2 (both byte orders)

const ufs: FsProber = {
  ids: ['ufs1', 'ufs2'],
  async probe(r) {
    const ufs1Magics = [0x00011954, 0x00195612, 0x00095014, 0x00612195, 0x05231994];
    for (const at of [0, 8192, 65536, 262144]) {
      const sb = await r.bytes(at, 1376);
      for (const be of [false, true]) {
        const u32 = (o: number) => (be ? sb.readUInt32BE(o) : sb.readUInt32LE(o));
        const magic = u32(1372);
        const v2 = magic === 0x19540119;
        if (!v2 && !ufs1Magics.includes(magic)) continue;
        const fsize = u32(52);
        const bsize = u32(48);
        if (!pow2(fsize) || !pow2(bsize)) continue;
        const id = [u32(144), u32(148)];
        const blocks = v2 ? (be ? u64be(sb, 1080) : u64le(sb, 1080)) : u32(36);
        return clean({
          type: v2 ? 'ufs2' : 'ufs1',
          size: blocks * fsize,
          label: v2 ? cstr(sb.subarray(680, 712)) : undefined,
          uuid: id[0] || id[1] ? id.map((x) => x.toString(16).padStart(8, '0')).join('') : undefined,
          version: v2 ? '2' : '1',
          details: { byteOrder: be ? 'big-endian' : 'little-endian', superblockOffset: at, blockSize: bsize, fragmentSize: fsize },
        });
      }
    }
    return undefined;
  },
};

// ---------------------------------------------------------------------------------------------
// Linux filesystems

const xfs: FsProber = {
  ids: ['xfs'],
  async probe(r) {
    const sb = await r.bytes(0, 512);
    if (sb.toString('latin1', 0, 4) !== 'XFSB') return undefined;
    const blockSize = sb.readUInt32BE(4);
    if (!pow2(blockSize) || blockSize < 512 || blockSize > 65536) return undefined;
    return clean({ type: 'xfs', size: u64be(sb, 8) * blockSize, label: cstr(sb.subarray(108, 120)), uuid: fmtUuid(sb.subarray(32, 48)), version: String(sb.readUInt16BE(100) & 0xf), details: { blockSize } });
  },
};

const jfs: FsProber = {
  ids: ['jfs'],
  async probe(r) {
    const sb = await r.bytes(32768, 256);
    if (sb.toString('latin1', 0, 4) !== 'JFS1') return undefined;
    const version = sb.readUInt32LE(4);
    const pbsize = sb.readUInt32LE(24) || 512;
    return clean({
      type: 'jfs',
      size: u64le(sb, 8) * pbsize,
      label: version === 2 ? cstr(sb.subarray(152, 168)) : cstr(sb.subarray(101, 112)),
      uuid: isZero(sb.subarray(136, 152)) ? undefined : fmtUuid(sb.subarray(136, 152)),
      version: String(version),
      details: { blockSize: sb.readUInt32LE(16) },
    });
  },
};

const btrfs: FsProber = {
  ids: ['btrfs'],
  async probe(r) {
    const sb = await r.bytes(65536, 1024);
    if (sb.toString('latin1', 64, 72) !== '_BHRfS_M') return undefined;
    return clean({
      type: 'btrfs',
      size: u64le(sb, 0x70),
      label: cstr(sb.subarray(0x12b, 0x22b)),
      uuid: fmtUuid(sb.subarray(0x20, 0x30)),
      details: { sectorSize: sb.readUInt32LE(0x90), devices: u64le(sb, 0x88) },
    });
  },
};

const f2fs: FsProber = {
  ids: ['f2fs'],
  async probe(r) {
    const sb = await r.bytes(1024, 1024);
    if (sb.readUInt32LE(0) !== 0xf2f52010) return undefined;
    const logBlock = sb.readUInt32LE(16);
    return clean({
      type: 'f2fs',
      size: logBlock < 20 ? u64le(sb, 36) * 2 ** logBlock : undefined,
      label: utf16(sb.subarray(124, 124 + 1024 - 124)),
      uuid: fmtUuid(sb.subarray(108, 124)),
      version: `${sb.readUInt16LE(4)}.${sb.readUInt16LE(6)}`,
    });
  },
};

const erofs: FsProber = {
  ids: ['erofs'],
  async probe(r) {
    const sb = await r.bytes(1024, 128);
    if (sb.readUInt32LE(0) !== 0xe0f5e1e2) return undefined;
    const bits = sb[12];
    if (bits < 9 || bits > 16) return undefined;
    const incompat = sb.readUInt32LE(80);
    return clean({
      type: 'erofs',
      size: sb.readUInt32LE(36) * 2 ** bits,
      label: cstr(sb.subarray(64, 80)),
      uuid: isZero(sb.subarray(48, 64)) ? undefined : fmtUuid(sb.subarray(48, 64)),
      details: { blockSize: 2 ** bits, ...(incompat ? { featureIncompat: `0x${incompat.toString(16)}` } : {}) },
    });
  },
};

const reiserfs: FsProber = {
  ids: ['reiserfs', 'reiser4'],
  async probe(r) {
    const r4 = await r.bytes(65536, 52);
    if (r4.toString('latin1', 0, 7) === 'ReIsEr4') {
      return clean({ type: 'reiser4', label: cstr(r4.subarray(36, 52)), uuid: fmtUuid(r4.subarray(20, 36)) });
    }
    for (const at of [65536, 8192]) {
      const sb = await r.bytes(at, 128);
      const magic = sb.toString('latin1', 52, 62);
      const version = magic.startsWith('ReIsErFs') ? '3.5' : magic.startsWith('ReIsEr2Fs') ? '3.6' : magic.startsWith('ReIsEr3Fs') ? 'JR' : undefined;
      if (!version || (at === 8192 && version !== '3.5')) continue;
      const newFormat = version !== '3.5';
      return clean({
        type: 'reiserfs',
        size: sb.readUInt32LE(0) * sb.readUInt16LE(44),
        label: newFormat ? cstr(sb.subarray(100, 116)) : undefined,
        uuid: newFormat && !isZero(sb.subarray(84, 100)) ? fmtUuid(sb.subarray(84, 100)) : undefined,
        version,
      });
    }
    return undefined;
  },
};

const minix: FsProber = {
  ids: ['minix'],
  async probe(r) {
    const sb = await r.bytes(1024, 64);
    if (sb.readUInt16LE(0x38) === 0xef53) return undefined; // an ext superblock can look like a Minix one
    for (const be of [false, true]) {
      const u16 = (o: number) => (be ? sb.readUInt16BE(o) : sb.readUInt16LE(o));
      const u32 = (o: number) => (be ? sb.readUInt32BE(o) : sb.readUInt32LE(o));
      const m = u16(16);
      const v12 = { 0x137f: [1, 14], 0x138f: [1, 30], 0x2468: [2, 14], 0x2478: [2, 30] }[m];
      if (v12) {
        const [version, names] = v12;
        if (!u16(4) || !u16(6) || u16(10) > 8) continue;
        const zones = version === 1 ? u16(2) : u32(20);
        return clean({ type: 'minix', size: zones * 1024, version: String(version), details: { nameLength: names, byteOrder: be ? 'big-endian' : 'little-endian' } });
      }
      if (u16(24) === 0x4d5a) {
        const blockSize = u16(28);
        if (!u16(6) || !u16(8) || ![1024, 2048, 4096, 8192].includes(blockSize)) continue;
        return clean({ type: 'minix', size: u32(20) * blockSize, version: '3', details: { nameLength: 60, blockSize, byteOrder: be ? 'big-endian' : 'little-endian' } });
      }
    }
    return undefined;
  },
};

const squashfsCompressors = ['?', 'gzip', 'lzma', 'lzo', 'xz', 'lz4', 'zstd'];
const squashfs: FsProber = {
  ids: ['squashfs'],
  async probe(r) {
    const sb = await r.bytes(0, 96);
    const sig = sb.toString('latin1', 0, 4);
    if (sig !== 'hsqs' && sig !== 'sqsh') return undefined;
    const be = sig === 'sqsh';
    const u16 = (o: number) => (be ? sb.readUInt16BE(o) : sb.readUInt16LE(o));
    const major = u16(28);
    const minor = u16(30);
    if (major < 1 || major > 4) return undefined;
    const comp = major >= 4 ? u16(20) : 1;
    return clean({
      type: 'squashfs',
      size: major >= 4 ? (be ? u64be(sb, 40) : u64le(sb, 40)) : be ? sb.readUInt32BE(8) : sb.readUInt32LE(8),
      version: `${major}.${minor}`,
      details: { compressor: squashfsCompressors[comp] ?? `unknown (${comp})`, ...(be ? { byteOrder: 'big-endian' } : {}) },
    });
  },
};

const cramfs: FsProber = {
  ids: ['cramfs'],
  async probe(r) {
    for (const at of [0, 512]) {
      const sb = await r.bytes(at, 64);
      const le = sb.readUInt32LE(0) === 0x28cd3d45;
      const be = sb.readUInt32BE(0) === 0x28cd3d45;
      if (!le && !be) continue;
      if (sb.toString('latin1', 16, 32) !== 'Compressed ROMFS') continue;
      const u32 = (o: number) => (be ? sb.readUInt32BE(o) : sb.readUInt32LE(o));
      return clean({ type: 'cramfs', size: u32(4), label: cstr(sb.subarray(48, 64)), version: u32(8) & 1 ? '2' : '1', details: { byteOrder: be ? 'big-endian' : 'little-endian' } });
    }
    return undefined;
  },
};

const romfs: FsProber = {
  ids: ['romfs'],
  async probe(r) {
    const sb = await r.bytes(0, 512);
    if (sb.toString('latin1', 0, 8) !== '-rom1fs-') return undefined;
    return clean({ type: 'romfs', size: sb.readUInt32BE(8), label: cstr(sb.subarray(16, 512)) });
  },
};

const nilfs2: FsProber = {
  ids: ['nilfs2'],
  async probe(r) {
    const sb = await r.bytes(1024, 256);
    if (sb.readUInt16LE(6) !== 0x3434) return undefined;
    return clean({ type: 'nilfs2', size: u64le(sb, 32), label: cstr(sb.subarray(0xa8, 0xa8 + 80)), uuid: fmtUuid(sb.subarray(0x98, 0xa8)), version: String(sb.readUInt32LE(0)) });
  },
};

const gfs2: FsProber = {
  ids: ['gfs2'],
  async probe(r) {
    const sb = await r.bytes(65536, 512);
    if (sb.readUInt32BE(0) !== 0x01161970 || sb.readUInt32BE(4) !== 1) return undefined;
    const format = sb.readUInt32BE(24);
    if (format < 1800 || format > 1899) return undefined; // 1309 is GFS (version 1)
    return clean({ type: 'gfs2', label: cstr(sb.subarray(160, 224)), uuid: isZero(sb.subarray(256, 272)) ? undefined : fmtUuid(sb.subarray(256, 272)), version: '1', details: { lockProtocol: cstr(sb.subarray(96, 160)), blockSize: sb.readUInt32BE(36) } });
  },
};

const ocfs2: FsProber = {
  ids: ['ocfs2'],
  async probe(r) {
    for (const at of [1024, 2048, 4096, 8192]) {
      const d = await r.bytes(at, 512);
      if (d.toString('latin1', 0, 6) !== 'OCFSV2') continue;
      const s = 0xc0;
      const bits = d.readUInt32LE(s + 56);
      return clean({
        type: 'ocfs2',
        label: cstr(d.subarray(s + 80, s + 144)),
        uuid: fmtUuid(d.subarray(s + 144, s + 160)),
        version: `${d.readUInt16LE(s)}.${d.readUInt16LE(s + 2)}`,
        details: { blockSize: bits < 16 ? 2 ** bits : bits, maxSlots: d.readUInt16LE(s + 64) },
      });
    }
    return undefined;
  },
};

const bfs: FsProber = {
  ids: ['bfs'],
  async probe(r) {
    const sb = await r.bytes(0, 64);
    if (sb.readUInt32LE(0) !== 0x1badface) return undefined;
    const end = sb.readUInt32LE(8);
    return clean({ type: 'bfs', size: end ? end + 1 : undefined, label: cstr(sb.subarray(34, 40), 'latin1'), details: { fsname: cstr(sb.subarray(28, 34), 'latin1') } });
  },
};

function crc32Jffs2(buf: Buffer): number {
  // JFFS2 seeds the CRC with 0 and does not invert it at the end.
  let crc = 0;
  for (const byte of buf) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return crc >>> 0;
}

const jffs2: FsProber = {
  ids: ['jffs2'],
  async probe(r) {
    const h = await r.bytes(0, 12);
    for (const be of [false, true]) {
      const u16 = (o: number) => (be ? h.readUInt16BE(o) : h.readUInt16LE(o));
      if (u16(0) !== 0x1985) continue;
      if (![0xe001, 0xe002, 0x2003, 0x2004, 0x2006, 0xe008, 0xe009].includes(u16(2))) continue;
      const crc = be ? h.readUInt32BE(8) : h.readUInt32LE(8);
      const data = Buffer.from(h.subarray(0, 8));
      if (be) {
        data.writeUInt16LE(data.readUInt16BE(0), 0);
        data.writeUInt16LE(data.readUInt16BE(2), 2);
        data.writeUInt32LE(data.readUInt32BE(4), 4);
      }
      if (crc32Jffs2(data) !== crc) continue;
      return clean({ type: 'jffs2', details: { byteOrder: be ? 'big-endian' : 'little-endian' } });
    }
    return undefined;
  },
};

const ubifs: FsProber = {
  ids: ['ubifs'],
  async probe(r) {
    const sb = await r.bytes(0, 160);
    if (sb.readUInt32LE(0) !== 0x06101831 || sb[20] !== 6) return undefined;
    const compr = ['none', 'lzo', 'zlib', 'zstd'][sb.readUInt16LE(84)] ?? 'unknown';
    return clean({
      type: 'ubifs',
      size: sb.readUInt32LE(36) * sb.readUInt32LE(40),
      uuid: fmtUuid(sb.subarray(108, 124)),
      version: `w${sb.readUInt32LE(80)}r${sb.readUInt32LE(124)}`,
      details: { compressor: compr, lebSize: sb.readUInt32LE(36), minIoSize: sb.readUInt32LE(32) },
    });
  },
};

// ---------------------------------------------------------------------------------------------
// ZFS (pool member): the label's XDR-encoded nvlist

function parseNvlist(b: Buffer): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (b[0] !== 1) return out; // 1 = XDR encoding
  let at = 4 + 8; // encoding header, then nvl_version and nvl_nvflag
  for (let n = 0; n < 200 && at + 8 <= b.length; n++) {
    const encoded = b.readInt32BE(at);
    if (encoded <= 0) break;
    const next = at + encoded;
    let p = at + 8;
    const nameLength = b.readUInt32BE(p);
    const name = b.toString('utf8', p + 4, p + 4 + nameLength);
    p += 4 + Math.ceil(nameLength / 4) * 4;
    const type = b.readUInt32BE(p);
    p += 8; // type, element count
    if (type === 8 || type === 9 && false) out[name] = Number(b.readBigUInt64BE(p));
    else if (type === 9) {
      const l = b.readUInt32BE(p);
      out[name] = b.toString('utf8', p + 4, p + 4 + l);
    } else if (type === 3 || type === 5 || type === 7) out[name] = b.readInt32BE(p);
    if (type === 8 && b.readBigUInt64BE(p) > BigInt(Number.MAX_SAFE_INTEGER)) out[name] = b.readBigUInt64BE(p).toString();
    at = next;
  }
  return out;
}

const zfs: FsProber = {
  ids: ['zfs'],
  async probe(r) {
    for (const label of [0, 262144]) {
      // Uberblocks: an array at 128 KiB into the label; each starts with the magic 0x00bab10c.
      let found = false;
      for (let i = 0; i < 32 && !found; i++) {
        const ub = await r.bytes(label + 131072 + i * 1024, 8);
        if (ub.readBigUInt64LE(0) === 0xbab10cn || ub.readBigUInt64BE(0) === 0xbab10cn) found = true;
      }
      if (!found) continue;
      const nv = parseNvlist(await r.bytes(label + 16384, 16384));
      const uuidOf = (v: string | number | undefined) => (v === undefined ? undefined : String(v));
      return clean({ type: 'zfs', label: typeof nv.name === 'string' ? nv.name : undefined, uuid: uuidOf(nv.pool_guid), version: nv.version !== undefined ? String(nv.version) : undefined, details: { ...(nv.guid !== undefined ? { vdevGuid: String(nv.guid) } : {}) } });
    }
    return undefined;
  },
};

const apfs: FsProber = {
  ids: ['apfs'],
  async probe(r) {
    const sb = await r.bytes(0, 128);
    if (sb.toString('latin1', 32, 36) !== 'NXSB') return undefined;
    const blockSize = sb.readUInt32LE(36);
    return clean({ type: 'apfs', size: blockSize * u64le(sb, 40), uuid: fmtUuid(sb.subarray(72, 88)), details: { blockSize } });
  },
};

// ---------------------------------------------------------------------------------------------
// Containers of data: LUKS, swap, LVM2, MD RAID, bcachefs

const luks: FsProber = {
  ids: ['luks'],
  async probe(r) {
    const h = await r.bytes(0, 512);
    if (!h.subarray(0, 6).equals(Buffer.from('LUKS\xba\xbe', 'latin1'))) return undefined;
    const version = h.readUInt16BE(6);
    return clean({
      type: 'luks',
      version: String(version),
      label: version === 2 ? cstr(h.subarray(24, 72)) : undefined,
      uuid: cstr(h.subarray(168, 208), 'latin1'),
      details: version === 1 ? { cipher: `${cstr(h.subarray(8, 40), 'latin1')}-${cstr(h.subarray(40, 72), 'latin1')}` } : {},
    });
  },
};

const swap: FsProber = {
  ids: ['swap'],
  async probe(r) {
    for (const page of [4096, 8192, 16384, 65536]) {
      const sig = (await r.bytes(page - 10, 10)).toString('latin1');
      if (sig !== 'SWAPSPACE2' && sig !== 'SWAP-SPACE') continue;
      if (sig === 'SWAP-SPACE') return { type: 'swap', version: '0' };
      const h = await r.bytes(1024, 64);
      const lastPage = h.readUInt32LE(4);
      return clean({
        type: 'swap',
        size: (lastPage + 1) * page,
        label: cstr(h.subarray(28, 44)),
        uuid: isZero(h.subarray(12, 28)) ? undefined : fmtUuid(h.subarray(12, 28)),
        version: String(h.readUInt32LE(0)),
        details: { pageSize: page },
      });
    }
    return undefined;
  },
};

const lvm2: FsProber = {
  ids: ['lvm2'],
  async probe(r) {
    for (let s = 0; s < 4; s++) {
      const l = await r.bytes(s * 512, 64);
      if (l.toString('latin1', 0, 8) !== 'LABELONE' || l.toString('latin1', 24, 32) !== 'LVM2 001') continue;
      const id = l.toString('latin1', 32, 64);
      const parts = [6, 4, 4, 4, 4, 4, 6];
      let at = 0;
      const uuid = parts.map((n) => id.slice(at, (at += n))).join('-');
      return { type: 'lvm2', uuid, version: 'LVM2 001' };
    }
    return undefined;
  },
};

const linuxRaid: FsProber = {
  ids: ['linux-raid'],
  async probe(r) {
    const sectors = Math.floor(r.size / 512);
    const v1 = [0, 4096, sectors > 16 ? ((sectors - 16) & ~7) * 512 : -1];
    for (const at of v1) {
      if (at < 0) continue;
      const sb = await r.bytes(at, 256);
      if (sb.readUInt32LE(0) !== 0xa92b4efc || sb.readUInt32LE(4) !== 1) continue;
      return clean({ type: 'linux-raid', label: cstr(sb.subarray(32, 64)), uuid: fmtUuid(sb.subarray(16, 32)), version: at === 0 ? '1.1' : at === 4096 ? '1.2' : '1.0', details: { level: sb.readInt32LE(72), devices: sb.readUInt32LE(92) } });
    }
    if (sectors >= 128) {
      const at = ((sectors & ~127) - 128) * 512;
      const sb = await r.bytes(at, 64);
      for (const be of [false, true]) {
        if ((be ? sb.readUInt32BE(0) : sb.readUInt32LE(0)) !== 0xa92b4efc) continue;
        const u32 = (o: number) => (be ? sb.readUInt32BE(o) : sb.readUInt32LE(o));
        const id = Buffer.alloc(16);
        [u32(20), u32(52), u32(56), u32(60)].forEach((v, i) => id.writeUInt32BE(v, i * 4));
        return { type: 'linux-raid', uuid: fmtUuid(id), version: '0.90.0' };
      }
    }
    return undefined;
  },
};

const bcachefs: FsProber = {
  ids: ['bcachefs'],
  async probe(r) {
    const sb = await r.bytes(4096, 112);
    const magic = sb.subarray(24, 40).toString('hex');
    if (magic !== 'c68573f64e1a45ca8265f57f48ba6d81' && magic !== 'c68573f64e1a45ca8265f57f48ba6d82') return undefined;
    return clean({ type: 'bcachefs', label: cstr(sb.subarray(72, 104)), uuid: fmtUuid(sb.subarray(56, 72)), version: String(sb.readUInt16LE(16)) });
  },
};

// ---------------------------------------------------------------------------------------------
// Other systems' filesystems with documented superblocks

const befs: FsProber = {
  ids: ['befs'],
  async probe(r) {
    for (const at of [512, 0]) {
      const sb = await r.bytes(at, 128);
      for (const be of [false, true]) {
        const u32 = (o: number) => (be ? sb.readUInt32BE(o) : sb.readUInt32LE(o));
        if (u32(32) !== 0x42465331 || u32(68) !== 0xdd121031 || u32(112) !== 0x15b6830e) continue;
        const blockSize = u32(40);
        const blocks = be ? u64be(sb, 48) : u64le(sb, 48);
        return clean({ type: 'befs', size: blocks * blockSize, label: cstr(sb.subarray(0, 32)), details: { blockSize, byteOrder: be ? 'big-endian' : 'little-endian' } });
      }
    }
    return undefined;
  },
};

const hpfs: FsProber = {
  ids: ['hpfs'],
  async probe(r) {
    const sb = await r.bytes(8192, 32);
    if (sb.readUInt32LE(0) !== 0xf995e849) return undefined;
    if ((await r.u32le(8704)) !== 0xf9911849) return undefined;
    const boot = await r.bytes(0, 64);
    const hasBpb = boot[0x26] === 0x28 || boot[0x26] === 0x29;
    return clean({
      type: 'hpfs',
      size: sb.readUInt32LE(16) * 512,
      label: hasBpb ? cstr(boot.subarray(0x2b, 0x36), 'latin1') : undefined,
      uuid: hasBpb ? fatSerial(boot.readUInt32LE(0x27)) : undefined,
      version: String(sb[8]),
    });
  },
};

const sysv: FsProber = {
  ids: ['sysv', 'xenix'],
  async probe(r) {
    const x = await r.bytes(1024, 1024);
    if (x.toString('latin1', 1016, 1019) === '\x2b\x55\x44' || x.toString('latin1', 1017, 1020) === '\x44\x55\x2b') {
      return clean({ type: 'xenix', label: cstr(x.subarray(632, 638), 'latin1') });
    }
    for (const block of [0, 9, 15, 18]) {
      const sb = await r.bytes(block * 1024 + 512, 512);
      if (sb.readUInt32LE(504) !== 0xfd187e20 && sb.readUInt32BE(504) !== 0xfd187e20) continue;
      const be = sb.readUInt32BE(504) === 0xfd187e20;
      const type = be ? sb.readUInt32BE(508) : sb.readUInt32LE(508);
      return clean({ type: 'sysv', label: cstr(sb.subarray(440, 446), 'latin1'), details: { blockSize: type === 3 ? 2048 : type === 2 ? 1024 : 512, byteOrder: be ? 'big-endian' : 'little-endian' } });
    }
    return undefined;
  },
};

const affs: FsProber = {
  ids: ['affs'],
  async probe(r) {
    const boot = await r.bytes(0, 12);
    if (boot.toString('latin1', 0, 3) !== 'DOS' || boot[3] > 7) return undefined;
    const flavour = ['OFS', 'FFS', 'OFS intl', 'FFS intl', 'OFS dircache', 'FFS dircache', 'OFS long names', 'FFS long names'][boot[3]];
    // The root block is in the middle of the partition; its name is a BCPL string near its end.
    let label: string | undefined;
    for (const bs of [512, 1024, 2048, 4096]) {
      const blocks = Math.floor(r.size / bs);
      if (blocks < 2) continue;
      const root = await r.bytes(Math.floor((blocks - 1 + 2) / 2) * bs, bs);
      if (root.readUInt32BE(0) === 2 && root.readInt32BE(bs - 4) === 1) {
        label = root.toString('latin1', bs - 79, bs - 79 + Math.min(root[bs - 80], 30));
        break;
      }
    }
    return clean({ type: 'affs', label, details: { flavour } });
  },
};

function filecoreChecksum(b: Buffer): number {
  let result = 0;
  for (let i = 510; i >= 0; i--) result = (result & 0xff) + (result >> 8) + b[i];
  return result & 0xff;
}

const filecore: FsProber = {
  ids: ['filecore', 'adfs'],
  async probe(r) {
    // Hard discs: a boot block at 0xC00 whose disc record starts at 0x1C0.
    const bb = await r.bytes(0xc00, 512);
    if (isZero(bb) || filecoreChecksum(bb) !== bb[511]) return undefined;
    const dr = bb.subarray(0x1c0, 0x1c0 + 60);
    const log2sec = dr[0];
    if (log2sec < 8 || log2sec > 12 || !dr[9]) return undefined;
    return clean({ type: 'filecore', size: dr.readUInt32LE(16) + (dr.readUInt32LE(36) || 0) * 2 ** 32, label: cstr(dr.subarray(22, 32), 'latin1'), details: { sectorSize: 2 ** log2sec, zones: dr[9] } });
  },
};

/** Every code prober, in the order their answers are reported when several match. */
export const fsProbers: FsProber[] = [
  luks, lvm2, linuxRaid, bcachefs, swap,
  iso9660, udf, hfs,
  ext, xfs, btrfs, f2fs, jfs, reiserfs, nilfs2, gfs2, ocfs2, erofs, squashfs, cramfs, romfs, minix, bfs,
  fat, exfat, ntfs, hpfs,
  ufs, zfs, apfs, befs, sysv, affs, filecore,
  jffs2, ubifs,
];
