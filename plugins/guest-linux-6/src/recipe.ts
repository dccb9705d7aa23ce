// What the linux-6 guest is made of. Everything comes from Debian packages on the host, at the
// versions apt resolves now; a change to any of this (or to guest/init, or to the kernel
// config) rebuilds the assets.

export const recipe = {
  /** Bump when the build steps change in a way the inputs below do not show. */
  revision: 1,
  /** The metapackage naming the current bookworm kernel source package (linux-source-6.1). */
  kernelSource: 'linux-source',
  /** The kernel's options, on top of allnoconfig (virtio built in, filesystems as modules). */
  kernelConfig: 'kernel/qemount.config',
  /** Userland packages; their library dependencies are fetched too. */
  packages: ['busybox-static', 'diod', 'ntfs-3g', 'e2fsprogs'],
  /**
   * Programs of the base archive: path in the package → path in the guest. filefrag (e2fsprogs,
   * needs only libc) reports a file's extents for the EXTENTS command (extent reads).
   */
  baseBinaries: { 'bin/busybox': 'bin/busybox', 'usr/sbin/diod': 'bin/diod', 'usr/sbin/filefrag': 'bin/filefrag' } as Record<string, string>,
  /** Userland mount helpers, only in the archive of the filesystems that use them. */
  helpers: { 'ntfs-3g': { 'bin/ntfs-3g': 'bin/ntfs-3g' } } as Record<string, Record<string, string>>,
  /** Guest-side kernel command line (the host adds per-boot values such as tsc_early_khz). */
  append: [
    'console=ttyS0', 'quiet', 'panic=-1', 'rdinit=/init',
    // Measured under TCG: trust the TSC, one UART only, no read-only remapping of the kernel's
    // text (a page-table walk that costs 0.2 s under TCG; a throw-away single-purpose VM).
    'no_timer_check', 'tsc=reliable', '8250.nr_uarts=1', 'rodata=off', 'nowatchdog',
    // No ACPI to power off with: the guest resets by triple fault, and qemu's -no-reboot exits.
    'reboot=t',
  ],
  /** Relative to the plugin folder. */
  init: 'guest/init',
};

export type Recipe = typeof recipe;
