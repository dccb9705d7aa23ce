// The qemount command line: one file per command under commands/, each thin over the library.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliContext, type RegisterCommand } from './context.js';
import { reportError } from './reportError.js';
import { coreRoot } from '../util/installPaths.js';
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

/** Every command: the names (and aliases) a user types for it, and what registers it. */
const commands: { names: string[]; register: RegisterCommand }[] = [
  { names: ['mount'], register: registerMount },
  { names: ['unmount', 'umount'], register: registerUnmount },
  { names: ['list'], register: registerList },
  { names: ['logs'], register: registerLogs },
  { names: ['formats'], register: registerFormats },
  { names: ['detect'], register: registerDetect },
  { names: ['guests'], register: registerGuests },
  { names: ['doctor'], register: registerDoctor },
  { names: ['guest'], register: registerGuestBuild },
  { names: ['ls', 'cat', 'cp'], register: registerFileCommands },
  { names: ['demo'], register: registerDemo },
];

/** The command a plain argument list runs: the first argument, after global options that take a value. */
function commandOf(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--config') i++;
    else if (!args[i].startsWith('--config=')) return args[i];
  }
  return undefined;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(join(coreRoot, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * The program. Given the argument list, only the command it runs is registered: setting up every
 * command is a measurable part of a short run. Help, the version, a missing, mistyped or unknown
 * command, or an option before the command get all of them (the help lists them, suggestions need them).
 */
export function buildProgram(argv?: string[]): Command {
  const program = new Command('qemount')
    .description('Mount any disk image by booting a tiny QEMU VM per mount; the guest kernel mounts it, 9P brings it home.')
    .version(version(), '-V, --version')
    .option('--config <file>', 'site config file (default: searched from the current folder up, then ~/.config/qemount/)')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const context = new CliContext(program);
  const name = argv && commandOf(argv.slice(2));
  const running = commands.filter((c) => name !== undefined && c.names.includes(name));
  for (const { register } of running.length ? running : commands) register(program, context);
  for (const command of program.commands) command.exitOverride().showHelpAfterError(`(qemount ${command.name()} --help for usage)`);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // A reader that stops early (`qemount formats --json | head`) is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  const program = buildProgram(argv);
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
