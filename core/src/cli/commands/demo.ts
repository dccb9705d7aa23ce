// qemount demo: the main job on a built-in sample — make a GPT disk with two filesystems, mount
// it, show what is inside through the mount, unmount.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, readlink, lstat, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { RegisterCommand } from '../context.js';
import { mountSteps } from '../steps.js';
import { paint } from '../output.js';

async function showTree(root: string, relative = '', depth = 0): Promise<void> {
  for (const name of (await readdir(join(root, relative))).sort()) {
    const path = join(root, relative, name);
    const info = await lstat(path);
    const indent = '  '.repeat(depth + 1);
    if (info.isSymbolicLink()) console.log(`${indent}${name} -> ${await readlink(path)}`);
    else if (info.isDirectory()) {
      console.log(`${indent}${paint('blue', `${name}/`)}`);
      await showTree(root, join(relative, name), depth + 1);
    } else console.log(`${indent}${name}  ${paint('dim', `${info.size} bytes`)}`);
  }
}

export const registerDemo: RegisterCommand = (program, context) => {
  program
    .command('demo')
    .description('see it work: make a sample GPT disk (FAT32 + ext4), mount it, list it, unmount it')
    .option('--keep', 'leave the sample disk image in the cache folder and print its path')
    .action(async (flags: { keep?: boolean }) => {
      const core = await context.qemount();
      const [{ makeSampleDisk }, { mountInBackground }, { unmount }, { withStepProgress }] = await Promise.all([
        import('../../demo/sampleDisk.js'), import('../../mounts/mountInBackground.js'), import('../../mounts/manageMounts.js'), import('../stepProgress.js'),
      ]);
      const dir = join(core.config.cacheDir, 'demo');
      await mkdir(dir, { recursive: true });
      const image = join(dir, 'sample-gpt.img');
      console.log(`${paint('bold', '1. a sample disk')}: ${image}`);
      const sample = await makeSampleDisk(image);
      for (const p of sample.partitions) console.log(`   partition ${p.index}: ${p.fs} holding ${p.files.join(', ')}`);
      const mountpoint = await mkdtemp(join(tmpdir(), 'qemount-demo-'));
      try {
        if (!existsSync('/dev/fuse')) {
          console.log(paint('yellow', '/dev/fuse is missing here, so the demo reads the disk with `qemount ls` instead of mounting it.'));
          const { openImage } = await import('../../session/openImage.js');
          const { listTree } = await import('../../files/listTree.js');
          const opened = await openImage(core, image);
          try {
            for (const e of await listTree(opened.session.fs, '/', { recursive: true })) console.log(`   ${e.path}${e.target ? ` -> ${e.target}` : ''}`);
          } finally {
            await opened.session.shutdown();
          }
          return;
        }
        console.log(`${paint('bold', '2. qemount mount')} ${image} ${mountpoint}   (picks the largest filesystem: the ext4 partition)`);
        const record = await withStepProgress(mountSteps, (onStep) => mountInBackground(core, image, mountpoint, { onStep }));
        console.log(`   mounted ${record.fs} (partition ${record.part}) read-only with guest ${record.guest} in ${(record.readyMs / 1000).toFixed(1)} s`);
        console.log(`${paint('bold', '3. the files, read through the mount')}:`);
        await showTree(mountpoint);
        console.log(`   hello.txt says: ${(await readFile(join(mountpoint, 'hello.txt'), 'utf8')).trim()}`);
        console.log(`${paint('bold', '4. qemount unmount')} ${mountpoint}`);
        await unmount(core, mountpoint);
        console.log('   unmounted; the guest synced and powered off');
      } finally {
        await rm(mountpoint, { recursive: true, force: true }).catch(() => {});
        if (!flags.keep) await rm(image, { force: true });
        else console.log(`sample kept: ${image}   (try: qemount detect ${image})`);
      }
    });
};
