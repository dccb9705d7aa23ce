// The qemount command line: one file per command under commands/, each thin over the library.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { CliContext, type RegisterCommand } from './context.js';
import { reportError } from './reportError.js';
import { registerFormats } from './commands/formats.js';
import { registerGuests } from './commands/guests.js';
import { registerDoctor } from './commands/doctor.js';
import { registerGuestBuild } from './commands/guestBuild.js';
import { registerFileCommands } from './commands/fileCommands.js';
import { registerDetect } from './commands/detect.js';
import { registerMount } from './commands/mount.js';
import { registerUnmount } from './commands/unmount.js';
import { registerList } from './commands/list.js';
import { registerLogs } from './commands/logs.js';
import { registerDemo } from './commands/demo.js';

const commands: RegisterCommand[] = [registerMount, registerUnmount, registerList, registerLogs, registerFormats, registerDetect, registerGuests, registerDoctor, registerGuestBuild, registerFileCommands, registerDemo];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('qemount')
    .description('Mount any disk image by booting a tiny QEMU VM per mount; the guest kernel mounts it, 9P brings it home.')
    .version(version(), '-V, --version')
    .option('--config <file>', 'site config file (default: searched from the current folder up, then ~/.config/qemount/)')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const context = new CliContext(program);
  for (const register of commands) register(program, context);
  for (const command of program.commands) command.exitOverride().showHelpAfterError(`(qemount ${command.name()} --help for usage)`);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // A reader that stops early (`qemount formats --json | head`) is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed help, the version, or what was wrong with the arguments.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    process.exitCode = reportError(error);
  }
}
