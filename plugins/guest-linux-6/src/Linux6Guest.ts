// The linux-6 guest driver: builds its assets from Debian packages and says how to boot them.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guestAssetDir, QemountError, type GuestAssetStatus, type GuestBootSpec, type GuestBuildOptions, type GuestDriver, type Qemount } from '@qemount/core';
import { buildAssets, localInputsHash, readCurrentBuild } from './build/buildAssets.js';
import { lockBuild } from './build/buildLock.js';
import { recipe } from './recipe.js';

const pluginDir = fileURLToPath(new URL('..', import.meta.url));
const buildCommand = 'qemount guest build linux-6';

export class Linux6Guest implements GuestDriver {
  readonly id = 'linux-6';
  constructor(private readonly core: Qemount) {}

  private get assetRoot(): string {
    return guestAssetDir(this.core, this.id);
  }

  private get filesystems() {
    return this.core.guest(this.id).declaration.filesystems;
  }

  async assets(): Promise<GuestAssetStatus> {
    const current = await readCurrentBuild(this.assetRoot);
    if (!current) return { present: false, location: this.assetRoot, detail: 'not built yet (once, about 20 minutes on 2 cores: it compiles a small kernel from Debian\'s linux-source)', fix: buildCommand };
    if (current.record.localHash !== (await localInputsHash(pluginDir, this.filesystems))) {
      return { present: false, location: current.dir, detail: 'built from an older recipe; it is rebuilt on next use', fix: buildCommand };
    }
    const missing = ['vmlinux', 'base.cpio'].filter((f) => !existsSync(join(current.dir, f)));
    if (missing.length) return { present: false, location: current.dir, detail: `incomplete: ${missing.join(', ')} missing`, fix: `${buildCommand} --force` };
    return { present: true, location: current.dir, detail: `kernel ${current.record.kernelRelease}, ${current.record.filesystems.length} filesystems, built ${current.record.builtAt.slice(0, 10)}` };
  }

  async build(options: GuestBuildOptions = {}): Promise<GuestAssetStatus> {
    const progress = options.progress ?? (() => {});
    const lock = await lockBuild(this.assetRoot, progress);
    try {
      await buildAssets({ pluginDir, assetRoot: this.assetRoot, filesystems: this.filesystems, progress, force: options.force });
    } catch (error) {
      throw new QemountError('E_GUEST_BUILD', `building guest linux-6 failed: ${(error as Error).message}`, {
        cause: error,
        hint: 'it needs apt-get and dpkg-deb with Debian bookworm sources, and a kernel toolchain (apt-get install build-essential bc bison flex libelf-dev xz-utils); run `qemount doctor`',
      });
    } finally {
      await lock.release();
    }
    return this.assets();
  }

  async bootSpec(fs: string, options: Pick<GuestBuildOptions, 'progress'> = {}): Promise<GuestBootSpec> {
    const status = await this.assets();
    if (!status.present) await this.build(options);
    const current = (await readCurrentBuild(this.assetRoot))!;
    const fsArchive = join(current.dir, 'fs', `${fs}.cpio`);
    if (!existsSync(fsArchive)) throw new QemountError('E_GUEST_UNSUPPORTED', `guest linux-6 has no support for ${fs} in its build`, { hint: `${buildCommand} --force` });
    return { kernel: join(current.dir, 'vmlinux'), initrd: await this.initrdFor(current.dir, fs), append: recipe.append, pvh: true, acpi: false };
  }

  async probeKernel(): Promise<string | undefined> {
    const current = await readCurrentBuild(this.assetRoot);
    const kernel = current && join(current.dir, 'vmlinux');
    return kernel && existsSync(kernel) ? kernel : undefined;
  }

  /** base.cpio + fs/<id>.cpio, joined once per filesystem (qemu takes one initrd file). */
  private async initrdFor(dir: string, fs: string): Promise<string> {
    const joined = join(dir, 'initrd', `${fs}.cpio`);
    if (existsSync(joined)) return joined;
    await mkdir(join(dir, 'initrd'), { recursive: true });
    const tmp = `${joined}.${process.pid}`;
    await writeFile(tmp, Buffer.concat([await readFile(join(dir, 'base.cpio')), await readFile(join(dir, 'fs', `${fs}.cpio`))]));
    await rename(tmp, joined);
    return joined;
  }
}
