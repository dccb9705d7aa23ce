// Decides between KVM and TCG. /dev/kvm can exist and still be unable to run a guest (e.g. a
// nested PVM host, where a stock kernel hangs), so KVM is used only after a bounded functional
// probe boots a 512-byte guest that prints a marker. The answer is cached per host boot.
import { execa } from 'execa';
import { access, constants, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { qemuSystemBinary } from './qemuBinary.js';

export interface KvmVerdict {
  usable: boolean;
  /** One line: why. */
  reason: string;
  /** What the host looks like (CPU flags, modules), for the report. */
  host: string;
  /** True when the answer came from the per-boot cache. */
  cached: boolean;
  probeMs?: number;
}

const marker = 'QEMOUNT-KVM-OK';

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
  sector.write(`${marker}\r\n\0`, code.length, 'latin1');
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

export async function probeKvm(options: { cacheDir: string; timeoutMs?: number; useCache?: boolean }): Promise<KvmVerdict> {
  const host = await describeHost();
  if (!existsSync('/dev/kvm')) return { usable: false, reason: '/dev/kvm does not exist', host, cached: false };
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { usable: false, reason: '/dev/kvm is not readable and writable by this user', host, cached: false };
  }
  const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => 'unknown')).trim();
  const cacheFile = join(options.cacheDir, 'kvm-probe.json');
  if (options.useCache !== false) {
    const cached = await readFile(cacheFile, 'utf8').then(JSON.parse).catch(() => undefined) as (KvmVerdict & { bootId: string }) | undefined;
    if (cached?.bootId === bootId) return { usable: cached.usable, reason: cached.reason, host, cached: true, probeMs: cached.probeMs };
  }
  const timeoutMs = options.timeoutMs ?? 4000;
  const image = join(tmpdir(), `qemount-kvm-probe-${process.pid}.img`);
  await writeFile(image, probeBootSector());
  const started = Date.now();
  const qemu = execa(qemuSystemBinary(), [
    '-accel', 'kvm', '-machine', 'pc', '-m', '16', '-nodefaults', '-no-user-config', '-display', 'none',
    '-serial', 'stdio', '-drive', `file=${image},format=raw,if=ide`,
  ], { timeout: timeoutMs, reject: false, stdin: 'ignore', all: true, buffer: true, forceKillAfterDelay: 500 });
  let output = '';
  // Stop as soon as the marker arrives: the guest halts but qemu would run until the timeout.
  qemu.all?.on('data', (chunk: Buffer) => {
    output += chunk.toString('latin1');
    if (output.includes(marker)) qemu.kill('SIGKILL');
  });
  const run = await qemu;
  const probeMs = Date.now() - started;
  await rm(image, { force: true });
  let verdict: Omit<KvmVerdict, 'host' | 'cached'>;
  if (output.includes(marker)) {
    verdict = { usable: true, reason: `a KVM guest booted and answered in ${probeMs} ms`, probeMs };
  } else if (run.timedOut) {
    verdict = { usable: false, reason: `a KVM guest did not answer within ${timeoutMs} ms (it hangs)`, probeMs };
  } else {
    const why = output.split('\n').map((l) => l.trim()).filter(Boolean).slice(-1)[0] ?? `qemu exited with ${run.exitCode}`;
    verdict = { usable: false, reason: `a KVM guest failed: ${why}`, probeMs };
  }
  await mkdir(options.cacheDir, { recursive: true });
  await writeFile(cacheFile, JSON.stringify({ ...verdict, bootId }) + '\n');
  return { ...verdict, host, cached: false };
}

/** The accelerator to launch with, from the config setting, and why. */
export async function chooseAccelerator(setting: 'auto' | 'kvm' | 'tcg', cacheDir: string): Promise<{ accel: 'kvm' | 'tcg'; reason: string }> {
  if (setting === 'tcg') return { accel: 'tcg', reason: 'the site config asks for TCG' };
  if (setting === 'kvm') return { accel: 'kvm', reason: 'the site config asks for KVM' };
  const kvm = await probeKvm({ cacheDir });
  return kvm.usable ? { accel: 'kvm', reason: kvm.reason } : { accel: 'tcg', reason: `KVM unusable: ${kvm.reason}; using TCG (software emulation)` };
}
