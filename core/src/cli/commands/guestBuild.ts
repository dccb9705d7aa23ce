import type { RegisterCommand } from '../context.js';
import { paint, printJson } from '../output.js';
import type { GuestAssetStatus } from '../../guests/GuestDriver.js';

export const registerGuestBuild: RegisterCommand = (program, context) => {
  const guest = program.command('guest').description("manage a guest's assets (kernel and userland)");
  guest
    .command('build')
    .argument('<name>', 'guest id, e.g. linux-6 (see `qemount guests`)')
    .description('build or fetch the assets a guest boots from; cached, rebuilt only when their inputs change')
    .option('--force', 'rebuild even if the cached assets are current')
    .option('--json', 'machine-readable output')
    .action(async (name: string, options: { force?: boolean; json?: boolean }) => {
      const { Listr } = await import('listr2');
      const core = await context.qemount();
      const driver = await core.guestDriver(core.guest(name).id);
      let status: GuestAssetStatus | undefined;
      const started = Date.now();
      await new Listr(
        [
          {
            title: `building guest ${driver.id}`,
            task: async (_ctx, task) => {
              status = await driver.build({ force: options.force, progress: (message) => (task.output = message) });
              task.title = `guest ${driver.id}: ${status.detail} (${((Date.now() - started) / 1000).toFixed(1)} s)`;
            },
          },
        ],
        { renderer: options.json ? 'silent' : process.stdout.isTTY ? 'default' : 'simple', exitOnError: true },
      ).run();
      if (options.json) printJson({ guest: driver.id, ...status });
      else console.log(paint('dim', `assets in ${status!.location}`));
    });
};
