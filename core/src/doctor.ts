// `qemount doctor`: what this host has and lacks, each line ok / warn / fail with the fix.
import { execa } from 'execa';
import { access, constants, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { Qemount } from './Qemount.js';
import { findProbeKernel, probeKvm } from './qemu/accelerator.js';
import { qemuSystemBinary } from './qemu/qemuBinary.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

async function which(binary: string): Promise<string | undefined> {
  const run = await execa('sh', ['-c', `command -v ${binary}`], { reject: false });
  return run.exitCode === 0 ? String(run.stdout).trim() : undefined;
}

async function checkQemu(): Promise<DoctorCheck[]> {
  const binary = qemuSystemBinary();
  const run = await execa(binary, ['--version'], { reject: false, timeout: 10_000 });
  if (run.exitCode !== 0) {
    return [{ name: 'qemu', status: 'fail', detail: `${binary} is not installed or does not run`, fix: 'sudo apt-get install qemu-system-x86' }];
  }
  const version = /version (\S+)/.exec(String(run.stdout))?.[1] ?? 'unknown version';
  const checks: DoctorCheck[] = [{ name: 'qemu', status: 'ok', detail: `${await which(binary)} ${version}` }];
  const machines = await execa(binary, ['-machine', 'help'], { reject: false, timeout: 10_000 });
  checks.push(
    String(machines.stdout).includes('microvm')
      ? { name: 'qemu microvm', status: 'ok', detail: 'microvm machine available (fastest boot)' }
      : { name: 'qemu microvm', status: 'warn', detail: 'no microvm machine: guests boot on q35, about 1 s slower', fix: 'install qemu 4.2 or newer' },
  );
  return checks;
}

async function checkAccelerator(core: Qemount): Promise<DoctorCheck> {
  const setting = core.config.accelerator;
  if (setting === 'tcg') return { name: 'accelerator', status: 'ok', detail: 'TCG (the site config asks for it)' };
  const kvm = await probeKvm({ cacheDir: core.config.cacheDir, kernel: await findProbeKernel(core) });
  const from = (kvm.cached ? ' (probed earlier this boot)' : '') + (kvm.probe === 'real-mode' ? ' [real-mode probe only: a kernel probe runs once a guest is built]' : '');
  if (kvm.usable) return { name: 'accelerator', status: 'ok', detail: `KVM: ${kvm.reason}${from}; ${kvm.host}` };
  if (setting === 'kvm') {
    return { name: 'accelerator', status: 'fail', detail: `the site config asks for KVM, but ${kvm.reason}${from}; ${kvm.host}`, fix: 'set "accelerator": "auto" or "tcg" in the site config' };
  }
  return {
    name: 'accelerator',
    status: 'warn',
    detail: `TCG (software emulation): KVM unusable, ${kvm.reason}${from}; ${kvm.host}`,
    fix: existsSync('/dev/kvm') ? 'guests still work under TCG, about 5x slower; on a host with working VT-x/AMD-V, load kvm_intel or kvm_amd' : 'load kvm_intel or kvm_amd (modprobe) on a host with VT-x/AMD-V, or accept TCG',
  };
}

async function checkFuse(): Promise<DoctorCheck> {
  if (!existsSync('/dev/fuse')) {
    return { name: 'fuse', status: 'fail', detail: '/dev/fuse is missing: `qemount mount` cannot work (ls/cat/cp still do)', fix: 'sudo modprobe fuse   (in a container: run it with --device /dev/fuse)' };
  }
  try {
    await access('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch {
    return { name: 'fuse', status: 'fail', detail: '/dev/fuse is not readable and writable by this user', fix: 'add yourself to the group owning /dev/fuse, or run as root' };
  }
  const fusermount = (await which('fusermount3')) ?? (await which('fusermount'));
  if (!fusermount && process.getuid?.() !== 0) {
    return { name: 'fuse', status: 'warn', detail: '/dev/fuse works but fusermount is missing: only root can mount', fix: 'sudo apt-get install fuse3' };
  }
  return { name: 'fuse', status: 'ok', detail: `/dev/fuse usable${fusermount ? `, ${fusermount}` : ' (as root)'}` };
}

async function checkGuests(core: Qemount): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const byPriority = [...core.guests()].sort((a, b) => (b.declaration.priority ?? 0) - (a.declaration.priority ?? 0));
  for (const guest of byPriority) {
    const name = `guest ${guest.id}`;
    try {
      const status = await (await core.guestDriver(guest.id)).assets();
      checks.push({ name, status: status.present ? 'ok' : 'warn', detail: status.detail, fix: status.present ? undefined : status.fix });
    } catch (error) {
      checks.push({ name, status: 'fail', detail: (error as Error).message, fix: 'reinstall the plugin, or remove it from the site config' });
    }
  }
  if (!checks.some((c) => c.status === 'ok')) {
    const fix = checks.find((c) => c.fix)?.fix;
    checks.push({ name: 'guests', status: 'fail', detail: 'no guest has its assets: nothing can be mounted yet', fix });
  }
  return checks;
}

async function checkFolder(name: string, dir: string): Promise<DoctorCheck> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    return { name, status: 'ok', detail: dir };
  } catch (error) {
    return { name, status: 'fail', detail: `${dir} is not writable: ${(error as Error).message}`, fix: `set ${name === 'cache folder' ? 'cacheDir' : 'stateDir'} in the site config to a writable folder` };
  }
}

export async function doctor(core: Qemount): Promise<DoctorCheck[]> {
  const config: DoctorCheck = { name: 'site config', status: 'ok', detail: core.config.file ?? 'none found (defaults)' };
  const [qemu, accel, fuse, guests, cache, state] = await Promise.all([
    checkQemu(),
    checkAccelerator(core),
    checkFuse(),
    checkGuests(core),
    checkFolder('cache folder', core.config.cacheDir),
    checkFolder('state folder', core.config.stateDir),
  ]);
  return [config, ...qemu, accel, fuse, ...guests, cache, state];
}
