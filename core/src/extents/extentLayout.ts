// From the extents the guest reported to a plan for reading the file from the device: byte
// ranges of the file that lie at a device offset, and ranges that read as zeros (holes,
// unwritten extents). Refuses (with the reason) whenever the extents do not prove where every
// byte is: then the file is read through 9P.
import type { FileExtents } from './filefragReport.js';

/** A range [start, end) of the file: at `physical` on the device, or zeros when undefined. */
export interface FileSegment {
  start: number;
  end: number;
  physical?: number;
}

export interface ExtentLayout {
  size: number;
  /** Ordered, contiguous, covering [0, size). */
  segments: FileSegment[];
  /** How many extents hold data on the device. */
  mapped: number;
  /** Bytes that read as zeros (holes and unwritten extents). */
  zeroBytes: number;
}

/** FIEMAP flags whose extent is at a known place, holding the file's bytes as they are. */
const SAFE_FLAGS = new Set(['last', 'eof', 'merged', 'shared', 'unwritten']);

export type LayoutResult = { layout: ExtentLayout } | { refused: string };

export interface LayoutLimits {
  /** The size 9P reports: the guest's filefrag must agree. */
  fileSize: number;
  /** Bytes of the attached partition: no extent may leave it. */
  deviceSize: number;
  /** Bytes allocated to the file (st_blocks × 512): a file with blocks but no extents is not all holes. */
  allocated: number;
}

export function extentLayout(report: FileExtents, limits: LayoutLimits): LayoutResult {
  const { fileSize, deviceSize } = limits;
  if (report.size !== fileSize) return { refused: `the guest sees ${report.size} bytes, 9P ${fileSize}` };
  if (!report.extents.length && limits.allocated > 0) return { refused: 'no extents reported for a file with allocated blocks' };
  const segments: FileSegment[] = [];
  let at = 0;
  let mapped = 0;
  let zeroBytes = 0;
  const zeros = (end: number) => {
    if (end <= at) return;
    const last = segments.at(-1);
    if (last && last.physical === undefined) last.end = end; // a hole next to an unwritten extent: one run
    else segments.push({ start: at, end });
    zeroBytes += end - at;
    at = end;
  };
  for (const extent of report.extents) {
    const unsafe = extent.flags.filter((f) => !SAFE_FLAGS.has(f));
    if (unsafe.length) return { refused: `an extent is ${unsafe.join(',')}` };
    const { logical, physical, length } = extent;
    if (length <= 0) return { refused: `an extent at ${logical} has length ${length}` };
    if (logical < at) return { refused: `extents overlap or are out of order at ${logical}` };
    if (physical < 0 || physical + length > deviceSize) return { refused: `an extent (${physical}+${length}) lies outside the partition (${deviceSize} bytes)` };
    if (logical >= fileSize) continue; // preallocated past the end of the file
    const end = Math.min(logical + length, fileSize);
    zeros(logical); // a hole before it
    if (extent.flags.includes('unwritten')) {
      zeros(end);
    } else {
      segments.push({ start: logical, end, physical });
      mapped++;
      at = end;
    }
  }
  zeros(fileSize); // a hole up to the end
  return { layout: { size: fileSize, segments, mapped, zeroBytes } };
}
