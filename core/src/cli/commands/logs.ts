import type { RegisterCommand } from '../context.js';
import { paint } from '../output.js';

export const registerLogs: RegisterCommand = (program, context) => {
  program
    .command('logs')
    .argument('<mountpoint>', 'where the image is mounted')
    .description("a mount's logs: the guest's console (kernel and init) and the mount process")
    .option('--guest-only', "only the guest's console")
    .action(async (mountpoint: string, flags: { guestOnly?: boolean }) => {
      const { mountLogs } = await import('../../mounts/manageMounts.js');
      const logs = await mountLogs(await context.qemount(), mountpoint);
      console.log(paint('bold', `== guest console (${logs.record.consoleLog})`));
      process.stdout.write(logs.console.endsWith('\n') || !logs.console ? logs.console : `${logs.console}\n`);
      if (flags.guestOnly) return;
      console.log(paint('bold', `== mount process (${logs.record.daemonLog})`));
      process.stdout.write(logs.daemon);
    });
};
