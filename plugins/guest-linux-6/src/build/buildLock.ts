// One build of a guest at a time: two first uses at once (two mounts, a mount and the tests) would
// otherwise both compile a kernel. The lock file holds the builder's pid; a dead builder's lock
// is taken over.
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export interface BuildLock {
  release(): Promise<void>;
}

/** Waits until this process holds <assetRoot>/build.lock. */
export async function lockBuild(assetRoot: string, progress: (message: string) => void): Promise<BuildLock> {
  const file = join(assetRoot, 'build.lock');
  await mkdir(assetRoot, { recursive: true });
  let told = false;
  for (;;) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return { release: () => rm(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (!holder || !isRunning(holder)) {
      await rm(file, { force: true });
      continue;
    }
    if (!told) progress(`waiting for another build of this guest (process ${holder}) to finish`);
    told = true;
    await sleep(1000);
  }
}
