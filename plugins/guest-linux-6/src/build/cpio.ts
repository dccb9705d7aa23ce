// Writes "newc" cpio archives, the format the Linux kernel unpacks as an initramfs. Archives can
// be concatenated: the kernel unpacks them in order.

export interface CpioEntry {
  /** Path inside the archive, without a leading slash. */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode?: number;
  /** File contents, or the symlink target. */
  data?: Buffer | string;
}

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

function header(fields: number[], name: string): Buffer {
  const hex = fields.map((n) => n.toString(16).padStart(8, '0')).join('');
  return Buffer.from(`070701${hex}${name}\0`, 'latin1');
}

const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);

export function writeCpio(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const add = (name: string, mode: number, body: Buffer) => {
    const nameBytes = Buffer.byteLength(name, 'utf8') + 1;
    // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
    const head = header([ino++, mode, 0, 0, 1, 0, body.length, 0, 0, 0, 0, nameBytes, 0], name);
    parts.push(head, pad4(head.length), body, pad4(body.length));
  };
  for (const entry of entries) {
    const path = entry.path.replace(/^\/+/, '');
    if (entry.type === 'dir') add(path, S_IFDIR | (entry.mode ?? 0o755), Buffer.alloc(0));
    else if (entry.type === 'symlink') add(path, S_IFLNK | 0o777, Buffer.from(String(entry.data)));
    else add(path, S_IFREG | (entry.mode ?? 0o644), Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data ?? ''));
  }
  add('TRAILER!!!', 0, Buffer.alloc(0));
  const archive = Buffer.concat(parts);
  // Pad to 512 bytes like cpio(1) does, so concatenated archives stay aligned.
  return Buffer.concat([archive, Buffer.alloc((512 - (archive.length % 512)) % 512)]);
}

/** Adds every parent directory of the given paths, parents first, once. */
export function withParentDirs(entries: CpioEntry[]): CpioEntry[] {
  const dirs = new Set<string>();
  const out: CpioEntry[] = [];
  for (const entry of entries) {
    const parts = entry.path.replace(/^\/+/, '').split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!dirs.has(dir)) {
        dirs.add(dir);
        out.push({ path: dir, type: 'dir' });
      }
    }
    if (entry.type === 'dir') {
      if (dirs.has(entry.path)) continue;
      dirs.add(entry.path);
    }
    out.push(entry);
  }
  return out;
}
