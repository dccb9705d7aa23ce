// What the linux-6 guest is made of. Everything comes from Debian packages on the host, at the
// versions apt resolves now; a change to any of this (or to guest/init) rebuilds the assets.

export const recipe = {
  /** Bump when the build steps change in a way the inputs below do not show. */
  revision: 1,
  /** The metapackage naming the current bookworm 6.1 kernel package. */
  kernelMetapackage: 'linux-image-amd64',
  /** Userland packages; their library dependencies are fetched too. */
  packages: ['busybox-static', 'diod', 'ntfs-3g'],
  /** Programs of the base archive: path in the package → path in the guest. */
  baseBinaries: { 'bin/busybox': 'bin/busybox', 'usr/sbin/diod': 'bin/diod' } as Record<string, string>,
  /** Userland mount helpers, only in the archive of the filesystems that use them. */
  helpers: { 'ntfs-3g': { 'bin/ntfs-3g': 'bin/ntfs-3g' } } as Record<string, Record<string, string>>,
  /** Modules every boot needs: virtio transport (mmio for microvm, pci for q35), disk, serial ports. */
  baseModules: ['virtio_mmio', 'virtio_pci', 'virtio_blk', 'virtio_console'],
  /** Modules loaded only when 9P is served over TCP (the tcp transport): the virtio NIC. */
  networkModules: ['virtio_net'],
  /** Guest-side kernel command line (the host adds per-boot values such as tsc_early_khz). */
  append: [
    'console=ttyS0', 'quiet', 'panic=-1', 'rdinit=/init',
    // Measured under TCG: skip crypto self-tests (0.27 s), trust the TSC, one UART only.
    'cryptomgr.notests', 'no_timer_check', 'tsc=reliable', '8250.nr_uarts=1',
    // A throw-away single-purpose VM: skip hardening work that costs boot time under TCG
    // (rodata=off also skips the 0.2 s W+X page-table walk). Modules are unsigned (see the build).
    'rodata=off', 'mitigations=off', 'lsm=', 'audit=0', 'nowatchdog',
    'initcall_blacklist=init_kprobe_trace,load_system_certificate_list,crypto_kdf108_init,init_encrypted,init_zswap,blake2s_mod_init',
  ],
  /** Paths relative to the plugin folder. */
  init: 'guest/init',
};

export type Recipe = typeof recipe;
