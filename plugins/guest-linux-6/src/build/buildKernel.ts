// Builds the guest kernel from Debian's linux-source package: `allnoconfig` plus the options in
// kernel/qemount.config, then vmlinux and the filesystem modules. A kernel of only what a mount
// needs boots in a fraction of the time of Debian's general-purpose one under TCG and needs far
// less memory. It is cached apart from the rest of the guest: it takes minutes, the rest seconds.
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRunning } from './buildLock.js';
import { extractPackage } from './debianPackages.js';

export interface KernelBuildInputs {
  /** The linux-source .deb and its version. */
  sourceDeb: string;
  sourceVersion: string;
  /** kernel/qemount.config */
  configFragment: string;
  /** <assetRoot>/kernel */
  cacheRoot: string;
  progress: (message: string) => void;
  force?: boolean;
}

/** kernel.json of a build. */
interface KernelRecord {
  key: string;
  /** `uname -r` of the built kernel. */
  release: string;
  sourceVersion: string;
}

export interface KernelBuild extends KernelRecord {
  /** The uncompressed ELF kernel (PVH entry), symbols stripped. */
  vmlinux: string;
  /** lib/modules/<release> of the build. */
  moduleRoot: string;
  /** The kernel's final .config. */
  config: string;
}

const kernelFiles = (dir: string, record: KernelRecord): KernelBuild => ({
  ...record, vmlinux: join(dir, 'vmlinux'), moduleRoot: join(dir, 'lib', 'modules', record.release), config: join(dir, 'config'),
});

/** Host programs the kernel build runs, and the Debian package of each. */
const buildTools: [command: string, pkg: string][] = [
  ['make', 'make'], ['gcc', 'gcc'], ['ld', 'binutils'], ['bc', 'bc'], ['bison', 'bison'], ['flex', 'flex'], ['xz', 'xz-utils'], ['objcopy', 'binutils'],
];
const installTools = 'apt-get install build-essential bc bison flex libelf-dev xz-utils';

async function checkBuildTools(): Promise<void> {
  const missing = new Set<string>();
  for (const [command, pkg] of buildTools) {
    if ((await execa('sh', ['-c', `command -v ${command}`], { reject: false })).exitCode !== 0) missing.add(pkg);
  }
  // objtool (x86-64's stack checker, always built) needs libelf's headers.
  if (!existsSync('/usr/include/gelf.h')) missing.add('libelf-dev');
  if (missing.size) throw new Error(`building the guest kernel needs ${[...missing].join(', ')}: run \`${installTools}\``);
}

/** `CONFIG_X=v` and `# CONFIG_X is not set` lines of a config file. */
export function configLines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => /^CONFIG_[A-Z0-9_]+=|^# CONFIG_[A-Z0-9_]+ is not set$/.test(l));
}

/** Lines of the fragment that the kernel's dependency resolution dropped or changed. */
export function unmetOptions(fragment: string, config: string): string[] {
  const have = new Set(configLines(config));
  return configLines(fragment).filter((line) => {
    // "is not set" holds when the config sets the option to nothing at all, too.
    if (line.startsWith('# ')) return [...have].some((l) => l.startsWith(`${line.slice(2, line.indexOf(' is not set'))}=`));
    return !have.has(line);
  });
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Bump when the steps below change what is built (a rebuild takes minutes, so not on every edit). */
const kernelBuildRevision = 1;

async function kernelKey(inputs: KernelBuildInputs): Promise<string> {
  const fragment = await readFile(inputs.configFragment);
  return sha256(JSON.stringify({ source: inputs.sourceVersion, fragment: sha256(fragment), revision: kernelBuildRevision })).slice(0, 16);
}

/** Runs make, reporting how many files it has built so far (a kernel build takes minutes). */
async function make(src: string, args: string[], progress: (message: string) => void, label: string): Promise<void> {
  const run = execa('make', ['-C', src, 'ARCH=x86_64', `-j${Math.max(1, cpus().length)}`, ...args], { all: true, reject: false, buffer: { all: false } });
  let built = 0;
  let tail: string[] = [];
  run.all!.setEncoding('utf8');
  let pending = '';
  run.all!.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (/^\s+(CC|AS|LD|AR)\b/.test(line) && ++built % 50 === 0) progress(`${label}: ${built} files`);
      tail = [...tail.slice(-19), line];
    }
  });
  const result = await run;
  if (result.exitCode !== 0) throw new Error(`make ${args.join(' ')} failed (exit ${result.exitCode}):\n${[...tail, pending].join('\n').trim()}`);
}

export async function readKernelBuild(dir: string): Promise<KernelBuild | undefined> {
  try {
    return kernelFiles(dir, JSON.parse(await readFile(join(dir, 'kernel.json'), 'utf8')) as KernelRecord);
  } catch {
    return undefined;
  }
}

/** Older kernels, and the work folders of builds that were killed (a kernel tree is over 1 GB). */
async function removeOtherBuilds(cacheRoot: string, keep: string): Promise<void> {
  for (const name of await readdir(cacheRoot)) {
    const match = /^[0-9a-f]{16}(?:\.tmp-(\d+))?$/.exec(name);
    if (!match || name === keep || (match[1] && isRunning(Number(match[1])))) continue;
    await rm(join(cacheRoot, name), { recursive: true, force: true });
  }
}

export async function buildKernel(inputs: KernelBuildInputs): Promise<KernelBuild> {
  const key = await kernelKey(inputs);
  const dir = join(inputs.cacheRoot, key);
  const cached = await readKernelBuild(dir);
  if (cached && !inputs.force) return cached;

  await checkBuildTools();
  const work = `${dir}.tmp-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  try {
    return await compile(inputs, key, dir, work);
  } finally {
    await rm(work, { recursive: true, force: true }); // over 1 GB, whether the build worked or not
  }
}

async function compile(inputs: KernelBuildInputs, key: string, dir: string, work: string): Promise<KernelBuild> {
  const { progress } = inputs;
  progress('unpacking the kernel source');
  await extractPackage(inputs.sourceDeb, join(work, 'deb'));
  const tarball = (await readdir(join(work, 'deb/usr/src'))).find((f) => /^linux-source-.*\.tar\.xz$/.test(f));
  if (!tarball) throw new Error(`${inputs.sourceDeb} holds no linux-source tarball`);
  const src = join(work, 'src');
  await mkdir(src, { recursive: true });
  await execa('tar', ['-xJf', join(work, 'deb/usr/src', tarball), '-C', src, '--strip-components=1']);
  await rm(join(work, 'deb'), { recursive: true, force: true });

  progress('configuring the kernel');
  await make(src, [`KCONFIG_ALLCONFIG=${inputs.configFragment}`, 'allnoconfig'], progress, 'configuring');
  const config = await readFile(join(src, '.config'), 'utf8');
  const unmet = unmetOptions(await readFile(inputs.configFragment, 'utf8'), config);
  if (unmet.length) throw new Error(`the kernel's dependencies rule out these options of ${inputs.configFragment}: ${unmet.join('; ')}`);

  await make(src, ['vmlinux', 'modules'], progress, 'compiling the kernel');
  const out = join(work, 'out');
  await make(src, [`INSTALL_MOD_PATH=${out}`, 'INSTALL_MOD_STRIP=1', 'modules_install'], progress, 'installing modules');
  const release = (await execa('make', ['-s', '-C', src, 'ARCH=x86_64', 'kernelrelease'])).stdout.trim();
  // Symbols are of no use to qemu and would be memory it maps; the PVH note is kept.
  await execa('objcopy', ['--strip-all', join(src, 'vmlinux'), join(out, 'vmlinux')]);
  await writeFile(join(out, 'config'), config);
  await rm(src, { recursive: true, force: true });

  const record: KernelRecord = { key, release, sourceVersion: inputs.sourceVersion };
  await writeFile(join(out, 'kernel.json'), JSON.stringify(record, null, 2) + '\n');
  await rm(dir, { recursive: true, force: true });
  await rename(out, dir);
  await removeOtherBuilds(inputs.cacheRoot, key);
  return kernelFiles(dir, record);
}
