// qemount ls | cat | cp: read files out of an image with no FUSE at all (containers, CI, hosts
// without FUSE). Each boots a guest, reads over 9P and shuts the guest down.
import { Option, type Command } from 'commander';
import type { RegisterCommand, CliContext } from '../context.js';
import { parseImageSpec, type ImageSpec } from '../../files/imageSpec.js';
import type { ListedEntry } from '../../files/listTree.js';
import type { P9Fs } from '../../p9/P9Fs.js';
import { humanSize, paint, printJson, table } from '../output.js';
import { QemountError } from '../../QemountError.js';

interface OpenFlags {
  fs?: string;
  guest?: string;
  part?: number;
  transport?: string;
}

function withOpenOptions(command: Command): Command {
  return command
    .option('--fs <type>', 'filesystem type to mount (overrides detection)')
    .option('--guest <name>', 'guest to boot (overrides the automatic choice)')
    .option('--transport <name>', 'how the host reaches the guest: unix (default) or tcp')
    .addOption(new Option('--part <n>', 'partition number, as `qemount detect` shows it').argParser((v) => Number.parseInt(v, 10)))
    .addHelpText('after', '\nIMAGE[:PART]:PATH — e.g. disk.qcow2:/etc/hostname, disk.img:2:/home (PART as `qemount detect` numbers it).');
}

/** Opens the image, runs `work` on its tree, and always powers the guest off. */
async function withImage<T>(context: CliContext, spec: ImageSpec, flags: OpenFlags, work: (fs: P9Fs) => Promise<T>): Promise<T> {
  const core = await context.qemount();
  const { openWithProgress } = await import('../openWithProgress.js');
  const opened = await openWithProgress(core, spec.image, { fs: flags.fs, guest: flags.guest, part: flags.part ?? spec.part, transport: flags.transport });
  try {
    return await work(opened.session.fs);
  } finally {
    await opened.session.shutdown();
  }
}

const kindChar: Record<string, string> = { directory: 'd', symlink: 'l', block: 'b', char: 'c', fifo: 'p', socket: 's' };

function modeString(e: ListedEntry): string {
  const bits = 'rwxrwxrwx'.split('').map((c, i) => (e.mode & (1 << (8 - i)) ? c : '-')).join('');
  return (kindChar[e.kind] ?? '-') + bits;
}

function printListing(entries: ListedEntry[], long: boolean): void {
  const name = (e: ListedEntry) => (e.kind === 'directory' ? paint('blue', e.path) : e.path) + (e.target !== undefined ? ` -> ${e.target}` : '');
  if (!long) {
    for (const e of entries) console.log(name(e));
    return;
  }
  console.log(table(entries.map((e) => [modeString(e), String(e.nlink), String(e.uid), String(e.gid), String(e.size), new Date(e.mtimeMs).toISOString().slice(0, 16).replace('T', ' '), name(e)])));
}

export const registerFileCommands: RegisterCommand = (program, context) => {
  withOpenOptions(program.command('ls'))
    .argument('<image-path>', 'IMAGE[:PART]:PATH (PATH defaults to /)')
    .description('list a directory inside an image (boots a guest; no FUSE needed)')
    .option('-l, --long', 'mode, links, owner, size, modification time')
    .option('-R, --recursive', 'everything below, as paths relative to PATH')
    .option('--json', 'machine-readable output')
    .action(async (spec: string, options: OpenFlags & { long?: boolean; recursive?: boolean; json?: boolean }) => {
      const where = parseImageSpec(spec);
      const { listTree } = await import('../../files/listTree.js');
      const entries = await withImage(context, where, options, (fs) => listTree(fs, where.path, { recursive: options.recursive }));
      if (options.json) printJson(entries);
      else printListing(entries, Boolean(options.long));
    });

  withOpenOptions(program.command('cat'))
    .argument('<image-path>', 'IMAGE[:PART]:PATH of a file')
    .description('write a file inside an image to standard output')
    .action(async (spec: string, options: OpenFlags) => {
      const where = parseImageSpec(spec);
      await withImage(context, where, options, async (fs) => {
        const st = await fs.stat(where.path);
        if (st.kind === 'directory') throw new QemountError('E_IS_DIRECTORY', `${where.path} is a directory`, { hint: `qemount ls ${spec}`, exitCode: 2 });
        const { pipeline } = await import('node:stream/promises');
        // Leaving stdout open: a pipe reader may still be draining it.
        await pipeline(fs.createReadStream(where.path), process.stdout, { end: false });
      });
    });

  withOpenOptions(program.command('cp'))
    .argument('<image-path>', 'IMAGE[:PART]:PATH to copy out')
    .argument('<dest>', 'host path (an existing directory receives it under its own name)')
    .description('copy a file or (with -r) a directory out of an image, keeping symlinks, modes and times')
    .option('-r, --recursive', 'copy directories and everything in them')
    .option('--json', 'print what was copied as JSON')
    .action(async (spec: string, dest: string, options: OpenFlags & { recursive?: boolean; json?: boolean }) => {
      const where = parseImageSpec(spec);
      const { copyOut } = await import('../../files/copyOut.js');
      const totals = await withImage(context, where, options, (fs) => copyOut(fs, where.path, dest, { recursive: options.recursive }));
      if (options.json) printJson(totals);
      else if (process.stderr.isTTY) process.stderr.write(`copied ${totals.files} files (${humanSize(totals.bytes)}), ${totals.directories} directories, ${totals.links} links\n`);
    });
};
