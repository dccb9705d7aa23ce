import type { RegisterCommand } from '../context.js';
import type { Qemount } from '../../Qemount.js';
import { QemountError } from '../../QemountError.js';
import { detectExitCodes, isEmptyDetection } from '../../detect/detect.js';
import type { DetectedDisk, DetectedFilesystem, DetectedPartition, DetectedTable } from '../../detect/types.js';
import { humanSize, paint, printJson, printLines } from '../output.js';

export interface GuestPick {
  guest: string | null;
  /** Why it was chosen, or why none could be. */
  reasons: string[];
}

/** The guest the core would choose for a read-only mount of a filesystem, and why. */
export function guestFor(core: Qemount, fs: string): GuestPick {
  const choice = core.chooseGuest({ fs, access: 'ro' });
  const best = choice.candidates[0];
  if (best) return { guest: best.guest, reasons: best.reasons };
  const real = choice.rejected.filter((r) => !r.why.startsWith('does not support'));
  if (!real.length) return { guest: null, reasons: [`no installed guest can mount ${fs}`] };
  return { guest: null, reasons: real.map((r) => `${r.guest}: ${r.why}`) };
}

const markers = '123456789abcdefghijklmnopqrstuvwxyz';

/** One line drawing the partitions of a table to scale ('·' is space no partition uses). */
export function partitionMap(table: DetectedTable, diskSize: number, width = 64): string {
  const cells = Array.from({ length: width }, () => '·');
  const parts = table.partitions.filter((p) => !p.flags?.includes('whole-disk') && !p.flags?.includes('extended') && p.size < diskSize);
  for (const p of parts) {
    const mark = markers[(p.index - 1) % markers.length];
    const from = Math.floor((p.start / diskSize) * width);
    const to = Math.max(from + 1, Math.ceil(((p.start + p.size) / diskSize) * width));
    for (let i = from; i < Math.min(to, width); i++) cells[i] = mark;
  }
  return `[${cells.join('')}]`;
}

function fsLine(fs: DetectedFilesystem): string {
  const bits = [paint('bold', fs.type)];
  if (fs.version && fs.version.toUpperCase() !== fs.type.toUpperCase()) bits.push(/^\d/.test(fs.version) ? `v${fs.version}` : fs.version);
  if (fs.label) bits.push(`label "${fs.label}"`);
  if (fs.uuid) bits.push(`uuid ${fs.uuid}`);
  if (fs.size !== undefined) bits.push(humanSize(fs.size));
  const details = Object.entries(fs.details ?? {})
    .filter(([k]) => !['features', 'blockSize', 'clusters', 'oem', 'superblockOffset', 'fragmentSize'].includes(k))
    .map(([k, v]) => (v === true ? k : `${k} ${v}`));
  if (details.length) bits.push(paint('dim', `(${details.join(', ')})`));
  return bits.join('  ');
}

function guestLine(pick: GuestPick): string {
  return pick.guest
    ? `${paint('green', '→ guest')} ${pick.guest}: ${pick.reasons.join(', ')}`
    : `${paint('yellow', '→ no guest')}: ${pick.reasons.join('; ')}`;
}

function renderTree(disk: DetectedDisk, pick: (fs: string) => GuestPick): string[] {
  const lines: string[] = [];
  const c = disk.container;
  const containerDetails = Object.entries(c.details ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
  lines.push(`${paint('bold', disk.image)}`);
  lines.push(`${c.format}${containerDetails ? ` (${containerDetails})` : ''}: ${humanSize(c.virtualSize)} virtual disk${c.format === 'raw' ? '' : `, ${humanSize(c.fileSize)} file`}${c.backingFile ? `, backing file ${c.backingFile}` : ''}`);
  for (const fs of disk.filesystems) {
    lines.push(`${fsLine(fs)}   ${paint('dim', 'on the whole disk')}`);
    lines.push(`  ${guestLine(pick(fs.type))}`);
  }
  const tableBlock = (table: DetectedTable, indent: string, size: number, base: number) => {
    lines.push(`${indent}${paint('bold', table.type)} partition table${table.id ? ` (id ${table.id})` : ''}, ${table.partitions.length} partition${table.partitions.length === 1 ? '' : 's'}`);
    lines.push(`${indent}  ${partitionMap({ ...table, partitions: table.partitions.map((p) => ({ ...p, start: p.start - base })) }, size)}`);
    for (const note of table.notes ?? []) lines.push(`${indent}  ${paint('yellow', 'note:')} ${note}`);
    table.partitions.forEach((p: DetectedPartition, i) => {
      const last = i === table.partitions.length - 1;
      const branch = last ? '└─ ' : '├─ ';
      const cont = last ? '   ' : '│  ';
      const type = [p.typeName, p.typeCode && p.typeCode !== p.typeName ? paint('dim', p.typeCode) : ''].filter(Boolean).join(' ');
      const flags = p.flags?.length ? paint('dim', ` [${p.flags.join(', ')}]`) : '';
      lines.push(`${indent}${branch}${paint('bold', String(p.index))}  ${humanSize(p.size)} at ${humanSize(p.start)}  ${type}${p.name ? `  "${p.name}"` : ''}${flags}`);
      for (const fs of p.filesystems) {
        lines.push(`${indent}${cont}${fsLine(fs)}`);
        lines.push(`${indent}${cont}  ${guestLine(pick(fs.type))}`);
      }
      if (p.table) tableBlock(p.table, indent + cont, p.size, p.start);
      if (!p.filesystems.length && !p.table && !p.flags?.includes('extended')) lines.push(`${indent}${cont}${paint('dim', 'no filesystem recognised')}`);
    });
  };
  for (const table of disk.tables) tableBlock(table, '', disk.container.virtualSize, 0);
  return lines;
}

/** The detected tree with each filesystem's guest pick added (what --json prints). */
export function withGuests(disk: DetectedDisk, pick: (fs: string) => GuestPick): unknown {
  const addFs = (fs: DetectedFilesystem) => ({ ...fs, guest: pick(fs.type) });
  const addTable = (t: DetectedTable): unknown => ({
    ...t,
    partitions: t.partitions.map((p) => ({ ...p, filesystems: p.filesystems.map(addFs), ...(p.table ? { table: addTable(p.table) } : {}) })),
  });
  return { ...disk, filesystems: disk.filesystems.map(addFs), tables: disk.tables.map(addTable) };
}

export const registerDetect: RegisterCommand = (program, context) => {
  program
    .command('detect')
    .description('show what is inside a disk image: container, partition tables, partitions, filesystems, and the guest that would mount each')
    .argument('<image>', 'image file (raw, qcow2, vmdk, vdi, vhd, vhdx)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', `
Exit codes:
  0  something was recognised
  2  bad arguments
  ${detectExitCodes.E_DETECT_NOT_FOUND}  the image does not exist
  ${detectExitCodes.E_DETECT_NOT_A_FILE}  the path is a directory or not a regular file
  ${detectExitCodes.E_DETECT_UNREADABLE}  the image cannot be read (permission, I/O error)
  ${detectExitCodes.E_DETECT_EMPTY}  the image is empty (0 bytes)
  ${detectExitCodes.E_DETECT_CONTAINER}  the container is truncated, corrupt or uses a feature qemount cannot read
  ${detectExitCodes.E_DETECT_UNKNOWN}  no partition table or filesystem was recognised`)
    .action(async (image: string, options: { json?: boolean }) => {
      const core = await context.qemount();
      const disk = await core.detect(image);
      if (isEmptyDetection(disk)) {
        const what = disk.container.format === 'raw' ? '' : ` (inside its ${disk.container.format} container)`;
        throw new QemountError('E_DETECT_UNKNOWN', `no partition table or filesystem recognised in ${disk.image}${what}`, {
          hint: 'the image may be encrypted, of a format qemount does not know, or not a disk image (file -s IMAGE may say more)',
          exitCode: detectExitCodes.E_DETECT_UNKNOWN,
          hook: 'detect',
        });
      }
      const picks = new Map<string, GuestPick>();
      const pick = (fs: string) => {
        let p = picks.get(fs);
        if (!p) picks.set(fs, (p = guestFor(core, fs)));
        return p;
      };
      if (options.json) return printJson(withGuests(disk, pick));
      printLines(renderTree(disk, pick));
    });
};
