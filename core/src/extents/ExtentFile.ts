// One file read straight from the image: its layout (where each range of it lies on the
// partition) over the image's virtual disk. Reads never leave the partition: the layout was
// bounds-checked against its size, and every read is checked again here.
import type { BlockSource } from '../detect/BlockSource.js';
import type { ExtentLayout, FileSegment } from './extentLayout.js';

export class ExtentFile {
  constructor(
    readonly path: string,
    readonly layout: ExtentLayout,
    /** The image's virtual disk (through its container). */
    private readonly disk: BlockSource,
    /** The partition: its byte range on the virtual disk. */
    private readonly partition: { offset: number; size: number },
  ) {}

  get size(): number {
    return this.layout.size;
  }

  /** The segment holding byte `position` (segments are ordered and contiguous). */
  private segmentAt(position: number): number {
    const { segments } = this.layout;
    let lo = 0;
    let hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segments[mid].start <= position) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The bytes of a range within one segment: from the disk, or undefined where the file reads as zeros. */
  private async segmentBytes(segment: FileSegment, from: number, length: number): Promise<Buffer | undefined> {
    if (segment.physical === undefined) return undefined;
    const at = segment.physical + (from - segment.start);
    if (at < 0 || at + length > this.partition.size) throw new Error(`read ${at}+${length} lies outside the partition`);
    const data = await this.disk.read(this.partition.offset + at, length);
    if (data.length < length) throw new Error(`the image gave ${data.length} of ${length} bytes`);
    return data;
  }

  /** Up to `length` bytes at `position` (fewer at the end of the file), like a 9P read. */
  async read(position: number, length: number): Promise<Buffer> {
    const end = Math.min(position + length, this.size);
    if (position >= end) return Buffer.alloc(0);
    const { segments } = this.layout;
    const first = this.segmentAt(position);
    // Most reads lie within one segment: the disk's own buffer (or zeros), no copy.
    if (end <= segments[first].end) return (await this.segmentBytes(segments[first], position, end - position)) ?? Buffer.alloc(end - position);
    const out = Buffer.alloc(end - position); // zeros where nothing is copied in
    const pieces: Promise<unknown>[] = [];
    for (let i = first, at = position; at < end; i++) {
      const n = Math.min(segments[i].end, end) - at;
      const into = at - position;
      pieces.push(this.segmentBytes(segments[i], at, n).then((data) => data?.copy(out, into)));
      at += n;
    }
    await Promise.all(pieces);
    return out;
  }
}
