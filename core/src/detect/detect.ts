// Detection: image file → container → partition table(s) → partitions → filesystems, read on the
// host without booting anything and reading only the sectors the probers ask for.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { QemountError } from '../QemountError.js';
import { containerError, Reader, type BlockSource } from './BlockSource.js';
import { openContainer } from './containers/index.js';
import { fsProbers } from './filesystems.js';
import { matchMagic, type MagicFormat } from './magic.js';
import { probeApm, probeAtari, probeBsd, probeGpt, probeMbr, probeMinixSub, probePc98, probeRdb, probeSgi, probeSun, type TableContext } from './tables.js';
import type { DetectedDisk, DetectedFilesystem, DetectedPartition, DetectedTable } from './types.js';
import { probeUbi } from './ubi.js';

export interface DetectOptions {
  /** Data rules (from the catalogue) for formats no code prober covers. */
  magic?: MagicFormat[];
}

/** Exit codes of detection failures (the CLI documents them in `qemount detect --help`). */
export const detectExitCodes = {
  E_DETECT_NOT_FOUND: 3,
  E_DETECT_NOT_A_FILE: 4,
  E_DETECT_UNREADABLE: 5,
  E_DETECT_EMPTY: 6,
  E_DETECT_CONTAINER: 7,
  E_DETECT_UNKNOWN: 8,
} as const;

function fail(code: keyof typeof detectExitCodes, message: string, hint?: string, cause?: unknown): QemountError {
  return new QemountError(code, message, { hint, cause, exitCode: detectExitCodes[code], hook: 'detect' });
}

/** Every filesystem recognised at the start of a reader's window. */
export async function probeFilesystems(r: Reader, magic: MagicFormat[] = []): Promise<Omit<DetectedFilesystem, 'offset'>[]> {
  if (r.size < 512) return [];
  const results = await Promise.all(fsProbers.map((p) => p.probe(r).catch(() => undefined)));
  const found = results.filter((x): x is NonNullable<typeof x> => Boolean(x));
  const covered = new Set(fsProbers.flatMap((p) => p.ids));
  const byData = await matchMagic(r, magic.filter((m) => !covered.has(m.id)));
  return [...found, ...byData.map((type) => ({ type, details: { detectedBy: 'catalogue magic' } }))];
}

const bsdSliceTypes = new Set(['0xa5', '0xa6', '0xa9']);

class Analyser {
  constructor(private readonly source: BlockSource, private readonly magic: MagicFormat[]) {}

  private async filesystemsAt(r: Reader, absolute: number): Promise<DetectedFilesystem[]> {
    return (await probeFilesystems(r, this.magic)).map((fs) => ({ ...fs, offset: absolute }));
  }

  private context(base: number): TableContext {
    return {
      base,
      hasFilesystem: async (absolute) => absolute < this.source.size && (await probeFilesystems(new Reader(this.source, absolute), this.magic)).length > 0,
    };
  }

  /** Tables and filesystems of the whole disk. */
  async disk(): Promise<{ tables: DetectedTable[]; filesystems: DetectedFilesystem[] }> {
    const r = new Reader(this.source);
    const [filesystems, tables] = await Promise.all([this.filesystemsAt(r, 0), this.tables(r, 0)]);
    // An MBR with no partitions beside a whole-disk filesystem is only a boot-sector signature.
    const kept = tables.filter((t) => !(t.type === 'mbr' && !t.partitions.length && filesystems.length));
    if (!kept.length && !filesystems.length) {
      const atari = await probeAtari(r, this.context(0));
      if (atari) kept.push(atari);
    }
    for (const table of kept) await this.fill(table, r, 0);
    return { tables: kept, filesystems };
  }

  private async tables(r: Reader, base: number): Promise<DetectedTable[]> {
    const ctx = this.context(base);
    const gpt = await probeGpt(r, ctx);
    const pc98 = gpt ? undefined : await probePc98(r, ctx);
    const mbr = gpt || pc98 ? undefined : await probeMbr(r, ctx);
    const others = await Promise.all([probeApm(r, ctx), probeSun(r, ctx), probeSgi(r, ctx), probeRdb(r, ctx), mbr ? undefined : probeBsd(r, ctx)]);
    const tables = [gpt, pc98, mbr, ...others].filter((t): t is DetectedTable => Boolean(t));
    const ubi = tables.length ? undefined : await probeUbi(r, base);
    if (ubi) {
      for (const v of ubi.volumes) v.partition.filesystems = await this.filesystemsAt(new Reader(v.source), v.partition.start);
      tables.push(ubi.table);
      (ubi.table as DetectedTable & { filled?: boolean }).filled = true;
    }
    return tables;
  }

  /** Makes partition offsets absolute, checks bounds, and finds filesystems and nested tables. */
  private async fill(table: DetectedTable, r: Reader, base: number): Promise<void> {
    if ((table as DetectedTable & { filled?: boolean }).filled) {
      delete (table as DetectedTable & { filled?: boolean }).filled;
      return;
    }
    for (const p of table.partitions) {
      const relative = p.start;
      p.start = base + relative;
      if (relative + p.size > r.size) {
        p.flags = [...(p.flags ?? []), 'past-end'];
        (table.notes ??= []).push(relative >= r.size
          ? `partition ${p.index} starts at byte ${p.start}, past the end of the ${base ? 'slice' : 'disk'} (${base + r.size} bytes)`
          : `partition ${p.index} (${p.start}+${p.size}) extends past the end of the ${base ? 'slice' : 'disk'} (${base + r.size} bytes)`);
      }
      if (relative >= r.size || p.flags?.includes('extended')) continue;
      const slice = r.slice(relative, p.size);
      p.filesystems = await this.filesystemsAt(slice, p.start);
      if (table.type !== 'mbr') continue;
      let nested: DetectedTable | undefined;
      if (bsdSliceTypes.has(p.typeCode ?? '')) nested = await probeBsd(slice, this.context(p.start), { start: p.start, size: p.size });
      else if (p.typeCode === '0x81') nested = await probeMinixSub(slice, this.context(p.start), { start: p.start });
      if (nested) {
        p.table = nested;
        await this.fill(nested, slice, p.start);
      }
    }
  }
}

/** Resolves and checks the path; throws the detection errors for missing, odd or empty files. */
async function checkImage(image: string): Promise<string> {
  const path = resolve(image);
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw fail('E_DETECT_NOT_FOUND', `no such file: ${path}`, 'check the path (qemount detect takes an image file)', error);
    if (code === 'EACCES' || code === 'EPERM') throw fail('E_DETECT_UNREADABLE', `cannot read ${path}: permission denied`, 'run as a user who may read it, or: chmod +r IMAGE', error);
    throw fail('E_DETECT_UNREADABLE', `cannot read ${path}: ${(error as Error).message}`, undefined, error);
  }
  if (info.isDirectory()) throw fail('E_DETECT_NOT_A_FILE', `${path} is a directory, not a disk image`, 'give the path of an image file inside it');
  if (!info.isFile()) throw fail('E_DETECT_NOT_A_FILE', `${path} is not a regular file`, 'qemount detect reads image files');
  if (info.size === 0) throw fail('E_DETECT_EMPTY', `${path} is empty (0 bytes)`, 'the image was not written, or was truncated to nothing');
  return path;
}

/**
 * What is inside an image: its container, partition tables, partitions and filesystems.
 * Throws a QemountError (with a distinct exit code) for a missing, unreadable, empty or corrupt
 * image. An image in which nothing is recognised is returned with no tables and no filesystems.
 */
export async function detectImage(image: string, options: DetectOptions = {}): Promise<DetectedDisk> {
  const path = await checkImage(image);
  let opened;
  try {
    opened = await openContainer(path);
  } catch (error) {
    if (error instanceof QemountError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw fail('E_DETECT_UNREADABLE', `cannot read ${path}: permission denied`, 'run as a user who may read it, or: chmod +r IMAGE', error);
    if (code === 'EISDIR') throw fail('E_DETECT_NOT_A_FILE', `${path} is a directory, not a disk image`);
    throw containerError(`cannot read the container of ${path}: ${(error as Error).message}`, undefined, error);
  }
  try {
    const { tables, filesystems } = await new Analyser(opened.source, options.magic ?? []).disk();
    return { image: path, container: opened.container, tables, filesystems };
  } catch (error) {
    if (error instanceof QemountError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EIO') throw fail('E_DETECT_UNREADABLE', `I/O error reading ${path}`, 'the file or the disk under it is damaged', error);
    throw containerError(`cannot read ${path}: ${(error as Error).message}`, undefined, error);
  } finally {
    await opened.close();
  }
}

/** true when detection recognised nothing inside the virtual disk. */
export function isEmptyDetection(disk: DetectedDisk): boolean {
  return !disk.tables.length && !disk.filesystems.length;
}

/** Every filesystem of a detected disk with the partition it is in (undefined: the whole disk). */
export function allFilesystems(disk: DetectedDisk): { fs: DetectedFilesystem; partition?: DetectedPartition; path: number[] }[] {
  const out: { fs: DetectedFilesystem; partition?: DetectedPartition; path: number[] }[] = disk.filesystems.map((fs) => ({ fs, path: [] }));
  const walk = (table: DetectedTable, path: number[]) => {
    for (const p of table.partitions) {
      for (const fs of p.filesystems) out.push({ fs, partition: p, path: [...path, p.index] });
      if (p.table) walk(p.table, [...path, p.index]);
    }
  };
  disk.tables.forEach((t) => walk(t, []));
  return out;
}
