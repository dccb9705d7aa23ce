// One 9P connection over any Duplex byte stream: version negotiation, attach, tags (many requests
// in flight), fids, msize, Tflush on cancel, error replies mapped to P9Error. A dead stream fails
// every pending and later request with EIO at once, so no caller can hang on a dead guest.
import type { Duplex } from 'node:stream';
import {
  HEADER_SIZE, IO_HEADER_SIZE, MESSAGES, NOFID, NOTAG, QT, RERROR, RLERROR, decode, encode, replyName,
  type MessageName, type RReply, type TArgs,
} from './messages.js';
import { WireReader, NOUID, type Qid } from './wire.js';
import { EINTR, EIO, errnoFromMessage, errnoNumber } from './errno.js';
import { P9Error } from './P9Error.js';

export type P9Version = '9P2000.L' | '9P2000.u';

export interface P9ConnectOptions {
  /** Protocol to ask for; default: 9P2000.L, falling back to 9P2000.u when the server refuses it. */
  version?: P9Version;
  /** Largest message to ask for (the server may lower it); default 1 MiB + header. */
  msize?: number;
  /** Attach name: the export to mount (diod: the exported path). */
  aname?: string;
  uname?: string;
  /** Numeric uid to attach as (9P2000.L/.u); default 0. */
  n_uname?: number;
  /** Abandon negotiation (the stream is destroyed). */
  signal?: AbortSignal;
  /** Give up negotiating after this long (ms); default 10 s. */
  timeoutMs?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Put into errors, for messages. */
  path?: string;
  /**
   * Called once when the caller gave up (signal) but the request may have had an effect: with the
   * late reply if the server answered anyway, or with undefined once the flush (or the stream) ended
   * it. Lets fid-creating calls clunk what the server created.
   */
  onAbandon?: (reply: unknown) => void;
}

interface Pending {
  name: MessageName;
  tag: number;
  resolve: (reply: any) => void;
  reject: (error: Error) => void;
  path?: string;
  signal?: AbortSignal;
  onAbandon?: (reply: unknown) => void;
  abandoned: boolean;
  /** For an internal Tflush: the tag it flushes. */
  flushOf?: number;
}

const DEFAULT_MSIZE = (1 << 20) + IO_HEADER_SIZE;
const MAX_WALK = 16;

export class P9Client {
  /** Negotiated protocol. */
  version: P9Version = '9P2000.L';
  /** Negotiated largest message size. */
  msize: number;
  /** The attached root's fid and qid (after connect). */
  root = NOFID;
  rootQid: Qid = { type: 0, version: 0, path: 0n };
  /** Resolves (never rejects) with the error that ended the connection. */
  readonly closed: Promise<P9Error>;

  private readonly stream: Duplex;
  private readonly pending: (Pending | undefined)[] = [];
  private readonly freeTags: number[] = [];
  private nextTag = 0;
  private readonly tagWaiters: (() => void)[] = [];
  private readonly freeFids: number[] = [];
  private nextFid = 0;
  private dead?: P9Error;
  private markClosed!: (error: P9Error) => void;
  // Receive state: a frame being filled across chunks, or a few header bytes.
  private partial?: Buffer;
  private partialFill = 0;
  private head?: Buffer;
  private corked = false;
  /** One abort listener per signal, however many requests share it. */
  private readonly bySignal = new WeakMap<AbortSignal, Set<Pending>>();

  private constructor(stream: Duplex, msize: number) {
    this.stream = stream;
    this.msize = msize;
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (error) => this.fail(new P9Error(EIO, { op: 'transport', detail: error.message, cause: error })));
    stream.on('end', () => this.fail(new P9Error(EIO, { op: 'transport', detail: 'the server closed the connection' })));
    stream.on('close', () => this.fail(new P9Error(EIO, { op: 'transport', detail: 'the connection closed' })));
  }

  /** Negotiates the version and attaches: the stream is then a live 9P session. */
  static async connect(stream: Duplex, options: P9ConnectOptions = {}): Promise<P9Client> {
    const client = new P9Client(stream, Math.max(options.msize ?? DEFAULT_MSIZE, 4096));
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const giveUp = () => client.fail(new P9Error(EIO, { op: 'connect', detail: timeout.aborted ? 'no answer to Tversion/Tattach in time' : 'aborted', cause: signal.reason }));
    if (signal.aborted) giveUp();
    signal.addEventListener('abort', giveUp, { once: true });
    try {
      await client.negotiate(options.version);
      client.root = client.allocFid();
      const reply = await client.request('attach', {
        fid: client.root, afid: NOFID, uname: options.uname ?? '', aname: options.aname ?? '', n_uname: options.n_uname ?? 0,
      }, { path: options.aname });
      client.rootQid = reply.qid;
      return client;
    } catch (error) {
      client.close();
      throw error;
    } finally {
      signal.removeEventListener('abort', giveUp);
    }
  }

  private async negotiate(wanted: P9Version | undefined): Promise<void> {
    for (const version of wanted ? [wanted] : (['9P2000.L', '9P2000.u'] as const)) {
      const reply = await this.call('version', { msize: this.msize, version }, {}, NOTAG);
      if (reply.version === version) {
        this.version = version;
        if (reply.msize < this.msize) this.msize = reply.msize;
        return;
      }
    }
    throw new P9Error(errnoNumber('EPROTONOSUPPORT')!, { op: 'version', detail: `the server speaks neither ${wanted ?? '9P2000.L nor 9P2000.u'}` });
  }

  /** 'L' or 'u'. */
  get dialect(): 'L' | 'u' {
    return this.version === '9P2000.L' ? 'L' : 'u';
  }

  /** Most bytes one Tread/Twrite/Treaddir may move (msize less the I/O header, and the file's iounit). */
  ioSize(iounit = 0): number {
    const max = this.msize - IO_HEADER_SIZE;
    return iounit > 0 && iounit < max ? iounit : max;
  }

  /** Requests (and flushes) waiting for their reply. */
  get inFlight(): number {
    let n = 0;
    for (const entry of this.pending) if (entry) n++;
    return n;
  }

  /** True until the stream dies or close() is called. */
  get alive(): boolean {
    return !this.dead;
  }

  /** Sends one T-message and resolves with its R-message; rejects with P9Error. */
  request<N extends MessageName>(name: N, args: TArgs<N>, options: RequestOptions = {}): Promise<RReply<N>> {
    return this.call(name, args, options);
  }

  private call<N extends MessageName>(name: N, args: TArgs<N>, options: RequestOptions, fixedTag?: number): Promise<RReply<N>> {
    if (this.dead) return Promise.reject(this.deadError(name, options.path));
    const dialect = MESSAGES[name].dialect;
    if (dialect !== 'both' && dialect !== this.dialect) {
      return Promise.reject(new P9Error(errnoNumber('EOPNOTSUPP')!, { op: name, path: options.path, detail: `not a ${this.version} message` }));
    }
    if (options.signal?.aborted) return Promise.reject(this.cancelled(name, options.path, options.signal));
    const tag = fixedTag ?? this.allocTag();
    if (tag === undefined) {
      // Every tag is in flight: wait for one (65535 requests outstanding).
      return new Promise<void>((resolve) => this.tagWaiters.push(resolve)).then(() => this.call(name, args, options));
    }
    return new Promise<RReply<N>>((resolve, reject) => {
      const entry: Pending = { name, tag, resolve, reject, path: options.path, onAbandon: options.onAbandon, abandoned: false };
      this.pending[tag] = entry;
      if (options.signal) this.watch(options.signal, entry);
      let frame: Buffer;
      try {
        frame = encode(name, 'T', tag, args as Record<string, unknown>);
      } catch (error) {
        this.settle(tag, entry);
        reject(error);
        return;
      }
      if (frame.length > this.msize) {
        this.settle(tag, entry);
        reject(new P9Error(errnoNumber('EMSGSIZE')!, { op: name, path: options.path, detail: `${frame.length} bytes exceed msize ${this.msize}` }));
        return;
      }
      this.send(frame);
    });
  }

  /** Coalesces the messages of one tick into one write (writev) to the stream. */
  private send(frame: Buffer): void {
    if (!this.corked) {
      this.corked = true;
      this.stream.cork();
      process.nextTick(() => {
        this.corked = false;
        this.stream.uncork();
      });
    }
    this.stream.write(frame);
  }

  private allocTag(): number | undefined {
    if (this.freeTags.length) return this.freeTags.pop();
    if (this.nextTag < NOTAG) return this.nextTag++;
    return undefined;
  }

  private freeTag(tag: number): void {
    this.pending[tag] = undefined;
    if (tag === NOTAG) return;
    this.freeTags.push(tag);
    this.tagWaiters.shift()?.();
  }

  private watch(signal: AbortSignal, entry: Pending): void {
    entry.signal = signal;
    let entries = this.bySignal.get(signal);
    if (!entries) {
      const set = (entries = new Set());
      this.bySignal.set(signal, set);
      signal.addEventListener('abort', () => {
        this.bySignal.delete(signal);
        for (const e of set) this.abandon(e);
      }, { once: true });
    }
    entries.add(entry);
  }

  /** The request is over for its caller: forget its signal and, unless a flush holds it, its tag. */
  private settle(tag: number, entry: Pending, keepTag = false): void {
    if (entry.signal) this.bySignal.get(entry.signal)?.delete(entry);
    entry.signal = undefined;
    if (!keepTag) this.freeTag(tag);
  }

  /** Caller cancelled: reject now, then Tflush; the tag stays reserved until Rflush (9P's rule). */
  private abandon(entry: Pending): void {
    const tag = entry.tag;
    if (this.pending[tag] !== entry || entry.abandoned) return;
    const signal = entry.signal;
    entry.abandoned = true;
    this.settle(tag, entry, true);
    entry.reject(this.cancelled(entry.name, entry.path, signal));
    if (this.dead) return;
    const flushTag = this.allocTag();
    if (flushTag === undefined) return; // no tag to flush with: the reply, when it comes, frees it
    this.pending[flushTag] = { name: 'flush', tag: flushTag, resolve: () => {}, reject: () => {}, abandoned: false, flushOf: tag };
    this.send(encode('flush', 'T', flushTag, { oldtag: tag }));
  }

  private cancelled(op: string, path: string | undefined, signal?: AbortSignal): P9Error {
    return new P9Error(EINTR, { op, path, detail: 'cancelled', cause: signal?.reason, cancelled: true });
  }

  private deadError(op: string, path?: string): P9Error {
    return new P9Error(EIO, { op, path, detail: this.dead!.message, cause: this.dead });
  }

  private onData(chunk: Buffer): void {
    if (this.dead) return;
    let off = 0;
    if (this.partial) {
      const take = Math.min(this.partial.length - this.partialFill, chunk.length);
      chunk.copy(this.partial, this.partialFill, 0, take);
      this.partialFill += take;
      off = take;
      if (this.partialFill < this.partial.length) return;
      const frame = this.partial;
      this.partial = undefined;
      this.dispatch(frame);
    } else if (this.head) {
      chunk = Buffer.concat([this.head, chunk]);
      this.head = undefined;
    }
    while (!this.dead && off < chunk.length) {
      if (chunk.length - off < 4) {
        this.head = Buffer.from(chunk.subarray(off));
        return;
      }
      const size = chunk.readUInt32LE(off);
      if (size < HEADER_SIZE || size > this.msize) {
        this.fail(new P9Error(EIO, { op: 'receive', detail: `bad 9P frame size ${size} (msize ${this.msize})` }));
        return;
      }
      if (chunk.length - off < size) {
        // One copy into the frame's own buffer, instead of concatenating chunk lists.
        this.partial = Buffer.allocUnsafe(size);
        this.partialFill = chunk.copy(this.partial, 0, off);
        return;
      }
      this.dispatch(chunk.subarray(off, off + size));
      off += size;
    }
  }

  private dispatch(frame: Buffer): void {
    const type = frame[4];
    const tag = frame.readUInt16LE(5);
    const entry = this.pending[tag];
    if (!entry) return; // a reply to nothing we wait for (e.g. after a flush race): ignore
    if (entry.flushOf !== undefined) {
      // Rflush: the flushed request is over; if its reply never came, tell its owner.
      this.freeTag(tag);
      const old = this.pending[entry.flushOf];
      if (old?.abandoned) {
        old.onAbandon?.(undefined);
        old.onAbandon = undefined;
        this.freeTag(entry.flushOf);
      }
      return;
    }
    let error: P9Error | undefined;
    let reply: Record<string, unknown> | undefined;
    try {
      if (type === RLERROR) {
        error = new P9Error(frame.readUInt32LE(HEADER_SIZE), { op: entry.name, path: entry.path });
      } else if (type === RERROR) {
        const r = new WireReader(frame, HEADER_SIZE);
        const text = r.s();
        const errno = r.pos + 4 <= frame.length ? r.u32() : 0;
        const known = errno !== 0 && errno !== NOUID ? errno : errnoFromMessage(text);
        error = new P9Error(known, { op: entry.name, path: entry.path, detail: text });
      } else if (replyName(type) !== entry.name) {
        error = new P9Error(EIO, { op: entry.name, path: entry.path, detail: `unexpected reply type ${type}` });
      } else {
        reply = decode(entry.name, 'R', frame);
      }
    } catch (decodeError) {
      error = new P9Error(EIO, { op: entry.name, path: entry.path, detail: (decodeError as Error).message, cause: decodeError });
    }
    if (entry.abandoned) {
      // The late reply of a cancelled request; its tag waits for Rflush.
      entry.onAbandon?.(reply);
      entry.onAbandon = undefined;
      return;
    }
    this.settle(tag, entry);
    if (error) entry.reject(error);
    else entry.resolve(reply);
  }

  /** Ends the session: every pending and later request fails with EIO. */
  private fail(error: P9Error): void {
    if (this.dead) return;
    this.dead = error;
    this.partial = this.head = undefined;
    for (let tag = 0; tag < this.pending.length; tag++) {
      const entry = this.pending[tag];
      if (!entry) continue;
      this.pending[tag] = undefined;
      if (entry.signal) this.bySignal.get(entry.signal)?.delete(entry);
      if (entry.abandoned) entry.onAbandon?.(undefined);
      else if (entry.flushOf === undefined) entry.reject(this.deadError(entry.name, entry.path));
    }
    for (const wake of this.tagWaiters.splice(0)) wake();
    this.stream.destroy();
    this.markClosed(error);
  }

  /** Closes the connection (the server clunks every fid). Pending requests fail with EIO. */
  close(): void {
    this.fail(new P9Error(EIO, { op: 'close', detail: 'the client closed the connection' }));
  }

  // ---- fids ----

  allocFid(): number {
    return this.freeFids.pop() ?? this.nextFid++;
  }

  /** Returns a fid to the pool; only once the server has forgotten it (Rclunk, failed walk). */
  releaseFid(fid: number): void {
    if (fid !== NOFID && fid !== this.root) this.freeFids.push(fid);
  }

  /** Walks from `fid` along `names` to a new fid (more than 16 names take several Twalks). */
  async walk(fid: number, names: readonly string[], options: RequestOptions = {}): Promise<{ fid: number; qid: Qid | undefined }> {
    const newfid = this.allocFid();
    let from = fid;
    let qid: Qid | undefined;
    let i = 0;
    do {
      const part = names.slice(i, i + MAX_WALK);
      const created = from !== newfid;
      let reply: RReply<'walk'>;
      try {
        reply = await this.request('walk', { fid: from, newfid, wnames: part }, {
          ...options,
          // A cancelled walk that still succeeded created newfid on the server.
          onAbandon: (late) => {
            const ok = late && (late as RReply<'walk'>).wqids.length === part.length;
            if (ok || !created) this.clunk(newfid).catch(() => {});
            else this.releaseFid(newfid);
          },
        });
      } catch (error) {
        if (!(error as P9Error).cancelled) {
          if (created) this.releaseFid(newfid);
          else this.clunk(newfid).catch(() => {});
        }
        throw error;
      }
      if (reply.wqids.length < part.length) {
        // A partial walk leaves newfid unchanged: unborn if this was the first hop.
        if (created) this.releaseFid(newfid);
        else this.clunk(newfid).catch(() => {});
        // Stopped at a file: the next name was looked up inside a non-directory.
        const last = reply.wqids[reply.wqids.length - 1];
        const notDir = last && !(last.type & QT.DIR);
        throw new P9Error(errnoNumber(notDir ? 'ENOTDIR' : 'ENOENT')!, { op: 'walk', path: options.path });
      }
      if (reply.wqids.length) qid = reply.wqids[reply.wqids.length - 1];
      from = newfid;
      i += MAX_WALK;
    } while (i < names.length);
    return { fid: newfid, qid };
  }

  /** Tclunk; the fid returns to the pool whatever the answer (9P: a clunked fid is gone even on error). */
  async clunk(fid: number, options: RequestOptions = {}): Promise<void> {
    try {
      await this.request('clunk', { fid }, options);
    } finally {
      this.releaseFid(fid);
    }
  }

  /** Reads up to `count` bytes at `offset`, split into msize-sized Treads kept `depth` in flight. */
  async read(fid: number, offset: number, count: number, options: RequestOptions & { iounit?: number; depth?: number } = {}): Promise<Buffer> {
    const io = this.ioSize(options.iounit);
    if (count <= io) return (await this.request('read', { fid, offset, count }, options)).data;
    const pieces: Buffer[] = [];
    let total = 0;
    await runWindow(Math.ceil(count / io), options.depth ?? 8, async (i) => {
      const want = Math.min(io, count - i * io);
      const { data } = await this.request('read', { fid, offset: offset + i * io, count: want }, options);
      pieces[i] = data;
      return data.length === want; // a short piece is the end of the file
    });
    const out: Buffer[] = [];
    for (const piece of pieces) {
      if (!piece) break;
      out.push(piece);
      total += piece.length;
      if (piece.length < io) break;
    }
    return out.length === 1 ? out[0] : Buffer.concat(out, total);
  }

  /** Writes all of `data` at `offset`, split and pipelined like read(); returns the bytes written. */
  async write(fid: number, offset: number, data: Uint8Array, options: RequestOptions & { iounit?: number; depth?: number } = {}): Promise<number> {
    const io = this.ioSize(options.iounit);
    let written = 0;
    const shortfalls: [number, number][] = [];
    await runWindow(Math.ceil(data.length / io) || 1, options.depth ?? 8, async (i) => {
      const piece = data.subarray(i * io, (i + 1) * io);
      const { count } = await this.request('write', { fid, offset: offset + i * io, data: piece }, options);
      written += count;
      if (count < piece.length) shortfalls.push([i * io + count, (i * io) + piece.length]);
      return true;
    });
    // A short write (rare: a full disk answers with an error) is retried for its remainder.
    for (const [start, end] of shortfalls) {
      for (let at = start; at < end;) {
        const { count } = await this.request('write', { fid, offset: offset + at, data: data.subarray(at, Math.min(end, at + io)) }, options);
        if (count === 0) throw new P9Error(errnoNumber('ENOSPC')!, { op: 'write', path: options.path, detail: 'the server wrote 0 bytes' });
        written += count;
        at += count;
      }
    }
    return written;
  }
}

/**
 * Runs job(0..n-1) with at most `depth` running; a job returning false stops new jobs from
 * starting (end of file). Rejects with the first error once the running ones settle.
 */
export async function runWindow(n: number, depth: number, job: (i: number) => Promise<boolean>): Promise<void> {
  let next = 0;
  let stop = false;
  let failure: unknown;
  const worker = async () => {
    while (!stop && next < n) {
      const i = next++;
      try {
        if (!(await job(i))) stop = true;
      } catch (error) {
        stop = true;
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(depth, n) }, worker));
  if (failure !== undefined) throw failure;
}
