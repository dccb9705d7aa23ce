import type { RegisterCommand } from '../context.js';
import { paint, printJson, table } from '../output.js';

export const registerGuests: RegisterCommand = (program, context) => {
  program
    .command('guests')
    .description('every installed guest: where it comes from, whether its assets are here, what it supports')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const { listGuests } = await import('../../guests/listGuests.js');
      const guests = await listGuests(await context.qemount());
      if (options.json) return printJson(guests);
      const rows = guests.map((g) => [
        g.id,
        g.source,
        g.system,
        `${g.filesystems.rw} rw + ${g.filesystems.ro} ro`,
        String(g.partitionTables),
        g.assets.present ? paint('green', 'present') : paint('yellow', 'missing'),
      ]);
      console.log(table([['guest', 'source', 'system', 'filesystems', 'tables', 'assets'].map((h) => paint('bold', h)), ...rows]));
      for (const g of guests.filter((g) => !g.assets.present)) {
        console.log(`\n${g.id}: ${g.assets.detail}${g.assets.fix ? `\n  fix: ${g.assets.fix}` : ''}`);
      }
    });
};
