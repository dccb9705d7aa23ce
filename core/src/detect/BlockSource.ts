// The bytes detection reads: a BlockSource is a virtual disk (a raw file, or what a container
// decodes), read at any byte offset. Every prober reads through a Reader, which caches a few
// blocks so probers can ask for the same sector many times at no cost.
import { open, type FileHandle } from 'node:fs/promises';
import { QemountError } from '../QemountError.js';

export interface BlockSource {
  /** Size of the virtual disk in bytes. */
  readonly size: number;
  /**
   * Reads `length` bytes at `offset`. Bytes past the end of the disk read as zeros. A source
   * that cannot produce correct bytes (unsupported feature, corrupt metadata) throws a
   * QemountError; it never returns wrong bytes.
   */
  read(offset: number, length: number): Promise<Buffer>;
  close?(): Promise<void>;
}

/** The raw bytes of a file. */
export class FileSource implements BlockSource {
  private constructor(readonly path: string, private readonly handle: FileHandle, readonly size: number) {}

  static async open(path: string): Promise<FileSource> {
    const handle = await open(path, 'r');
    const stat = await handle.stat();
    return new FileSource(path, handle, stat.size);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.alloc(length);
    if (offset >= this.size || length <= 0) return buf;
    const want = Math.min(length, this.size - offset);
    let done = 0;
    while (done < want) {
      const { bytesRead } = await this.handle.read(buf, done, want - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** Reads through to a source in aligned chunks and keeps the last few in memory. */
export class CachedSource implements BlockSource {
  private readonly cache = new Map<number, Promise<Buffer>>();
  constructor(private readonly inner: BlockSource, private readonly chunk = 4096, private readonly capacity = 256) {}

  get size(): number {
    return this.inner.size;
  }

  private chunkAt(index: number): Promise<Buffer> {
    let hit = this.cache.get(index);
    if (hit) {
      // refresh its place in the LRU order
      this.cache.delete(index);
      this.cache.set(index, hit);
      return hit;
    }
    hit = this.inner.read(index * this.chunk, this.chunk);
    this.cache.set(index, hit);
    hit.catch(() => this.cache.delete(index));
    if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
    return hit;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    if (length <= 0) return Buffer.alloc(0);
    if (length > this.chunk * 16) return this.inner.read(offset, length);
    const first = Math.floor(offset / this.chunk);
    const last = Math.floor((offset + length - 1) / this.chunk);
    if (first === last) {
      const chunk = await this.chunkAt(first);
      const at = offset - first * this.chunk;
      return Buffer.from(chunk.subarray(at, at + length));
    }
    const parts = await Promise.all(Array.from({ length: last - first + 1 }, (_, i) => this.chunkAt(first + i)));
    const all = Buffer.concat(parts);
    const at = offset - first * this.chunk;
    return all.subarray(at, at + length);
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}

/**
 * A window on a source (a partition), with typed little helpers for probers. Offsets are relative
 * to the window; reads past its end return zeros.
 */
export class Reader {
  constructor(readonly source: BlockSource, readonly base = 0, readonly size = source.size - base) {}

  async bytes(offset: number, length: number): Promise<Buffer> {
    if (offset < 0 || length <= 0) return Buffer.alloc(Math.max(0, length));
    if (offset >= this.size) return Buffer.alloc(length);
    if (offset + length <= this.size) return this.source.read(this.base + offset, length);
    const buf = Buffer.alloc(length);
    (await this.source.read(this.base + offset, this.size - offset)).copy(buf);
    return buf;
  }

  slice(offset: number, size: number): Reader {
    const clamped = Math.max(0, Math.min(size, this.size - offset));
    return new Reader(this.source, this.base + offset, clamped);
  }

  async u8(offset: number): Promise<number> {
    return (await this.bytes(offset, 1))[0];
  }
  async u16le(offset: number): Promise<number> {
    return (await this.bytes(offset, 2)).readUInt16LE(0);
  }
  async u16be(offset: number): Promise<number> {
    return (await this.bytes(offset, 2)).readUInt16BE(0);
  }
  async u32le(offset: number): Promise<number> {
    return (await this.bytes(offset, 4)).readUInt32LE(0);
  }
  async u32be(offset: number): Promise<number> {
    return (await this.bytes(offset, 4)).readUInt32BE(0);
  }
  /** true when the bytes at offset equal `magic` (a string is taken as latin1 bytes). */
  async is(offset: number, magic: string | Buffer | number[]): Promise<boolean> {
    const want = typeof magic === 'string' ? Buffer.from(magic, 'latin1') : Buffer.from(magic);
    return (await this.bytes(offset, want.length)).equals(want);
  }
}

/** An error that means "the container cannot be read correctly"; the CLI maps it to its exit code. */
export function containerError(message: string, hint?: string, cause?: unknown): QemountError {
  return new QemountError('E_DETECT_CONTAINER', message, { hint: hint ?? 'the image is damaged, incomplete or uses a feature qemount cannot read; qemu-img check IMAGE says more', cause, exitCode: 7, hook: 'detect' });
}
