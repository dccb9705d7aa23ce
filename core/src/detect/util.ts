// Small decoding helpers shared by probers.

/** A fixed-size text field: up to the first NUL, trailing spaces and NULs dropped. */
export function cstr(buf: Buffer, encoding: BufferEncoding = 'utf8'): string {
  const nul = buf.indexOf(0);
  const text = (nul >= 0 ? buf.subarray(0, nul) : buf).toString(encoding);
  return text.replace(/[\s\0]+$/, '');
}

/** UTF-16 text (little- or big-endian), up to the first NUL character. */
export function utf16(buf: Buffer, bigEndian = false): string {
  const b = Buffer.from(buf.subarray(0, buf.length & ~1));
  if (bigEndian) b.swap16();
  const text = b.toString('utf16le');
  const nul = text.indexOf('\0');
  return (nul >= 0 ? text.slice(0, nul) : text).replace(/\s+$/, '');
}

const hex = (b: Buffer) => b.toString('hex');

/** 16 bytes as a UUID in byte order (ext4, XFS, Btrfs). */
export function uuid(buf: Buffer): string {
  const h = hex(buf.subarray(0, 16));
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** 16 bytes as a Microsoft GUID (first three fields little-endian), upper case. */
export function guid(buf: Buffer): string {
  const b = buf.subarray(0, 16);
  const le = (s: number, n: number) => hex(Buffer.from(b.subarray(s, s + n)).reverse());
  return `${le(0, 4)}-${le(4, 2)}-${le(6, 2)}-${hex(b.subarray(8, 10))}-${hex(b.subarray(10, 16))}`.toUpperCase();
}

export function isZero(buf: Buffer): boolean {
  for (const b of buf) if (b !== 0) return false;
  return true;
}

/** A 64-bit unsigned read as a JS number (exact below 2^53). */
export function u64le(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * 2 ** 32;
}
export function u64be(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset) * 2 ** 32 + buf.readUInt32BE(offset + 4);
}

/**
 * A reflected CRC-32 for one polynomial, eight bytes per step ("slicing-by-8": eight tables, built on
 * first use). Detection runs once per process, in V8's interpreter: a byte-at-a-time loop over a
 * GPT's 16 KiB of partition entries costs milliseconds there.
 */
function reflectedCrc32(polynomial: number): (buf: Buffer) => number {
  let t: Uint32Array[] | undefined;
  return (buf) => {
    t ??= slicingTables(polynomial);
    const [t0, t1, t2, t3, t4, t5, t6, t7] = t;
    let crc = 0xffffffff;
    let i = 0;
    for (const end = buf.length - 8; i <= end; i += 8) {
      const low = crc ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24));
      crc = t7[low & 0xff] ^ t6[(low >>> 8) & 0xff] ^ t5[(low >>> 16) & 0xff] ^ t4[low >>> 24] ^ t3[buf[i + 4]] ^ t2[buf[i + 5]] ^ t1[buf[i + 6]] ^ t0[buf[i + 7]];
    }
    for (; i < buf.length; i++) crc = t0[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8);
    return (crc ^ 0xffffffff) >>> 0;
  };
}

/** t0 is the byte-at-a-time table; tk[n] is the CRC of byte n followed by k zero bytes. */
function slicingTables(polynomial: number): Uint32Array[] {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? polynomial ^ (c >>> 1) : c >>> 1;
    t[0][n] = c >>> 0;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) t[k][n] = (t[k - 1][n] >>> 8) ^ t[0][t[k - 1][n] & 0xff];
  }
  return t;
}

/** CRC-32 (IEEE), as GPT uses it. */
export const crc32 = reflectedCrc32(0xedb88320);
/** CRC-32C (Castagnoli), as VHDX uses it. */
export const crc32c = reflectedCrc32(0x82f63b78);
