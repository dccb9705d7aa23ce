// Just enough ELF64 (little-endian) reading for the guest build: a section's bytes (a kernel
// module's .modinfo) and a binary's DT_NEEDED libraries.

interface Section {
  name: string;
  type: number;
  offset: number;
  size: number;
  link: number;
}

function sections(file: Buffer): Section[] {
  if (file.readUInt32BE(0) !== 0x7f454c46 || file[4] !== 2 || file[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
  const shoff = Number(file.readBigUInt64LE(0x28));
  const shentsize = file.readUInt16LE(0x3a);
  const shnum = file.readUInt16LE(0x3c);
  const shstrndx = file.readUInt16LE(0x3e);
  const raw = Array.from({ length: shnum }, (_, i) => {
    const at = shoff + i * shentsize;
    return {
      nameOffset: file.readUInt32LE(at),
      type: file.readUInt32LE(at + 4),
      offset: Number(file.readBigUInt64LE(at + 0x18)),
      size: Number(file.readBigUInt64LE(at + 0x20)),
      link: file.readUInt32LE(at + 0x28),
    };
  });
  const names = raw[shstrndx];
  return raw.map((s) => ({ ...s, name: cString(file, names.offset + s.nameOffset) }));
}

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString('utf8', at, end < 0 ? buf.length : end);
}

/** A kernel module's modinfo as key → values (depends, softdep, alias, ...). */
export function readModinfo(ko: Buffer): Map<string, string[]> {
  const info = new Map<string, string[]>();
  const section = sections(ko).find((s) => s.name === '.modinfo');
  if (!section) return info;
  for (const entry of ko.toString('utf8', section.offset, section.offset + section.size).split('\0')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const key = entry.slice(0, eq);
    info.set(key, [...(info.get(key) ?? []), entry.slice(eq + 1)]);
  }
  return info;
}

const SHT_DYNAMIC = 6;
const DT_NEEDED = 1n;

/** The shared libraries an ELF executable or library asks for (DT_NEEDED). */
export function readNeededLibraries(elf: Buffer): string[] {
  const all = sections(elf);
  const dynamic = all.find((s) => s.type === SHT_DYNAMIC);
  if (!dynamic) return [];
  const strtab = all[dynamic.link];
  const needed: string[] = [];
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.size; at += 16) {
    const tag = elf.readBigInt64LE(at);
    if (tag === 0n) break;
    if (tag === DT_NEEDED) needed.push(cString(elf, strtab.offset + Number(elf.readBigUInt64LE(at + 8))));
  }
  return needed;
}
