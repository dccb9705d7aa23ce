import type { RegisterCommand } from '../context.js';
import { paint, printJson } from '../output.js';

const marks = { ok: paint('green', 'ok  '), warn: paint('yellow', 'warn'), fail: paint('red', 'fail') };

export const registerDoctor: RegisterCommand = (program, context) => {
  program
    .command('doctor')
    .description('check this host: qemu, KVM, FUSE, guest assets; each line says how to fix what is missing')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const { doctor } = await import('../../doctor.js');
      const checks = await doctor(await context.qemount());
      if (options.json) printJson(checks);
      else {
        for (const c of checks) {
          console.log(`${marks[c.status]}  ${c.name}: ${c.detail}`);
          if (c.fix && c.status !== 'ok') console.log(`      fix: ${c.fix}`);
        }
      }
      if (checks.some((c) => c.status === 'fail')) process.exitCode = 1;
    });
};
