// Which container an image file is, and the virtual disk inside it as a BlockSource.
import { dirname, isAbsolute, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { CachedSource, containerError, FileSource, Reader, type BlockSource } from '../BlockSource.js';
import type { DetectedContainer } from '../types.js';
import { readQcow2Header, Qcow2Source } from './qcow2.js';
import { parseVhdFooter, VdiSource, VhdSource, VhdxSource, VmdkSource } from './sparse.js';

export interface OpenedContainer {
  container: DetectedContainer;
  /** The virtual disk (cached). */
  source: BlockSource;
  close(): Promise<void>;
}

/** Containers qemount recognises but cannot read through (yet). */
const recognisedOnly: { format: string; name: string; test: (head: Buffer, tail: Buffer) => boolean }[] = [
  { format: 'qcow', name: 'qcow (version 1)', test: (h) => h.subarray(0, 4).equals(Buffer.from('QFI\xfb', 'latin1')) && h.readUInt32BE(4) === 1 },
  { format: 'qed', name: 'QED', test: (h) => h.subarray(0, 4).equals(Buffer.from('QED\0', 'latin1')) },
  { format: 'parallels', name: 'Parallels', test: (h) => ['WithoutFreeSpace', 'WithouFreSpacExt'].includes(h.toString('latin1', 0, 16)) },
  { format: 'bochs', name: 'Bochs', test: (h) => h.toString('latin1', 0, 22) === 'Bochs Virtual HD Image' },
  { format: 'cloop', name: 'cloop', test: (h) => h.toString('latin1', 0, 9) === '#!/bin/sh' && h.toString('latin1', 0, 200).includes('cloop') },
  { format: 'dmg', name: 'Apple DMG (UDIF)', test: (_h, t) => t.length >= 512 && t.toString('latin1', t.length - 512, t.length - 508) === 'koly' },
];

/**
 * Opens an image file and the container around its virtual disk. `depth` bounds backing-file
 * chains. Throws a QemountError for anything it cannot read correctly.
 */
export async function openContainer(path: string, depth = 0): Promise<OpenedContainer> {
  if (depth > 16) throw containerError(`backing file chain is deeper than 16 at ${path}`, 'check the image for a backing-file loop');
  const fileSource = await FileSource.open(path);
  try {
    return await identify(path, fileSource, depth);
  } catch (error) {
    await fileSource.close();
    throw error;
  }
}

async function identify(path: string, fileSource: FileSource, depth: number): Promise<OpenedContainer> {
  // 64 KiB chunks: most probers look within the first 64 KiB of a volume, so one read serves many.
  const file = new Reader(new CachedSource(fileSource, 65536, 64));
  const fileSize = fileSource.size;
  const head = await file.bytes(0, 512);
  const close = () => fileSource.close();
  const done = (container: Omit<DetectedContainer, 'fileSize'>, source: BlockSource, extraClose?: () => Promise<void>): OpenedContainer => ({
    container: { ...container, fileSize },
    source: source instanceof FileSource ? file.source : new CachedSource(source, 4096, 256),
    close: async () => {
      await extraClose?.();
      await close();
    },
  });

  // qcow2
  if (head.subarray(0, 4).equals(Buffer.from('QFI\xfb', 'latin1')) && head.readUInt32BE(4) >= 2) {
    const info = await readQcow2Header(file);
    let backing: OpenedContainer | undefined;
    if (info.backingFile) {
      if (/^[a-z]+:/.test(info.backingFile) && !info.backingFile.startsWith('file:')) {
        throw containerError(`the qcow2 backing file is not a local file (${info.backingFile})`);
      }
      const name = info.backingFile.replace(/^file:/, '');
      const backingPath = isAbsolute(name) ? name : resolve(dirname(path), name);
      try {
        await stat(backingPath);
      } catch (error) {
        throw containerError(`the backing file of ${path} is missing: ${backingPath}`, 'restore the backing file, or: qemu-img rebase -u -b NEW IMAGE', error);
      }
      backing = await openContainer(backingPath, depth + 1);
      if (info.backingFormat && info.backingFormat !== backing.container.qemuDriver && !(info.backingFormat === 'vpc' && backing.container.format === 'vhd')) {
        await backing.close();
        throw containerError(`the qcow2 header says its backing file is ${info.backingFormat}, but ${backingPath} is ${backing.container.qemuDriver}`);
      }
    }
    const source = new Qcow2Source(file, await file.bytes(0, 112), info, backing?.source);
    const details: Record<string, string | number | boolean> = { version: info.version, clusterSize: info.clusterSize };
    if (info.dirty) details.dirty = true;
    if (backing) details.backingFormat = backing.container.format;
    return done({ format: 'qcow2', qemuDriver: 'qcow2', virtualSize: info.virtualSize, backingFile: info.backingFile, details }, source, () => backing?.close() ?? Promise.resolve());
  }

  // VMDK sparse extent (monolithicSparse, streamOptimized)
  if (head.subarray(0, 4).equals(Buffer.from('KDMV'))) {
    const source = await VmdkSource.open(file);
    return done({ format: 'vmdk', qemuDriver: 'vmdk', virtualSize: source.size, details: { subformat: source.createType ?? (source.streamOptimized ? 'streamOptimized' : 'monolithicSparse'), compressed: source.compressed } }, source);
  }
  if (head.toString('latin1', 0, 21) === '# Disk DescriptorFile') {
    throw containerError('VMDK descriptor files with separate extent files are not supported yet (only monolithicSparse and streamOptimized)', 'qemu-img convert -O vmdk -o subformat=monolithicSparse IMAGE OUT.vmdk');
  }
  if (head.readUInt32LE(0) === 0x564d4443 /* 'COWD' */) throw containerError('ESX COWD VMDK extents are not supported');

  // VDI
  if (head.readUInt32LE(64) === 0xbeda107f) {
    const source = new VdiSource(file, await file.bytes(0, 512));
    return done({ format: 'vdi', qemuDriver: 'vdi', virtualSize: source.size, details: { type: source.imageType === 2 ? 'fixed' : 'dynamic' } }, source);
  }

  // VHDX
  if (head.toString('latin1', 0, 8) === 'vhdxfile') {
    const source = await VhdxSource.open(file);
    return done({ format: 'vhdx', qemuDriver: 'vhdx', virtualSize: source.size }, source);
  }

  // VHD: footer at the end (a dynamic disk also has a copy at the start)
  const tail = fileSize >= 512 ? await file.bytes(fileSize - 512, 512) : Buffer.alloc(0);
  const vhdFooter = tail.length === 512 && tail.toString('latin1', 0, 8) === 'conectix' ? tail : head.toString('latin1', 0, 8) === 'conectix' ? head : undefined;
  if (vhdFooter) {
    const footer = parseVhdFooter(vhdFooter);
    if (footer.diskType === 2) {
      if (vhdFooter !== tail) throw containerError('the fixed VHD image is truncated: its footer is missing');
      const source = new Reader(fileSource, 0, Math.min(footer.virtualSize, fileSize - 512));
      const sized: BlockSource = { size: footer.virtualSize, read: (o, l) => source.bytes(o, l) };
      return done({ format: 'vhd', qemuDriver: 'vpc', virtualSize: footer.virtualSize, details: { type: 'fixed', creator: footer.creator.trim() } }, sized);
    }
    if (footer.diskType === 3) {
      const source = new VhdSource(file, footer, await file.bytes(footer.dataOffset, 1024));
      return done({ format: 'vhd', qemuDriver: 'vpc', virtualSize: footer.virtualSize, details: { type: 'dynamic', creator: footer.creator.trim() } }, source);
    }
    if (footer.diskType === 4) throw containerError('differencing VHD images are not supported yet');
    throw containerError(`VHD disk type ${footer.diskType} is not supported`);
  }

  const tailForDmg = fileSize >= 512 ? tail : Buffer.alloc(0);
  for (const other of recognisedOnly) {
    if (other.test(head, tailForDmg)) {
      throw containerError(`${path} is a ${other.name} image; qemount cannot read through ${other.name} images yet`, `qemu-img convert -O qcow2 ${path} OUT.qcow2   (then detect OUT.qcow2)`);
    }
  }

  return done({ format: 'raw', qemuDriver: 'raw', virtualSize: fileSize }, fileSource);
}
