// Whether a session may read files straight from its image, and the ExtentReads that does it.
// Only when what the guest sees is exactly what the image holds: mounted read-only, the disk
// attached read-only with no overlay, and a filesystem whose guest declares `extentReads`
// (FIEMAP offsets that are device byte offsets, proven by a test).
import type { GuestSession } from '../session/GuestSession.js';
import { ExtentReads } from './ExtentReads.js';

export function extentReadsFor(session: GuestSession, log: (line: string) => void): ExtentReads | undefined {
  const { support, disk, readOnly, guest, fs } = session.options;
  const why = !support.extentReads ? `the ${guest} guest does not declare them for ${fs}`
    : !readOnly || !disk.readOnly ? 'the mount is writable'
    : disk.snapshot ? 'the disk has an overlay the image does not show'
    : undefined;
  if (why) {
    log(`extent reads: off (${why})`);
    return undefined;
  }
  const reads = new ExtentReads({
    image: disk.image, format: disk.format, partition: { offset: disk.offset, size: disk.size },
    askGuest: (path) => session.fileExtents(path), log,
  });
  log(`extent reads: on for files of ${reads.minSize >> 20} MiB and more`);
  return reads;
}
