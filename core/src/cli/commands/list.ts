import type { RegisterCommand } from '../context.js';
import { paint, printJson, table } from '../output.js';

export const registerList: RegisterCommand = (program, context) => {
  program
    .command('list')
    .description('the mounts qemount holds (mounts left by killed processes are cleaned up)')
    .option('--json', 'machine-readable output')
    .action(async (flags: { json?: boolean }) => {
      const { listMounts } = await import('../../mounts/manageMounts.js');
      const mounts = await listMounts(await context.qemount());
      if (flags.json) return printJson(mounts);
      if (!mounts.length) return console.log('nothing mounted');
      const state = (s: string) => (s === 'mounted' ? paint('green', s) : paint('red', `${s} (EIO; qemount unmount it)`));
      console.log(table([
        ['mountpoint', 'image', 'fs', 'mode', 'guest', 'pid', 'state'].map((h) => paint('bold', h)),
        ...mounts.map((m) => [m.mountpoint, `${m.image}${m.part ? `:${m.part}` : ''}`, m.fs, m.snapshot ? 'snapshot' : m.access, m.guest, String(m.pid), state(m.status)]),
      ]));
    });
};
