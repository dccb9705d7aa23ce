// Builds the linux-6 guest: vmlinux (PVH ELF, from buildKernel), base.cpio (busybox, diod and its
// libraries, /init) and one small fs/<id>.cpio per filesystem (its modules and helper). The kernel
// accepts concatenated archives, so a boot unpacks base + one filesystem's archive only.
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FilesystemSupport } from '@qemount/core';
import { recipe } from '../recipe.js';
import { writeCpio, withParentDirs, type CpioEntry } from './cpio.js';
import { buildKernel } from './buildKernel.js';
import { downloadPackages, extractPackage, libraryDependencies, resolveMetapackage, resolvePackages, type DebianPackage } from './debianPackages.js';
import { readNeededLibraries } from './elf.js';
import { ModuleIndex } from './kernelModules.js';

export interface BuildInputs {
  /** The plugin folder (for guest/init). */
  pluginDir: string;
  /** <cacheDir>/guests/linux-6 */
  assetRoot: string;
  filesystems: Record<string, FilesystemSupport>;
  progress: (message: string) => void;
  force?: boolean;
}

export interface BuildRecord {
  hash: string;
  localHash: string;
  kernelRelease: string;
  packages: DebianPackage[];
  filesystems: string[];
  builtAt: string;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Hash of the inputs that need no apt call: the recipe, /init, the kernel config, the build code and the filesystems' needs. */
export async function localInputsHash(pluginDir: string, filesystems: Record<string, FilesystemSupport>): Promise<string> {
  const init = await readFile(join(pluginDir, recipe.init));
  const kernelConfig = await readFile(join(pluginDir, recipe.kernelConfig));
  const buildDir = dirname(fileURLToPath(import.meta.url));
  const code = await Promise.all((await readdir(buildDir)).filter((f) => f.endsWith('.js')).sort().map(async (f) => sha256(await readFile(join(buildDir, f)))));
  const needs = Object.entries(filesystems).map(([id, fs]) => [id, fs.modules ?? [], fs.helper ?? '', fs.moduleParameters ?? {}, fs.device ?? '']);
  return sha256(JSON.stringify({ recipe, init: sha256(init), kernelConfig: sha256(kernelConfig), code, needs }));
}

export async function readCurrentBuild(assetRoot: string): Promise<{ dir: string; record: BuildRecord } | undefined> {
  try {
    const dir = join(assetRoot, (await readFile(join(assetRoot, 'current'), 'utf8')).trim());
    return { dir, record: JSON.parse(await readFile(join(dir, 'build.json'), 'utf8')) as BuildRecord };
  } catch {
    return undefined;
  }
}

const libDirs = ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'lib64', 'lib', 'usr/lib'];

/** The shared-library closure of some binaries, found in the unpacked packages. */
async function libraryClosure(root: string, binaries: string[], skip: Set<string>): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const queue = [...binaries];
  while (queue.length) {
    const file = queue.pop()!;
    for (const soname of readNeededLibraries(await readFile(file))) {
      if (found.has(soname) || skip.has(soname)) continue;
      const dir = libDirs.find((d) => existsSync(join(root, d, soname)));
      if (!dir) throw new Error(`library ${soname} (needed by ${basename(file)}) is in none of the downloaded packages`);
      const path = await realpath(join(root, dir, soname));
      found.set(soname, path);
      queue.push(path);
    }
  }
  return found;
}

async function libraryEntries(libs: Map<string, string>): Promise<CpioEntry[]> {
  const entries: CpioEntry[] = [];
  for (const [soname, path] of libs) entries.push({ path: `lib/x86_64-linux-gnu/${soname}`, type: 'file', mode: 0o755, data: await readFile(path) });
  return entries;
}

export async function buildAssets(inputs: BuildInputs): Promise<{ dir: string; record: BuildRecord }> {
  const { assetRoot, progress } = inputs;
  progress('resolving Debian packages');
  const kernelSource = await resolveMetapackage(recipe.kernelSource);
  const named = [kernelSource, ...recipe.packages];
  const packages = await resolvePackages([...named, ...(await libraryDependencies(recipe.packages))]);
  const localHash = await localInputsHash(inputs.pluginDir, inputs.filesystems);
  const hash = sha256(JSON.stringify({ localHash, packages: packages.map((p) => `${p.name}=${p.version}`) })).slice(0, 16);
  const dir = join(assetRoot, hash);
  const current = await readCurrentBuild(assetRoot);
  if (!inputs.force && current?.record.hash === hash && existsSync(join(dir, 'build.json'))) return current;

  progress(`downloading ${packages.length} packages`);
  const debs = await downloadPackages(packages, join(assetRoot, 'debs'));
  const work = `${dir}.tmp-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const root = join(work, 'root');
  const kernel = await buildKernel({
    sourceDeb: debs.get(kernelSource)!, sourceVersion: packages.find((p) => p.name === kernelSource)!.version,
    configFragment: join(inputs.pluginDir, recipe.kernelConfig), cacheRoot: join(assetRoot, 'kernel'), progress, force: inputs.force,
  });
  const kernelRelease = kernel.release;
  await writeFile(join(work, 'vmlinux'), await readFile(kernel.vmlinux));

  progress('unpacking');
  for (const [name, deb] of debs) if (name !== kernelSource) await extractPackage(deb, root);

  progress('choosing kernel modules');
  const modules = await ModuleIndex.load(kernel.moduleRoot);
  type ModuleList = ReturnType<typeof modules.closure>;
  const moduleEntries = async (list: ModuleList): Promise<CpioEntry[]> =>
    Promise.all(list.map(async (m) => ({ path: `lib/modules/${m.name}.ko`, type: 'file' as const, data: await readFile(join(kernel.moduleRoot, m.path)) })));
  // One line per module: "[?]name.ko [parameters]"; "?" marks a module whose failure is harmless.
  const loadList = (list: ModuleList, parameters: Record<string, string> = {}) =>
    list.map((m) => [`${m.optional ? '?' : ''}${m.name}.ko`, parameters[m.name] ?? ''].join(' ').trim()).join('\n') + '\n';

  progress('writing the base archive');
  const baseBinaries = Object.entries(recipe.baseBinaries);
  const baseLibs = await libraryClosure(root, baseBinaries.map(([from]) => join(root, from)), new Set());
  const applets = (await execa(join(root, 'bin/busybox'), ['--list'])).stdout.split('\n').filter((a) => a && a !== 'busybox');
  const loader = await realpath(join(root, 'lib64/ld-linux-x86-64.so.2'));
  const base: CpioEntry[] = [
    ...['dev', 'proc', 'sys', 'mnt', 'tmp', 'etc/qemount/fs'].map((p) => ({ path: p, type: 'dir' as const })),
    { path: 'init', type: 'file', mode: 0o755, data: await readFile(join(inputs.pluginDir, recipe.init)) },
    ...(await Promise.all(baseBinaries.map(async ([from, to]) => ({ path: to, type: 'file' as const, mode: 0o755, data: await readFile(join(root, from)) })))),
    ...applets.filter((a) => !baseBinaries.some(([, to]) => basename(to) === a)).map((a) => ({ path: `bin/${a}`, type: 'symlink' as const, data: 'busybox' })),
    { path: 'lib64/ld-linux-x86-64.so.2', type: 'file', mode: 0o755, data: await readFile(loader) },
    ...(await libraryEntries(baseLibs)),
    // diod resolves the peer's name; keep that local.
    { path: 'etc/hosts', type: 'file', data: '127.0.0.1 localhost\n10.0.2.2 qemu-host\n' },
    { path: 'etc/nsswitch.conf', type: 'file', data: 'hosts: files\npasswd: files\ngroup: files\n' },
    { path: 'etc/passwd', type: 'file', data: 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' },
    { path: 'etc/group', type: 'file', data: 'root:x:0:\nnogroup:x:65534:\n' },
  ];
  await writeFile(join(work, 'base.cpio'), writeCpio(withParentDirs(base)));

  progress('writing the filesystem archives');
  const skipLibs = new Set([...baseLibs.keys(), 'ld-linux-x86-64.so.2']);
  await mkdir(join(work, 'fs'), { recursive: true });
  for (const [id, fs] of Object.entries(inputs.filesystems)) {
    const own = modules.closure(fs.modules ?? []);
    const parameters = Object.fromEntries(Object.entries(fs.moduleParameters ?? {}).map(([m, p]) => [m.replace(/-/g, '_'), p]));
    const entries: CpioEntry[] = [{ path: `etc/qemount/fs/${id}.modules`, type: 'file', data: loadList(own, parameters) }, ...(await moduleEntries(own))];
    if (fs.device) entries.push({ path: `etc/qemount/fs/${id}.device`, type: 'file', data: `${fs.device}\n` });
    if (fs.helper) {
      const programs = Object.entries(recipe.helpers[fs.helper] ?? {});
      if (!programs.length) throw new Error(`filesystem ${id} names helper ${fs.helper}, which the recipe does not provide`);
      const libs = await libraryClosure(root, programs.map(([from]) => join(root, from)), skipLibs);
      for (const [from, to] of programs) entries.push({ path: to, type: 'file', mode: 0o755, data: await readFile(join(root, from)) });
      entries.push(...(await libraryEntries(libs)));
    }
    await writeFile(join(work, 'fs', `${id}.cpio`), writeCpio(withParentDirs(entries)));
  }

  const record: BuildRecord = { hash, localHash, kernelRelease, packages, filesystems: Object.keys(inputs.filesystems), builtAt: new Date().toISOString() };
  await writeFile(join(work, 'build.json'), JSON.stringify(record, null, 2) + '\n');
  await rm(root, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
  await rename(work, dir);
  await writeFile(join(assetRoot, 'current.tmp'), hash + '\n');
  await rename(join(assetRoot, 'current.tmp'), join(assetRoot, 'current'));
  await removeOldBuilds(assetRoot, hash);
  return { dir, record };
}

async function removeOldBuilds(assetRoot: string, keep: string): Promise<void> {
  for (const name of await readdir(assetRoot)) {
    if (/^[0-9a-f]{16}$/.test(name) && name !== keep) await rm(join(assetRoot, name), { recursive: true, force: true });
  }
}

