import { Option } from 'commander';
import type { RegisterCommand } from '../context.js';
import type { MountRecord } from '../../mounts/MountRecord.js';
import { mountSteps } from '../steps.js';
import { paint, printJson } from '../output.js';

interface MountFlags {
  part?: number;
  fs?: string;
  guest?: string;
  transport?: string;
  rw?: boolean;
  snapshot?: boolean;
  foreground?: boolean;
  json?: boolean;
}

function describe(record: MountRecord): string {
  const what = `${record.fs}${record.part ? ` (partition ${record.part})` : ''}`;
  const mode = record.snapshot ? 'read-write to a throw-away overlay' : record.access === 'rw' ? 'read-write' : 'read-only';
  return `${paint('green', 'mounted')} ${record.image}: ${what} on ${record.mountpoint}, ${mode}, guest ${record.guest} (${(record.readyMs / 1000).toFixed(1)} s)`;
}

export const registerMount: RegisterCommand = (program, context) => {
  program
    .command('mount')
    .argument('<image>', 'disk image: raw, qcow2, vmdk, vdi, vhd, vhdx')
    .argument('<mountpoint>', 'an existing, empty folder')
    .description('mount an image (or one of its partitions) on a folder; read-only unless --rw')
    .addOption(new Option('--part <n>', 'partition number, as `qemount detect` shows it (default: the only or largest mountable one)').argParser((v) => Number.parseInt(v, 10)))
    .option('--fs <type>', 'filesystem type (overrides detection)')
    .option('--guest <name>', 'guest to boot (overrides the automatic choice)')
    .option('--transport <name>', 'how the host reaches the guest: unix (default) or tcp')
    .addOption(new Option('--rw', 'mount read-write (the image is locked against a second writer)').conflicts('snapshot'))
    .option('--snapshot', 'allow writes, but into a throw-away overlay: the image is never written')
    .option('--foreground', 'stay in the foreground until Ctrl-C (then unmount)')
    .option('--json', 'print the mount as JSON')
    .action(async (image: string, mountpoint: string, flags: MountFlags) => {
      const startedAt = Date.now();
      const core = await context.qemount();
      const [{ Mount }, { mountInBackground }, { withStepProgress }] = await Promise.all([
        import('../../mounts/Mount.js'), import('../../mounts/mountInBackground.js'), import('../stepProgress.js'),
      ]);
      const options = { part: flags.part, fs: flags.fs, guest: flags.guest, transport: flags.transport, rw: flags.rw, snapshot: flags.snapshot, startedAt };
      if (!flags.foreground) {
        const record = await withStepProgress(mountSteps, (onStep) => mountInBackground(core, image, mountpoint, { ...options, onStep }), { quiet: flags.json });
        if (flags.json) printJson(record);
        else console.log(`${describe(record)}\n${paint('dim', `unmount with: qemount unmount ${record.mountpoint}`)}`);
        return;
      }
      const mount = await withStepProgress(mountSteps, (onStep) => Mount.start(core, image, mountpoint, { ...options, onStep }), { quiet: flags.json });
      if (flags.json) printJson(mount.record);
      else console.log(`${describe(mount.record)}\n${paint('dim', 'Ctrl-C unmounts')}`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          mount.close().then(resolve, (error) => {
            process.stderr.write(`${(error as Error).message}\n`);
          });
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
};
