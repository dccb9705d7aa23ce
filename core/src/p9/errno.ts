// Linux errno numbers, names and messages: 9P2000.L's Rlerror carries a Linux errno, and
// 9P2000.u's Rerror carries one too (or only a message, which is mapped back here).

/** [errno, name, strerror message] — Linux x86/generic numbering, as 9P2000.L defines it. */
const TABLE: ReadonlyArray<readonly [number, string, string]> = [
  [1, 'EPERM', 'operation not permitted'],
  [2, 'ENOENT', 'no such file or directory'],
  [3, 'ESRCH', 'no such process'],
  [4, 'EINTR', 'interrupted system call'],
  [5, 'EIO', 'input/output error'],
  [6, 'ENXIO', 'no such device or address'],
  [7, 'E2BIG', 'argument list too long'],
  [8, 'ENOEXEC', 'exec format error'],
  [9, 'EBADF', 'bad file descriptor'],
  [10, 'ECHILD', 'no child processes'],
  [11, 'EAGAIN', 'resource temporarily unavailable'],
  [12, 'ENOMEM', 'cannot allocate memory'],
  [13, 'EACCES', 'permission denied'],
  [14, 'EFAULT', 'bad address'],
  [15, 'ENOTBLK', 'block device required'],
  [16, 'EBUSY', 'device or resource busy'],
  [17, 'EEXIST', 'file exists'],
  [18, 'EXDEV', 'invalid cross-device link'],
  [19, 'ENODEV', 'no such device'],
  [20, 'ENOTDIR', 'not a directory'],
  [21, 'EISDIR', 'is a directory'],
  [22, 'EINVAL', 'invalid argument'],
  [23, 'ENFILE', 'too many open files in system'],
  [24, 'EMFILE', 'too many open files'],
  [25, 'ENOTTY', 'inappropriate ioctl for device'],
  [26, 'ETXTBSY', 'text file busy'],
  [27, 'EFBIG', 'file too large'],
  [28, 'ENOSPC', 'no space left on device'],
  [29, 'ESPIPE', 'illegal seek'],
  [30, 'EROFS', 'read-only file system'],
  [31, 'EMLINK', 'too many links'],
  [32, 'EPIPE', 'broken pipe'],
  [33, 'EDOM', 'numerical argument out of domain'],
  [34, 'ERANGE', 'numerical result out of range'],
  [35, 'EDEADLK', 'resource deadlock avoided'],
  [36, 'ENAMETOOLONG', 'file name too long'],
  [37, 'ENOLCK', 'no locks available'],
  [38, 'ENOSYS', 'function not implemented'],
  [39, 'ENOTEMPTY', 'directory not empty'],
  [40, 'ELOOP', 'too many levels of symbolic links'],
  [42, 'ENOMSG', 'no message of desired type'],
  [43, 'EIDRM', 'identifier removed'],
  [61, 'ENODATA', 'no data available'],
  [62, 'ETIME', 'timer expired'],
  [71, 'EPROTO', 'protocol error'],
  [74, 'EBADMSG', 'bad message'],
  [75, 'EOVERFLOW', 'value too large for defined data type'],
  [84, 'EILSEQ', 'invalid or incomplete multibyte or wide character'],
  [88, 'ENOTSOCK', 'socket operation on non-socket'],
  [90, 'EMSGSIZE', 'message too long'],
  [93, 'EPROTONOSUPPORT', 'protocol not supported'],
  [95, 'EOPNOTSUPP', 'operation not supported'],
  [98, 'EADDRINUSE', 'address already in use'],
  [103, 'ECONNABORTED', 'software caused connection abort'],
  [104, 'ECONNRESET', 'connection reset by peer'],
  [105, 'ENOBUFS', 'no buffer space available'],
  [107, 'ENOTCONN', 'transport endpoint is not connected'],
  [110, 'ETIMEDOUT', 'connection timed out'],
  [111, 'ECONNREFUSED', 'connection refused'],
  [113, 'EHOSTUNREACH', 'no route to host'],
  [116, 'ESTALE', 'stale file handle'],
  [121, 'EREMOTEIO', 'remote I/O error'],
  [122, 'EDQUOT', 'disk quota exceeded'],
  [125, 'ECANCELED', 'operation canceled'],
];

const byNumber = new Map(TABLE.map(([n, name, message]) => [n, { name, message }]));
const byName = new Map(TABLE.map(([n, name]) => [name, n]));
const byMessage = new Map(TABLE.map(([n, , message]) => [message, n]));

// Plan 9 and 9P2000.u servers' own wording for the common cases (lib9p, u9fs, go9p, Inferno).
const PLAN9_MESSAGES: Record<string, string> = {
  'file does not exist': 'ENOENT', 'file not found': 'ENOENT', 'no such file': 'ENOENT',
  'permission denied': 'EACCES', 'file already exists': 'EEXIST', 'file exists': 'EEXIST',
  'not a directory': 'ENOTDIR', 'is a directory': 'EISDIR', 'directory not empty': 'ENOTEMPTY',
  'read-only file system': 'EROFS', 'file system read only': 'EROFS', 'file is read only': 'EROFS',
  'fid unknown or out of range': 'EBADF', 'unknown fid': 'EBADF', 'fid already in use': 'EBADF',
  'bad offset in directory read': 'EINVAL', 'operation not supported': 'EOPNOTSUPP', 'function not implemented': 'ENOSYS',
  'interrupted': 'EINTR', 'i/o error': 'EIO',
};

/** Name of an errno (ENOENT for 2); unknown numbers read as E<n>. */
export function errnoName(errno: number): string {
  return byNumber.get(errno)?.name ?? `E${errno}`;
}

/** Number of an errno name (2 for ENOENT), or undefined. */
export function errnoNumber(name: string): number | undefined {
  return byName.get(name);
}

/** strerror-like text. */
export function errnoMessage(errno: number): string {
  return byNumber.get(errno)?.message ?? `error ${errno}`;
}

/** Best errno for a 9P2000.u error string when the server gave no number. */
export function errnoFromMessage(text: string): number {
  const key = text.trim().toLowerCase();
  const direct = byMessage.get(key) ?? byName.get(PLAN9_MESSAGES[key] ?? '');
  if (direct) return direct;
  // Messages with a prefix or suffix ("walk: file does not exist", "'x' file does not exist").
  for (const [message, name] of Object.entries(PLAN9_MESSAGES)) if (key.includes(message)) return byName.get(name)!;
  for (const [message, n] of byMessage) if (key.includes(message)) return n;
  return 5; // EIO
}

export const EIO = 5;
export const EINTR = 4;
