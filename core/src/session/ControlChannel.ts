// The host end of a guest's control port: one line per message, one command answered at a time.
//   guest → READY <release>       host → MOUNT|SYNC|UMOUNT|POWEROFF|DMESG ...
//   guest → OK <text>  |  ERR <message> followed by LOG <line>... END
//   guest → EVENT <name> <detail>   (unasked, at any time: e.g. 9p-exited when its 9P server stopped)
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

export class ControlChannel extends EventEmitter<{ event: [name: string, detail: string] }> {
  private buffer = '';
  private readonly lines: string[] = [];
  private readonly waiters: Waiter[] = [];
  private failure?: Error;
  private queue: Promise<unknown> = Promise.resolve();

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
        if (reply.startsWith('OK')) return { text: reply.slice(2).trim() };
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
