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

/** A table-driven reflected CRC-32 for one polynomial (the table is built on first use). */
function reflectedCrc32(polynomial: number): (buf: Buffer) => number {
  let table: Uint32Array | undefined;
  return (buf) => {
    if (!table) {
      table = new Uint32Array(256);
      for (let n = 0; n < 256; n++) {
        let c = n;
        for (let k = 0; k < 8; k++) c = c & 1 ? polynomial ^ (c >>> 1) : c >>> 1;
        table[n] = c >>> 0;
      }
    }
    let crc = 0xffffffff;
    for (const byte of buf) crc = table[(crc ^ byte) & 0xff] ^ (crc >>> 8);
    return (crc ^ 0xffffffff) >>> 0;
  };
}

/** CRC-32 (IEEE), as GPT uses it. */
export const crc32 = reflectedCrc32(0xedb88320);
/** CRC-32C (Castagnoli), as VHDX uses it. */
export const crc32c = reflectedCrc32(0x82f63b78);
