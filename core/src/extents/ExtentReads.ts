// Extent reads for one read-only session: large regular files are read by the host straight
// from the image, at the extents the guest reports, instead of through the guest's 9P server
// (which an emulated CPU caps at ~50 MiB/s). The guest is asked once per inode and the answer
// kept; any doubt (an unsafe flag, a size mismatch, an extent outside the partition, a slow or
// failing guest, an unreadable container) means the file goes through 9P, and the log says why.
import { FileSource, type BlockSource } from '../detect/BlockSource.js';
import { openContainer } from '../detect/containers/index.js';
import type { P9Stat } from '../p9/stat.js';
import type { QueryReply } from '../session/ControlChannel.js';
import { ExtentFile } from './ExtentFile.js';
import { extentLayout } from './extentLayout.js';
import { parseFilefragReport } from './filefragReport.js';

/**
 * Smaller files go through 9P. Asking costs the guest an exec of filefrag: 0.1–0.4 s under TCG
 * on a loaded host (measured), in which 9P moves 5–20 MiB.
 */
export const EXTENT_READS_MIN_SIZE = 4 << 20;

/** What the guest's 9P server moves under TCG (~50 MiB/s), in bytes per millisecond. */
const NINEP_BYTES_PER_MS = (50 << 20) / 1000;

export interface ExtentReadsOptions {
  /** The image file, and qemu's driver for its container (the disk is read through the same container). */
  image: string;
  format: string;
  /** The attached partition: its byte range on the virtual disk. */
  partition: { offset: number; size: number };
  /** Asks the guest for a file's filefrag report. */
  askGuest: (path: string) => Promise<QueryReply>;
  log: (line: string) => void;
  minSize?: number;
}

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

export class ExtentReads {
  readonly minSize: number;
  private disk?: Promise<{ source: BlockSource; close(): Promise<void> } | undefined>;
  /** Per inode: the file's reader, or undefined (read it through 9P). */
  private readonly files = new Map<bigint, { size: number; mtimeNs: bigint; file: Promise<ExtentFile | undefined> }>();
  private disabled = false;

  constructor(private readonly options: ExtentReadsOptions) {
    this.minSize = options.minSize ?? EXTENT_READS_MIN_SIZE;
  }

  /**
   * How long a file's first read should wait for the guest's answer: as long as 9P would take for
   * the whole file (at most 2 s). Reading through 9P meanwhile would slow the answer down several
   * times (the guest has one emulated CPU), for a file the image then serves several times faster.
   */
  patienceMs(size: number): number {
    return this.disabled || size < this.minSize ? 0 : Math.min(2000, size / NINEP_BYTES_PER_MS);
  }

  /** A reader for this file, or undefined when it is to be read through 9P. Never rejects. */
  open(path: string, st: P9Stat): Promise<ExtentFile | undefined> {
    if (this.disabled || st.kind !== 'file' || st.size < this.minSize) return Promise.resolve(undefined);
    const known = this.files.get(st.ino);
    if (known && known.size === st.size && known.mtimeNs === st.mtimeNs) return known.file;
    const file = this.map(path, st).catch((error: unknown) => {
      this.log(`${path}: through 9P: ${(error as Error).message}`);
      return undefined;
    });
    this.files.set(st.ino, { size: st.size, mtimeNs: st.mtimeNs, file });
    // A bounded memory of answers: the oldest goes first.
    if (this.files.size > 1024) this.files.delete(this.files.keys().next().value!);
    return file;
  }

  /** Reading from the image failed: this inode goes through 9P from now on. */
  failed(file: ExtentFile, st: P9Stat, error: unknown): void {
    this.log(`${file.path}: reading the image failed, through 9P from now on: ${(error as Error).message}`);
    this.files.set(st.ino, { size: st.size, mtimeNs: st.mtimeNs, file: Promise.resolve(undefined) });
  }

  /** A file opened for extent reads was closed after `bytes` were read from the image: say so. */
  done(file: ExtentFile, bytes: number): void {
    if (bytes) this.log(`${file.path}: ${mib(bytes)} read from the image`);
  }

  async close(): Promise<void> {
    this.disabled = true;
    const disk = await this.disk?.catch(() => undefined);
    await disk?.close();
  }

  private log(line: string): void {
    this.options.log(`extent reads: ${line}`);
  }

  private async map(path: string, st: P9Stat): Promise<ExtentFile | undefined> {
    const disk = await this.openDisk();
    if (!disk) return undefined;
    let reply: QueryReply;
    const asked = Date.now();
    try {
      reply = await this.options.askGuest(path);
    } catch (error) {
      // A guest too slow to answer would stall every large file: stop asking.
      this.disabled = true;
      throw new Error(`${(error as Error).message}; extent reads are off for this mount`);
    }
    if (reply.status !== '0') throw new Error(`filefrag failed in the guest (${reply.status}): ${reply.lines.slice(-2).join(' ').trim()}`);
    const result = extentLayout(parseFilefragReport(reply.lines), { fileSize: st.size, deviceSize: this.options.partition.size, allocated: st.blocks * 512 });
    if ('refused' in result) throw new Error(result.refused);
    const { layout } = result;
    const zeros = layout.zeroBytes ? `, ${mib(layout.zeroBytes)} of holes or unwritten extents` : '';
    this.log(`${path} (${mib(st.size)}): ${layout.mapped} extent${layout.mapped === 1 ? '' : 's'} read from the image${zeros} (the guest answered in ${Date.now() - asked} ms)`);
    return new ExtentFile(path, layout, disk, this.options.partition);
  }

  /** The image's virtual disk, opened on first use; undefined (and extent reads off) when it cannot be. */
  private async openDisk(): Promise<BlockSource | undefined> {
    this.disk ??= openContainer(this.options.image).then(async (opened) => {
      const { offset, size } = this.options.partition;
      const why = opened.container.qemuDriver !== this.options.format
        ? `the image reads as ${opened.container.qemuDriver}, the guest was given ${this.options.format}`
        : offset + size > opened.source.size ? `the partition (${offset}+${size}) ends past the virtual disk (${opened.source.size} bytes)` : undefined;
      if (why) {
        await opened.close();
        throw new Error(why);
      }
      if (opened.container.format !== 'raw') return opened;
      // A raw image is its own disk: read it without detection's small-block cache (a copy per read).
      await opened.close();
      return FileSource.open(this.options.image).then((file) => ({ source: file, close: () => file.close() }));
    }).catch((error: unknown) => {
      this.disabled = true;
      this.log(`off: cannot read the image itself: ${(error as Error).message}`);
      return undefined;
    });
    return (await this.disk)?.source;
  }
}
