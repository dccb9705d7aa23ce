import { execa } from 'execa';

/** The qemu system emulator for the host's architecture (override: QEMOUNT_QEMU). */
export function qemuSystemBinary(): string {
  return process.env.QEMOUNT_QEMU || 'qemu-system-x86_64';
}

let machines: Promise<string> | undefined;

/** microvm boots fastest; older qemu builds lack it, and q35 boots the same kernel. */
export async function bestMachine(): Promise<'microvm' | 'q35'> {
  machines ??= execa(qemuSystemBinary(), ['-machine', 'help'], { reject: false, timeout: 10_000 }).then((r) => String(r.stdout));
  return (await machines).includes('microvm') ? 'microvm' : 'q35';
}
