// Detaching FUSE mounts: the mount table (/proc/self/mountinfo), a polite unmount that retries
// while the mountpoint is busy and ends with a lazy one, and forceUnmount for a mount whose
// serving process is gone ("Transport endpoint is not connected") or hung.
//
// Nothing here looks inside the mountpoint (a dead or hung FUSE mount would fail or block): only
// its parent is resolved, the mount table read and unmount commands run as child processes.
import { execFile } from 'node:child_process';
import { access, readFile, realpath, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { QemountError } from '@qemount/core';

export interface MountEntry {
  /** Mount id (unique while mounted). */
  id: number;
  major: number;
  minor: number;
  mountpoint: string;
  fstype: string;
  source: string;
  /** Per-mount options (ro/rw, nosuid...). */
  options: string;
  superOptions: string;
}

function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** The calling process's mount table. */
export async function mountTable(): Promise<MountEntry[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (dash < 0) continue;
    const [major, minor] = fields[2].split(':').map(Number);
    entries.push({
      id: Number(fields[0]), major, minor, mountpoint: unescapeMountField(fields[4]), options: fields[5],
      fstype: fields[dash + 1], source: unescapeMountField(fields[dash + 2] ?? ''), superOptions: fields[dash + 3] ?? '',
    });
  }
  return entries;
}

/** FUSE mounts on exactly `mountpoint` (a canonical path), the topmost last. */
export async function fuseMountsAt(mountpoint: string): Promise<MountEntry[]> {
  return (await mountTable()).filter((e) => e.mountpoint === mountpoint && (e.fstype === 'fuse' || e.fstype.startsWith('fuse.') || e.fstype === 'fuseblk'));
}

/** The absolute path the mount table uses, found without touching the mountpoint itself. */
export async function canonicalMountpoint(mountpoint: string): Promise<string> {
  const absolute = resolve(mountpoint);
  if (absolute === '/') return absolute;
  let parent = dirname(absolute);
  try {
    parent = await realpath(parent);
  } catch {
    // Keep the lexical parent: the mount table will simply not list it.
  }
  return join(parent, basename(absolute));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CommandResult {
  ok: boolean;
  /** The program is not installed. */
  missing: boolean;
  output: string;
}

function run(command: string, args: string[], timeoutMs = 10_000): Promise<CommandResult> {
  return new Promise((done) => {
    execFile(command, args, { timeout: timeoutMs, env: { ...process.env, LC_ALL: 'C' } }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (!error) return done({ ok: true, missing: false, output });
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      done({ ok: false, missing, output: output || error.message });
    });
  });
}

/** Runs the first of `commands` that is installed. */
async function runFirst(commands: [string, string[]][]): Promise<CommandResult> {
  let last: CommandResult = { ok: false, missing: true, output: 'no unmount command is installed (fusermount3, fusermount, umount)' };
  for (const [command, args] of commands) {
    const result = await run(command, args);
    if (!result.missing) {
      if (result.ok) return result;
      last = result;
    }
  }
  return last;
}

const isRoot = () => process.getuid?.() === 0;

function unmountCommands(mountpoint: string, lazy: boolean): [string, string[]][] {
  const fusermount: [string, string[]][] = [
    ['fusermount3', [lazy ? '-uz' : '-u', '--', mountpoint]],
    ['fusermount', [lazy ? '-uz' : '-u', '--', mountpoint]],
  ];
  return isRoot() ? [['umount', lazy ? ['-l', '--', mountpoint] : ['--', mountpoint]], ...fusermount] : fusermount;
}

/** Is this mount (by mount id) still in the table? */
async function stillMounted(mountpoint: string, id?: number): Promise<boolean> {
  const mounts = await fuseMountsAt(mountpoint);
  return id === undefined ? mounts.length > 0 : mounts.some((m) => m.id === id);
}

async function waitDetached(mountpoint: string, id: number | undefined, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await stillMounted(mountpoint, id))) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}

export interface UnmountOptions {
  /** The mount id to wait for (default: any FUSE mount on the mountpoint). */
  mountId?: number;
  /** How long to retry a busy mountpoint before detaching it lazily (default 2000 ms). */
  busyRetryMs?: number;
}

/**
 * Unmounts a FUSE mount: a normal unmount, retried while the mountpoint is busy, then a lazy one
 * (detached now, torn down when its last user goes). Resolves once the mount table no longer
 * lists it; says how it went.
 */
export async function unmountFuse(mountpoint: string, options: UnmountOptions = {}): Promise<'unmounted' | 'lazy' | 'not-mounted'> {
  const id = options.mountId;
  if (!(await stillMounted(mountpoint, id))) return 'not-mounted';
  const deadline = Date.now() + (options.busyRetryMs ?? 2000);
  let last: CommandResult | undefined;
  for (;;) {
    last = await runFirst(unmountCommands(mountpoint, false));
    if (await waitDetached(mountpoint, id, last.ok ? 2000 : 0)) return 'unmounted';
    if (!/busy/i.test(last.output) || Date.now() > deadline) break;
    await sleep(100);
  }
  const lazy = await runFirst(unmountCommands(mountpoint, true));
  if (await waitDetached(mountpoint, id, 5000)) return 'lazy';
  throw new QemountError('E_UNMOUNT', `cannot unmount ${mountpoint}: ${lazy.output || last?.output || 'it stays mounted'}`, {
    plugin: 'frontend-fuse',
    hint: isRoot() ? `umount -l ${JSON.stringify(mountpoint)}` : `fusermount3 -uz ${JSON.stringify(mountpoint)}`,
  });
}

/**
 * Detaches a FUSE mount left behind by a process that died or hangs (`qemount unmount --force`):
 * aborts its FUSE connection when the fusectl filesystem allows (so processes blocked in it get
 * an error instead of waiting for ever), then unmounts it lazily. Resolves true when something
 * was detached, false when no FUSE mount was there.
 */
export async function forceUnmount(mountpoint: string): Promise<boolean> {
  const path = await canonicalMountpoint(mountpoint);
  const mounts = await fuseMountsAt(path);
  if (!mounts.length) return false;
  for (const mount of mounts.reverse()) {
    const abort = `/sys/fs/fuse/connections/${mount.minor}/abort`;
    try {
      await access(abort);
      await writeFile(abort, '1');
    } catch {
      // No fusectl (or not root): the lazy unmount below still detaches it.
    }
    await runFirst(unmountCommands(path, true));
  }
  if (await waitDetached(path, undefined, 5000)) return true;
  throw new QemountError('E_UNMOUNT', `cannot detach the FUSE mount on ${path}`, {
    plugin: 'frontend-fuse',
    hint: isRoot() ? `umount -l ${JSON.stringify(path)}` : `fusermount3 -uz ${JSON.stringify(path)}`,
  });
}
