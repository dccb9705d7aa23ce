// The answer of detection: what is inside an image, as a tree.

/** One filesystem (or filesystem-like thing: swap, LUKS) found at some offset of the virtual disk. */
export interface DetectedFilesystem {
  /** Catalogue fs id (ext4, fat32, iso9660, ...). */
  type: string;
  /** Byte offset of the filesystem from the start of the virtual disk. */
  offset: number;
  /** Size in bytes as the filesystem records it, if it does. */
  size?: number;
  label?: string;
  uuid?: string;
  /** Version or variant, e.g. "1.0" for LUKS, "v3" for Minix, "big-endian" for UFS. */
  version?: string;
  /** Format-specific facts worth showing (features, compressor, Joliet/Rock Ridge, ...). */
  details?: Record<string, string | number | boolean>;
}

/** One partition of a partition table. */
export interface DetectedPartition {
  /** The number a user types as PART (1-based, as `qemount detect` shows it). */
  index: number;
  /** Byte offset from the start of the virtual disk. */
  start: number;
  /** Bytes. */
  size: number;
  /** The table's own type code or GUID, as text (e.g. "0x83", "0FC63DAF-8483-4772-8E79-3D69D8477DE4"). */
  typeCode?: string;
  /** Human name of that type ("Linux filesystem", "EFI System"). */
  typeName?: string;
  /** The partition's own name or label, where the table stores one (GPT, APM, RDB). */
  name?: string;
  flags?: string[];
  /** A table nested inside this partition (a BSD disklabel in an MBR slice, MBR logical partitions). */
  table?: DetectedTable;
  filesystems: DetectedFilesystem[];
}

export interface DetectedTable {
  /** Catalogue pt id (mbr, gpt, bsd, ...). */
  type: string;
  /** Byte offset of the table from the start of the virtual disk. */
  offset: number;
  /** Disk identifier (GPT disk GUID, MBR signature). */
  id?: string;
  partitions: DetectedPartition[];
  /** Things worth a user's attention (backup GPT header used, hybrid MBR, ...). */
  notes?: string[];
}

export interface DetectedContainer {
  /** Catalogue container id (raw, qcow2, vmdk, vdi, vhd, vhdx). */
  format: string;
  /** The name qemu's block layer uses for this format (what `-blockdev driver=` takes). */
  qemuDriver: string;
  /** Size of the virtual disk in bytes. */
  virtualSize: number;
  /** Size of the image file in bytes. */
  fileSize: number;
  /** Backing file, for formats that have one. */
  backingFile?: string;
  details?: Record<string, string | number | boolean>;
}

export interface DetectedDisk {
  /** Absolute path of the image file. */
  image: string;
  container: DetectedContainer;
  /** The partition table(s) of the whole disk; the first is the one partitions come from. */
  tables: DetectedTable[];
  /** Filesystems on the whole disk (no table, or alongside one, e.g. an ISO9660 with an MBR). */
  filesystems: DetectedFilesystem[];
}
