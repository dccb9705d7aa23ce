// Shared by the e2e tests: the engine as the tests configure it (TCG, the user's guest cache),
// the CLI as a subprocess, and the filled test images.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, rename, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Qemount, openImage, type P9Fs } from '@qemount/core';
import { buildImage, corpus, expectedTree, imagePath, type SourceEntry } from '../../images/corpus.ts';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Site config of the e2e tests: TCG, since KVM cannot be trusted on test machines. */
export const configFile = join(root, 'test', 'e2e', 'qemount.config.json');
const bin = join(root, 'core', 'bin', 'qemount.js');

export function createCore(): Promise<Qemount> {
  return Qemount.create({ file: configFile });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export function qemount(args: string[], options: { timeoutMs?: number; encoding?: 'utf8' | 'buffer' } = {}): Promise<CliResult & { stdoutBytes: Buffer }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, '--config', configFile, ...args], { encoding: 'buffer', maxBuffer: 512 * 1024 * 1024, timeout: options.timeoutMs ?? 180_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: stdout.toString('utf8'), stdoutBytes: stdout, stderr: stderr.toString('utf8'), ms: Date.now() - started });
    });
  });
}

/**
 * A recipe's image holding its expected content. Images no Debian tool can fill offline are
 * filled through qemount itself: booted read-write, the tree written over 9P, the guest
 * powered off (sync, unmount). The filled copy is cached beside the empty one.
 */
export async function filledImage(name: string): Promise<string> {
  const recipe = corpus.get(name)!;
  const empty = await buildImage(name);
  if (recipe.fill !== 'guest') return empty;
  const filled = empty.replace(/\.img$/, '.filled.img');
  if (existsSync(filled)) return filled;
  const work = `${filled}.tmp-${process.pid}`;
  await copyFile(empty, work);
  const core = await createCore();
  const opened = await openImage(core, work, { access: 'rw', part: recipe.contentPartition });
  try {
    await writeTree(opened.session.fs, expectedTree(recipe.limits));
  } finally {
    await opened.session.shutdown();
  }
  await rename(work, filled);
  return filled;
}

async function writeTree(fs: P9Fs, entries: SourceEntry[]): Promise<void> {
  for (const entry of entries) {
    const path = posix.join('/', entry.path);
    if (entry.type === 'dir') await fs.mkdir(path, 0o755);
    else if (entry.type === 'file') await fs.writeFile(path, entry.content, { mode: 0o644 });
    else await fs.symlink(entry.target, path);
  }
}

/** The tree a recipe's image must show when mounted. */
export function expectedFor(name: string): SourceEntry[] {
  const recipe = corpus.get(name)!;
  return expectedTree(recipe.limits);
}

export { buildImage, corpus, imagePath, stat, mkdir };
