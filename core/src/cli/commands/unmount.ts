import type { RegisterCommand } from '../context.js';
import { printJson } from '../output.js';

export const registerUnmount: RegisterCommand = (program, context) => {
  program
    .command('unmount')
    .alias('umount')
    .argument('<mountpoint>', 'where the image is mounted')
    .description('unmount: detach the folder, sync and power off the guest')
    .option('--force', 'kill what does not stop and detach lazily (for busy, stale or dead mounts)')
    .option('--json', 'machine-readable output')
    .action(async (mountpoint: string, flags: { force?: boolean; json?: boolean }) => {
      const { unmount } = await import('../../mounts/manageMounts.js');
      const result = await unmount(await context.qemount(), mountpoint, { force: flags.force });
      if (flags.json) printJson(result);
      else console.log(`unmounted ${result.mountpoint}${result.how === 'forced' ? ' (forced)' : ''}`);
    });
};
