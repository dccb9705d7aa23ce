// What a guest plugin provides to the core (through hooks.guest.for(id)).

export interface GuestAssetStatus {
  /** True when everything needed to boot the guest is on this machine. */
  present: boolean;
  /** Where the assets are (or would be). */
  location: string;
  /** One line for humans: what is there, or what is missing. */
  detail: string;
  /** A command that makes them present, when they are not. */
  fix?: string;
}

export interface GuestBuildOptions {
  force?: boolean;
  /** Called with short messages while building (shown as progress). */
  progress?: (message: string) => void;
  signal?: AbortSignal;
}

/** How qemu boots a guest for one filesystem. */
export interface GuestBootSpec {
  kernel: string;
  initrd?: string;
  /** Kernel command-line words (the core adds per-boot ones). */
  append: string[];
  /** The kernel is an ELF with a PVH entry (boots on microvm without decompression). */
  pvh?: boolean;
  /**
   * false: the kernel has no ACPI. microvm then boots with its lighter firmware (qboot), names
   * its virtio-mmio devices on the kernel command line and describes interrupts in an MP table.
   */
  acpi?: boolean;
}

export interface GuestDriver {
  /** The guest id (as in its manifest). */
  id: string;
  assets(): Promise<GuestAssetStatus>;
  /** Builds or fetches the assets; resolves to their status. Throws a QemountError if it cannot. */
  build(options?: GuestBuildOptions): Promise<GuestAssetStatus>;
  /** Kernel and initrd to boot for mounting `fs` (a catalogue id); builds assets if needed (with progress). */
  bootSpec?(fs: string, options?: Pick<GuestBuildOptions, 'progress'>): Promise<GuestBootSpec>;
  /** A built Linux kernel (PVH ELF) the KVM probe may boot to see whether KVM runs real guests. */
  probeKernel?(): Promise<string | undefined>;
}
