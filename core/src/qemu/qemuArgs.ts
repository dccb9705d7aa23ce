// The qemu command line for one guest boot: a minimal machine, the guest's kernel, the chosen
// partition as its own virtio disk, two virtio-serial ports (control, 9P) and a console log.
import { readFileSync } from 'node:fs';
import type { GuestBootSpec } from '../guests/GuestDriver.js';

export interface DiskAttachment {
  image: string;
  /** qemu's block driver for the image file's container (raw, qcow2, vmdk, vpc, ...). */
  format: string;
  /** Byte range of the virtual disk the guest sees as /dev/vda. */
  offset: number;
  size: number;
  readOnly: boolean;
  /** Writes go to a throw-away overlay. */
  snapshot: boolean;
}

export interface QemuLaunchSpec {
  machine: 'microvm' | 'q35';
  accel: 'kvm' | 'tcg';
  memoryMiB: number;
  boot: GuestBootSpec;
  disk: DiskAttachment;
  controlSocket: string;
  ninepSocket: string;
  consoleLog: string;
  /** Extra kernel command-line words (from plugins, e.g. a transport). */
  append?: string[];
}

/** Names of the virtio-serial ports, as the guest's init looks them up. */
export const controlPortName = 'org.qemount.control';
export const ninepPortName = 'org.qemount.9p';

/** qemu's -drive/-chardev option syntax: a comma inside a value is written twice. */
const opt = (value: string | number) => String(value).replace(/,/g, ',,');

/** The host CPU's clock in kHz: microvm under TCG hangs calibrating the TSC without it. */
function hostKhz(): number | undefined {
  const mhz = /cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  return mhz ? Math.round(Number(mhz) * 1000) : undefined;
}

export function qemuArgs(spec: QemuLaunchSpec): string[] {
  const microvm = spec.machine === 'microvm';
  const dev = (name: string) => (microvm ? `${name}-device` : `${name}-pci`);
  const { disk } = spec;
  const append = [...spec.boot.append, ...(spec.append ?? [])];
  // microvm has no PCI: saying so spares the kernel a probe.
  if (microvm) append.push('pci=off');
  if (microvm && spec.accel === 'tcg') {
    const khz = hostKhz();
    if (khz) append.push(`tsc_early_khz=${khz}`);
  }
  // raw(offset, size) over the container's own driver over the file: the guest sees just the
  // partition, and qemu never guesses a format.
  const drive = [
    'if=none', 'id=disk0', 'driver=raw', `offset=${disk.offset}`, `size=${disk.size}`,
    `file.driver=${opt(disk.format)}`, 'file.file.driver=file', `file.file.filename=${opt(disk.image)}`,
    disk.snapshot ? 'snapshot=on' : `readonly=${disk.readOnly ? 'on' : 'off'}`,
    'cache=writeback', 'discard=ignore',
  ].join(',');
  return [
    '-machine', microvm ? `microvm${spec.boot.acpi === false ? ',acpi=off' : ''}` : 'q35',
    '-accel', spec.accel === 'tcg' ? 'tcg,tb-size=16' : 'kvm',
    '-m', String(spec.memoryMiB),
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-kernel', spec.boot.kernel,
    ...(spec.boot.initrd ? ['-initrd', spec.boot.initrd] : []),
    '-append', append.join(' '),
    '-drive', drive,
    '-device', `${dev('virtio-blk')},drive=disk0`,
    '-device', dev('virtio-serial'),
    '-chardev', `socket,id=control,path=${opt(spec.controlSocket)},server=on,wait=off`,
    '-device', `virtserialport,chardev=control,name=${controlPortName}`,
    '-chardev', `socket,id=ninep,path=${opt(spec.ninepSocket)},server=on,wait=off`,
    '-device', `virtserialport,chardev=ninep,name=${ninepPortName}`,
    '-chardev', `file,id=console,path=${opt(spec.consoleLog)}`,
    '-serial', 'chardev:console',
  ];
}
