import { Option } from 'commander';
import type { RegisterCommand } from '../context.js';
import type { FormatGuestSupport } from '../../formatMatrix.js';
import { kindNames, type FormatKind } from '../../catalogue/kinds.js';
import { paint, printJson, table } from '../output.js';

function cell(support: FormatGuestSupport | null): string {
  if (!support) return paint('dim', '—');
  const text = support.access + (support.tested ? '*' : '');
  return support.access === 'rw' ? paint('green', text) : paint('yellow', text);
}

export const registerFormats: RegisterCommand = (program, context) => {
  program
    .command('formats')
    .description('the filesystems and partition tables qemount knows, and which guest mounts each (rw / ro / —)')
    .option('--json', 'machine-readable output')
    .option('--guest <name>', 'only what this guest supports')
    .addOption(new Option('--kind <kind>', 'only filesystems or only partition tables').choices(['fs', 'pt']))
    .action(async (options: { json?: boolean; guest?: string; kind?: FormatKind }) => {
      const core = await context.qemount();
      const { formatMatrix } = await import('../../formatMatrix.js');
      const matrix = formatMatrix(core, { kind: options.kind, guest: options.guest });
      if (options.json) return printJson(matrix);
      for (const kind of ['fs', 'pt'] as const) {
        const rows = matrix.rows.filter((r) => r.kind === kind);
        if (!rows.length) continue;
        const header = [kindNames[kind], ...matrix.guests, 'pick', 'origin', 'description'];
        const body = rows.map((r) => [r.id, ...matrix.guests.map((g) => cell(r.guests[g])), r.pick.ro ?? paint('dim', '—'), r.origin, r.description]);
        console.log(table([header.map((h) => paint('bold', h)), ...body]));
        console.log('');
      }
      console.log(paint('dim', 'rw: read-write  ro: read-only  —: not supported  *: proven by an end-to-end test  pick: the guest chosen for a read-only mount'));
    });
};
