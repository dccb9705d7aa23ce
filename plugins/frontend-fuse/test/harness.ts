// Test harness: diod on the host exporting a temp directory, a P9Fs over it, mountFuse on a temp
// mountpoint, and cleanup that leaves no FUSE mount behind even when a test fails.
//
// Never a synchronous fs call on a mounted path from this process (it serves the FUSE requests
// on its main thread): the mount is exercised by child processes or fs.promises. Nor a child
// started with its cwd inside the mount: the forked child chdirs before exec while this thread
// waits for the exec, so nobody answers the lookup (and the child holds /dev/fuse, which
// fuse-native opens without O_CLOEXEC, so even killing us would not end it). Scripts `cd` instead.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { P9Fs } from '@qemount/core';
import { forceUnmount, fuseMountsAt, mountFuse, mountTable, type FuseMountHandle, type FuseMountOptions } from '../src/index.js';
import { diodOnSocketPair, tempDir, within, type Diod } from '../../../core/test/p9/diod.js';

export interface Served {
  fs: P9Fs;
  diod: Diod;
}

export interface Mounted extends Served {
  handle: FuseMountHandle;
  mnt: string;
}

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** Runs a command in a child process (never rejects; killed after timeoutMs). No cwd: see above. */
export function sh(command: string, args: string[], options: { timeoutMs?: number; input?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const env = { ...process.env, LC_ALL: 'C.UTF-8', TZ: 'UTC', ...options.env };
    const child = execFile(command, args, { timeout: options.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, env },
      (error, stdout, stderr) => {
        const e = error as (NodeJS.ErrnoException & { killed?: boolean; signal?: string; code?: number | string }) | null;
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, signal: e?.signal ?? null,
          stdout: String(stdout), stderr: String(stderr), ms: Date.now() - started, timedOut: !!e?.killed,
        });
      });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs a shell script (sh -c) in a child process, in `cwd` (entered by the script itself). */
export function script(text: string, options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const body = options.cwd === undefined ? text : `cd -- "$QEMOUNT_TEST_CWD" && { ${text}
}`;
  return sh('sh', ['-c', body], { timeoutMs: options.timeoutMs, env: options.cwd === undefined ? {} : { QEMOUNT_TEST_CWD: options.cwd } });
}

export class FuseHarness {
  readonly tmp = tempDir('qemount-fuse-');
  private readonly diods: Diod[] = [];
  private readonly filesystems: P9Fs[] = [];
  private readonly handles: FuseMountHandle[] = [];
  private readonly mountpoints = new Set<string>();
  private readonly watchdog: NodeJS.Timeout;

  constructor(watchdogMs = 240_000) {
    // A hung test must not leave the runner waiting for ever (a live mount keeps Node running).
    this.watchdog = setTimeout(() => {
      process.stderr.write(`watchdog: the test file took more than ${watchdogMs} ms; detaching its mounts and exiting\n`);
      for (const mnt of this.mountpoints) {
        try {
          execFileSync('umount', ['-l', mnt], { stdio: 'ignore', timeout: 5000 });
        } catch {
          // not mounted any more
        }
      }
      process.exit(1);
    }, watchdogMs).unref();
  }

  /** A new directory in the temp folder. */
  dir(name: string): string {
    const path = join(this.tmp.dir, name);
    mkdirSync(path, { recursive: true });
    return path;
  }

  /** diod exporting `exportDir`, and a P9Fs connected to it. */
  async serve(exportDir: string): Promise<Served> {
    const diod = diodOnSocketPair({ exportDir });
    this.diods.push(diod);
    const fs = await within(10_000, P9Fs.connect(diod.stream, { aname: exportDir }), 'connect to diod');
    this.filesystems.push(fs);
    return { fs, diod };
  }

  /** Serves `exportDir` and mounts it on a new mountpoint. */
  async mount(exportDir: string, options: { readOnly: boolean; source?: string; mnt?: string; fuse?: FuseMountOptions }): Promise<Mounted> {
    const served = await this.serve(exportDir);
    const mnt = options.mnt ?? this.dir(`mnt-${this.mountpoints.size}`);
    this.mountpoints.add(mnt);
    const handle = await mountFuse({ mountpoint: mnt, fs: served.fs, readOnly: options.readOnly, source: options.source ?? `qemount:test-${this.mountpoints.size}` }, {
      onError: (op, path, error) => process.stderr.write(`fuse ${op} ${path}: unexpected ${(error as Error)?.stack ?? error}\n`),
      ...options.fuse,
    });
    this.handles.push(handle);
    return { ...served, handle, mnt: handle.mountpoint };
  }

  /** Remember a mountpoint something else mounted (a child process), for cleanup. */
  track(mnt: string): void {
    this.mountpoints.add(mnt);
  }

  /** Closes every mount (force-detaching what is left), stops the servers, removes the temp folder. */
  async cleanup(): Promise<void> {
    for (const handle of this.handles) await within(20_000, handle.close(), 'close').catch((e) => process.stderr.write(`cleanup: ${e}\n`));
    for (const mnt of this.mountpoints) await forceUnmount(mnt).catch((e) => process.stderr.write(`cleanup: ${e}\n`));
    for (const fs of this.filesystems) fs.close();
    await Promise.all(this.diods.map((d) => d.stop()));
    const left = (await mountTable()).filter((m) => m.mountpoint.startsWith(this.tmp.dir));
    clearTimeout(this.watchdog);
    // Removing a folder with a live mount inside would recurse into it from this very thread.
    if (left.length) process.stderr.write(`cleanup: still mounted, ${this.tmp.dir} kept: ${left.map((m) => m.mountpoint).join(', ')}\n`);
    else this.tmp.remove();
  }
}

/** Is a FUSE mount on `mnt` (canonical path)? */
export async function isMounted(mnt: string): Promise<boolean> {
  return (await fuseMountsAt(mnt)).length > 0;
}
