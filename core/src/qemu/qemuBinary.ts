/** The qemu system emulator for the host's architecture (override: QEMOUNT_QEMU). */
export function qemuSystemBinary(): string {
  return process.env.QEMOUNT_QEMU || 'qemu-system-x86_64';
}
