// One writer per image: a read-write mount holds <stateDir>/locks/<hash of the image path>.lock
// (its pid inside) until it ends. A lock whose process is gone is stale and taken over.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { QemountError } from '../QemountError.js';
import { isAlive } from './MountRecord.js';

function lockFile(stateDir: string, image: string): string {
  return join(stateDir, 'locks', `${createHash('sha256').update(image).digest('hex').slice(0, 24)}.lock`);
}

export interface ImageLock {
  release(): Promise<void>;
}

/** Takes the image's write lock for `pid` (default: this process). */
export async function lockImage(stateDir: string, image: string, describe: string, pid = process.pid): Promise<ImageLock> {
  const file = lockFile(stateDir, image);
  await mkdir(join(stateDir, 'locks'), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(JSON.stringify({ pid, image, describe }) + '\n');
      await handle.close();
      return { release: () => rm(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as { pid?: number; describe?: string };
      if (isAlive(holder.pid)) {
        throw new QemountError('E_IMAGE_LOCKED', `${image} is already mounted read-write (${holder.describe ?? `by process ${holder.pid}`})`, {
          hint: 'unmount it first (qemount list shows where), or mount it read-only or with --snapshot',
          exitCode: 2,
        });
      }
      await rm(file, { force: true }); // stale: its process is gone
    }
  }
  throw new QemountError('E_IMAGE_LOCKED', `cannot lock ${image} for writing`, { exitCode: 2 });
}

export async function releaseImageLock(stateDir: string, image: string): Promise<void> {
  await rm(lockFile(stateDir, image), { force: true });
}
