// The host end of a guest's control port: one line per message, one command answered at a time.
//   guest → READY <release>       host → MOUNT|SYNC|UMOUNT|POWEROFF|DMESG ...
//   guest → OK <text>  |  ERR <message> followed by LOG <line>... END
//   guest → EVENT <name> <detail>   (unasked, at any time: e.g. 9p-exited when its 9P server stopped)
//   host → VERB <tag> ...  guest → REPLY <tag> <line>... REPLY <tag> END <status>   (a query: see query())
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { QemountError } from '../QemountError.js';

export interface ControlReply {
  text: string;
}

interface Waiter {
  resolve(line: string): void;
  reject(error: Error): void;
}

export interface QueryReply {
  /** What the guest said after END: the exit status of what answered. */
  status: string;
  lines: string[];
}

interface PendingQuery {
  verb: string;
  lines: string[];
  resolve(reply: QueryReply): void;
  reject(error: Error): void;
}

/** The word after each command's OK (guest/init): a bare OK is accepted too, for other guests. */
const okWords: Record<string, string> = { MOUNT: 'mounted', SYNC: 'synced', UMOUNT: 'unmounted', POWEROFF: 'poweroff' };

/** An OK naming another command is a late answer to one that timed out, not this one's. */
function answersAnother(verb: string, reply: string): boolean {
  const word = reply.split(' ')[1];
  return word !== undefined && word !== okWords[verb] && Object.values(okWords).includes(word);
}

export class ControlChannel extends EventEmitter<{ event: [name: string, detail: string] }> {
  private buffer = '';
  private readonly lines: string[] = [];
  private readonly waiters: Waiter[] = [];
  private failure?: Error;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly queries = new Map<string, PendingQuery>();
  private nextTag = 1;

  constructor(private readonly stream: Duplex) {
    super();
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl).replace(/\r$/, '');
        this.buffer = this.buffer.slice(nl + 1);
        if (line.startsWith('EVENT ')) {
          const [name = '', ...detail] = line.slice(6).split(' ');
          this.emit('event', name, detail.join(' '));
          continue;
        }
        if (line.startsWith('REPLY ')) {
          this.replyLine(line.slice(6));
          continue;
        }
        if (line.startsWith('ERR unknown command ') && this.refuseQuery(line.slice(20).trim())) continue;
        const waiter = this.waiters.shift();
        if (waiter) waiter.resolve(line);
        else this.lines.push(line);
      }
    });
    const closed = () => this.fail(new QemountError('E_GUEST_DIED', 'the guest closed its control port'));
    stream.on('close', closed);
    stream.on('error', (error) => this.fail(new QemountError('E_GUEST_DIED', `the guest's control port failed: ${error.message}`, { cause: error })));
  }

  /** Fails every waiting and future read (e.g. when qemu exits). */
  fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure);
    for (const query of this.queries.values()) query.reject(this.failure);
    this.queries.clear();
  }

  /** A tagged line: it belongs to the query with that tag (lines of a query that timed out are dropped). */
  private replyLine(rest: string): void {
    const space = rest.indexOf(' ');
    const tag = space < 0 ? rest : rest.slice(0, space);
    const text = space < 0 ? '' : rest.slice(space + 1);
    const query = this.queries.get(tag);
    if (!query) return;
    if (text === 'END' || text.startsWith('END ')) {
      this.queries.delete(tag);
      query.resolve({ status: text.slice(4), lines: query.lines });
    } else {
      query.lines.push(text);
    }
  }

  /** A guest that does not know a query's verb (an older init) answers untagged: that answer is the oldest such query's. */
  private refuseQuery(verb: string): boolean {
    const [tag, query] = [...this.queries].find(([, q]) => q.verb === verb) ?? [];
    if (!tag || !query) return false;
    this.queries.delete(tag);
    query.reject(new QemountError('E_GUEST_COMMAND', `the guest does not know the ${verb} command`));
    return true;
  }

  /**
   * Sends `VERB <tag> args` and collects the guest's `REPLY <tag> ...` lines until its END. Every
   * reply line carries the tag, so a reply that arrives after its timeout can never be taken
   * for another command's answer.
   */
  query(verb: string, args: string[], timeoutMs: number): Promise<QueryReply> {
    if (this.failure) return Promise.reject(this.failure);
    const tag = String(this.nextTag++);
    return new Promise<QueryReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.queries.delete(tag);
        reject(new QemountError('E_GUEST_TIMEOUT', `the guest did not answer ${verb} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.queries.set(tag, {
        verb,
        lines: [],
        resolve: (reply) => (clearTimeout(timer), resolve(reply)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      this.stream.write([verb, tag, ...args].join(' ') + '\n');
    });
  }

  private nextLine(timeoutMs: number, what: string): Promise<string> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new QemountError('E_GUEST_TIMEOUT', `the guest did not answer ${what} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      const waiter: Waiter = {
        resolve: (line) => (clearTimeout(timer), resolve(line)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
      this.waiters.push(waiter);
    });
  }

  /** Waits for the guest's READY line; resolves to what follows it (the kernel release). */
  async ready(timeoutMs: number): Promise<string> {
    for (;;) {
      const line = await this.nextLine(timeoutMs, 'with READY');
      if (line.startsWith('READY')) return line.slice(6).trim();
    }
  }

  /** Sends one command and waits for its OK; an ERR becomes a QemountError with the guest's log lines. */
  command(line: string, timeoutMs: number): Promise<ControlReply> {
    const run = async (): Promise<ControlReply> => {
      if (this.failure) throw this.failure;
      this.stream.write(line + '\n');
      const verb = line.split(' ')[0];
      for (;;) {
        const reply = await this.nextLine(timeoutMs, verb);
        if (reply.startsWith('OK') && !answersAnother(verb, reply)) return { text: reply.slice(2).trim() };
        if (reply.startsWith('ERR')) {
          const log: string[] = [];
          for (let next = await this.nextLine(timeoutMs, verb); next !== 'END'; next = await this.nextLine(timeoutMs, verb)) {
            if (next.startsWith('LOG ')) log.push(next.slice(4));
          }
          throw new GuestCommandError(verb, reply.slice(3).trim(), log);
        }
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** The kernel's last messages (DMESG). */
  async kernelLog(timeoutMs: number): Promise<string[]> {
    const run = async () => {
      this.stream.write('DMESG\n');
      const log: string[] = [];
      for (let next = await this.nextLine(timeoutMs, 'DMESG'); next !== 'END'; next = await this.nextLine(timeoutMs, 'DMESG')) {
        if (next.startsWith('LOG ')) log.push(next.slice(4));
      }
      return log;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.stream.destroy();
  }
}

/** A command the guest refused: its message and the kernel's last lines. */
export class GuestCommandError extends QemountError {
  constructor(readonly verb: string, readonly guestMessage: string, readonly kernelLog: string[]) {
    super('E_GUEST_COMMAND', `${verb.toLowerCase()} failed in the guest: ${guestMessage}`, {
      cause: kernelLog.length ? new Error(`kernel log:\n    ${kernelLog.join('\n    ')}`) : undefined,
    });
  }
}
