// Reads the report of e2fsprogs' `filefrag -e -b1` (what the guest's EXTENTS command relays):
// the file's size and one line per FIEMAP extent, offsets and lengths in bytes. The guest is not
// trusted: anything that does not read as that report is an error, never a guess.
//
//   File size of /proc/self/fd/4 is 5000000 (5001216 blocks of 1 bytes)
//    ext:     logical_offset:        physical_offset: length:   expected: flags:
//      0:        0..  303103:   35660230656..35660533759:  303104:             unwritten
//      1:  4997120.. 5001215:   34473787392..34473791487:    4096:  35665227776: last,eof
//
// "expected" (where a contiguous file would have continued) is printed only for discontiguous
// extents; flags are filefrag's names for FIEMAP_EXTENT_* bits, unknown bits as hex.

export interface FileExtent {
  /** Byte offset in the file. */
  logical: number;
  /** Byte offset on the device the filesystem is mounted from. */
  physical: number;
  length: number;
  /** filefrag's flag names: last, unknown_loc, delalloc, encoded, encrypted, not_aligned, inline, tail_packed, unwritten, merged, shared, eof, or 0x.. */
  flags: string[];
}

export interface FileExtents {
  /** The file size the guest saw. */
  size: number;
  extents: FileExtent[];
}

const SIZE_LINE = /^File size of .* is (\d+) \(/;
const EXTENT_LINE = /^\s*\d+:\s*(\d+)\.\.\s*(\d+):\s*(\d+)\.\.\s*(\d+):\s*(\d+):(?:\s+(\d+):)?\s*(\S*)\s*$/;
/** Anything numbered like an extent line must parse as one. */
const LOOKS_LIKE_EXTENT = /^\s*\d+:/;

function integer(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`filefrag reported a ${what} too large to handle (${text})`);
  return n;
}

/** The size and extents in a filefrag -e -b1 report; throws when the report is not one. */
export function parseFilefragReport(lines: string[]): FileExtents {
  let size: number | undefined;
  const extents: FileExtent[] = [];
  for (const line of lines) {
    const sized = SIZE_LINE.exec(line);
    if (sized) {
      if (size !== undefined) throw new Error('filefrag reported two files');
      size = integer(sized[1], 'file size');
      continue;
    }
    const m = EXTENT_LINE.exec(line);
    if (!m) {
      if (LOOKS_LIKE_EXTENT.test(line)) throw new Error(`unreadable filefrag extent line: ${JSON.stringify(line)}`);
      continue; // the header, the summary, FIBMAP's "Discontinuity" notes
    }
    const [logical, logicalEnd, physical, physicalEnd, length] = m.slice(1, 6).map((t, i) => integer(t, ['logical offset', 'logical end', 'physical offset', 'physical end', 'length'][i]));
    const flags = m[7] ? m[7].split(',').filter(Boolean) : [];
    // filefrag prints an unknown location as 0..0 with length 0: keep what it said, the flags decide.
    const consistent = flags.includes('unknown_loc') || (length > 0 && logicalEnd === logical + length - 1 && physicalEnd === physical + length - 1);
    if (!consistent) throw new Error(`inconsistent filefrag extent line: ${JSON.stringify(line)}`);
    extents.push({ logical, physical, length, flags });
  }
  if (size === undefined) throw new Error('filefrag did not report the file size');
  return { size, extents };
}
