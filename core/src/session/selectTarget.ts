// Which filesystem of a detected disk to mount: the partition the user named, or else the only
// (or the largest) one some guest can mount; and the byte range qemu attaches for it.
import type { Qemount } from '../Qemount.js';
import { QemountError } from '../QemountError.js';
import { allFilesystems } from '../detect/detect.js';
import type { DetectedDisk, DetectedFilesystem, DetectedPartition } from '../detect/types.js';

export interface MountTarget {
  /** Catalogue fs id to mount. */
  fs: string;
  /** The partition (undefined: the whole disk). */
  partition?: DetectedPartition;
  /** What detection found there (undefined when --fs named a type detection did not see). */
  detected?: DetectedFilesystem;
  /** Byte range of the virtual disk to attach. */
  offset: number;
  size: number;
}

export interface TargetRequest {
  /** Partition number as `qemount detect` shows it. */
  part?: number;
  /** Filesystem type to mount (overrides detection); an id or alias. */
  fs?: string;
}

function mountable(core: Qemount, fs: string): boolean {
  return core.guests().some((g) => g.declaration.filesystems[fs] && !core.config.guests[g.id]?.disabled);
}

function describe(fs: DetectedFilesystem, partition?: DetectedPartition): string {
  const where = partition ? `partition ${partition.index}` : 'the whole disk';
  return `${where}: ${fs.type}${fs.label ? ` "${fs.label}"` : ''}${fs.size ? ` (${Math.round(fs.size / 1048576)} MiB)` : ''}`;
}

function findPartition(disk: DetectedDisk, index: number): DetectedPartition | undefined {
  const walk = (partitions: DetectedPartition[]): DetectedPartition | undefined => {
    for (const p of partitions) if (p.index === index && !p.flags?.includes('extended')) return p;
    for (const p of partitions) {
      const nested = p.table && walk(p.table.partitions);
      if (nested) return nested;
    }
    return undefined;
  };
  for (const table of disk.tables) {
    const found = walk(table.partitions);
    if (found) return found;
  }
  return undefined;
}

export function selectTarget(core: Qemount, disk: DetectedDisk, request: TargetRequest = {}): MountTarget {
  const forced = request.fs === undefined ? undefined : core.catalogue.resolve('fs', request.fs);
  if (request.fs !== undefined && !forced) {
    throw new QemountError('E_FS_UNKNOWN', `"${request.fs}" is not a filesystem qemount knows`, { hint: 'qemount formats --kind fs   (lists them)', exitCode: 2 });
  }
  const whole = disk.container.virtualSize;
  if (request.part !== undefined) {
    const partition = findPartition(disk, request.part);
    if (!partition) {
      const numbers = allFilesystems(disk).map((f) => f.partition?.index).filter((n): n is number => n !== undefined);
      throw new QemountError('E_PART_UNKNOWN', `${disk.image} has no partition ${request.part}${numbers.length ? ` (partitions with a filesystem: ${[...new Set(numbers)].join(', ')})` : ''}`, {
        hint: `qemount detect ${disk.image}`,
        exitCode: 2,
      });
    }
    const detected = forced ? partition.filesystems.find((f) => f.type === forced) : partition.filesystems.find((f) => mountable(core, f.type)) ?? partition.filesystems[0];
    const fs = forced ?? detected?.type;
    if (!fs) {
      throw new QemountError('E_FS_UNDETECTED', `no filesystem was recognised in partition ${request.part} of ${disk.image}`, {
        hint: `if you know what it holds, name it: --fs TYPE (qemount formats --kind fs lists them)`,
      });
    }
    // A partition in pieces (a UBI volume) cannot be a byte range: attach the disk it lives on.
    if (partition.flags?.includes('not-contiguous')) return { fs, partition, detected, offset: 0, size: whole };
    return { fs, partition, detected, offset: partition.start, size: partition.size };
  }
  const found = allFilesystems(disk);
  const candidates = found.filter((f) => (forced ? f.fs.type === forced : mountable(core, f.fs.type)));
  if (!candidates.length) {
    if (forced && found.length <= 1 && !disk.tables.length) return { fs: forced, detected: found[0]?.fs, offset: 0, size: whole };
    if (forced && !found.length) return { fs: forced, offset: 0, size: whole };
    const seen = found.map((f) => describe(f.fs, f.partition));
    throw new QemountError('E_NOTHING_MOUNTABLE', seen.length
      ? `no installed guest can mount what ${disk.image} holds (${seen.join('; ')})`
      : `no filesystem was recognised in ${disk.image}`, {
      hint: seen.length ? 'qemount formats   (shows which guest mounts what)' : `qemount detect ${disk.image}; if you know what it holds, name it with --fs TYPE`,
      exitCode: 3,
    });
  }
  // Several filesystems at one place (an ISO9660+UDF bridge) are one choice: the first found.
  const places = candidates.filter((c, i) => candidates.findIndex((d) => d.partition === c.partition) === i);
  const size = (c: (typeof places)[number]) => c.partition?.size ?? c.fs.size ?? whole;
  const largest = Math.max(...places.map(size));
  const best = places.filter((c) => size(c) === largest);
  if (best.length > 1) {
    throw new QemountError('E_PART_AMBIGUOUS', `${disk.image} holds ${best.length} filesystems of the same size; say which one:\n  ${best.map((c) => describe(c.fs, c.partition)).join('\n  ')}`, {
      hint: `add --part N (or IMAGE:N:/path), N from the list above`,
      exitCode: 2,
    });
  }
  const [pick] = best;
  if (pick.partition?.flags?.includes('not-contiguous')) return { fs: pick.fs.type, partition: pick.partition, detected: pick.fs, offset: 0, size: whole };
  const offset = pick.partition?.start ?? pick.fs.offset;
  return { fs: pick.fs.type, partition: pick.partition, detected: pick.fs, offset, size: pick.partition?.size ?? whole - offset };
}
