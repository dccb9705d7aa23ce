// Decides between KVM and TCG. /dev/kvm can exist and still be unable to run a guest (e.g. a
// nested PVM host, where a real-mode boot sector runs but a Linux kernel hangs), so KVM is used
// only after a bounded functional probe: boot a guest's own kernel (no initrd) until it panics
// for want of a root filesystem, which proves it ran through its whole early boot. Without a
// built guest kernel the probe can only run a 512-byte real-mode guest, and says so. The answer
// is cached per host boot and probe kind.
import { execa } from 'execa';
import { access, constants, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { qemuSystemBinary } from './qemuBinary.js';
import type { Qemount } from '../Qemount.js';

export interface KvmVerdict {
  usable: boolean;
  /** kernel: a guest's Linux kernel was booted; real-mode: only a boot sector (weaker). */
  probe: 'kernel' | 'real-mode';
  /** One line: why. */
  reason: string;
  /** What the host looks like (CPU flags, modules), for the report. */
  host: string;
  /** True when the answer came from the per-boot cache. */
  cached: boolean;
  probeMs?: number;
}

const bootSectorMarker = 'QEMOUNT-KVM-OK';
/** What a kernel prints once it has booted and finds no root filesystem. */
const kernelMarker = 'Kernel panic';

/** Real-mode boot sector: print the marker on COM1, then halt. */
function probeBootSector(): Buffer {
  const code = Buffer.from([
    0x31, 0xc0, //       xor ax, ax
    0x8e, 0xd8, //       mov ds, ax
    0xba, 0xf8, 0x03, // mov dx, 0x3f8
    0xbe, 0x00, 0x00, // mov si, msg (patched below)
    0xac, //             next: lodsb
    0x84, 0xc0, //       test al, al
    0x74, 0x03, //       jz done
    0xee, //             out dx, al
    0xeb, 0xf8, //       jmp next
    0xfa, //             done: cli
    0xf4, //             hlt
    0xeb, 0xfd, //       jmp done
  ]);
  const sector = Buffer.alloc(512);
  code.copy(sector);
  sector.writeUInt16LE(0x7c00 + code.length, 8);
  sector.write(`${bootSectorMarker}\r\n\0`, code.length, 'latin1');
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

async function describeHost(): Promise<string> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const virt = /\bvmx\b/.test(cpuinfo) ? 'vmx' : /\bsvm\b/.test(cpuinfo) ? 'svm' : 'no vmx/svm';
  const modules = await readdir('/sys/module').catch(() => [] as string[]);
  const kvmModules = modules.filter((m) => m.startsWith('kvm'));
  return `CPU ${virt}; modules ${kvmModules.length ? kvmModules.join(', ') : 'none'}`;
}

export interface KvmProbeOptions {
  cacheDir: string;
  /** A PVH Linux kernel to boot (from a built guest); without one only real mode is probed. */
  kernel?: string;
  timeoutMs?: number;
  useCache?: boolean;
}

function probeCommand(kernel: string | undefined, image: string): { args: string[]; marker: string } {
  if (kernel) {
    return {
      marker: kernelMarker,
      args: ['-accel', 'kvm', '-machine', 'microvm', '-m', '128', '-nodefaults', '-no-user-config', '-display', 'none',
        '-no-reboot', '-serial', 'stdio', '-kernel', kernel, '-append', 'console=ttyS0 panic=-1 8250.nr_uarts=1'],
    };
  }
  return {
    marker: bootSectorMarker,
    args: ['-accel', 'kvm', '-machine', 'pc', '-m', '16', '-nodefaults', '-no-user-config', '-display', 'none',
      '-serial', 'stdio', '-drive', `file=${image},format=raw,if=ide`],
  };
}

export async function probeKvm(options: KvmProbeOptions): Promise<KvmVerdict> {
  const host = await describeHost();
  const probe = options.kernel ? 'kernel' : 'real-mode';
  const answer = (v: Omit<KvmVerdict, 'host' | 'cached' | 'probe'>, cached = false): KvmVerdict => ({ ...v, probe, host, cached });
  if (!existsSync('/dev/kvm')) return answer({ usable: false, reason: '/dev/kvm does not exist' });
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return answer({ usable: false, reason: '/dev/kvm is not readable and writable by this user' });
  }
  const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => 'unknown')).trim();
  const cacheFile = join(options.cacheDir, `kvm-probe-${probe}.json`);
  if (options.useCache !== false) {
    const cached = (await readFile(cacheFile, 'utf8').then(JSON.parse).catch(() => undefined)) as (KvmVerdict & { bootId: string; kernel?: string }) | undefined;
    // A verdict holds for this host boot and the kernel it was probed with (a rebuilt guest may differ).
    if (cached?.bootId === bootId && cached.kernel === options.kernel) return answer({ usable: cached.usable, reason: cached.reason, probeMs: cached.probeMs }, true);
  }
  const timeoutMs = options.timeoutMs ?? 5000;
  const image = join(tmpdir(), `qemount-kvm-probe-${process.pid}.img`);
  if (!options.kernel) await writeFile(image, probeBootSector());
  const { args, marker } = probeCommand(options.kernel, image);
  const started = Date.now();
  const qemu = execa(qemuSystemBinary(), args, { timeout: timeoutMs, reject: false, stdin: 'ignore', all: true, buffer: false, forceKillAfterDelay: 500 });
  let output = '';
  // Stop as soon as the marker arrives: the guest halts, but qemu would run until the timeout.
  qemu.all?.on('data', (chunk: Buffer) => {
    output += chunk.toString('latin1');
    if (output.includes(marker)) qemu.kill('SIGKILL');
  });
  const run = await qemu;
  const probeMs = Date.now() - started;
  await rm(image, { force: true });
  const what = options.kernel ? 'a KVM guest kernel' : 'a real-mode KVM guest';
  let verdict: Omit<KvmVerdict, 'host' | 'cached' | 'probe'>;
  if (output.includes(marker)) {
    verdict = { usable: true, reason: `${what} booted in ${probeMs} ms`, probeMs };
  } else if (run.timedOut) {
    verdict = { usable: false, reason: `${what} did not boot within ${timeoutMs} ms (it hangs)`, probeMs };
  } else {
    const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
    verdict = { usable: false, reason: `${what} failed: ${lines.at(-1) ?? `qemu exited with ${run.exitCode}`}`, probeMs };
  }
  await mkdir(options.cacheDir, { recursive: true });
  await writeFile(cacheFile, JSON.stringify({ ...verdict, bootId, kernel: options.kernel }) + '\n');
  return answer(verdict);
}

/** The accelerator to launch with, from the config setting, and why. */
export async function chooseAccelerator(setting: 'auto' | 'kvm' | 'tcg', cacheDir: string, kernel?: string): Promise<{ accel: 'kvm' | 'tcg'; reason: string }> {
  if (setting === 'tcg') return { accel: 'tcg', reason: 'the site config asks for TCG' };
  if (setting === 'kvm') return { accel: 'kvm', reason: 'the site config asks for KVM' };
  const kvm = await probeKvm({ cacheDir, kernel });
  return kvm.usable ? { accel: 'kvm', reason: kvm.reason } : { accel: 'tcg', reason: `KVM unusable: ${kvm.reason}; using TCG (software emulation)` };
}

/** A built guest kernel to probe KVM with: from the guests with the highest priority first. */
export async function findProbeKernel(core: Qemount): Promise<string | undefined> {
  const guests = [...core.guests()].sort((a, b) => (b.declaration.priority ?? 0) - (a.declaration.priority ?? 0));
  for (const guest of guests) {
    const driver = await core.guestDriver(guest.id).catch(() => undefined);
    const kernel = await driver?.probeKernel?.().catch(() => undefined);
    if (kernel) return kernel;
  }
  return undefined;
}
