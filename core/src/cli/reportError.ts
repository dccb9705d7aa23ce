// How a failure reaches the user: `error: message`, then the hint, then the cause chain.
import { QemountError } from '../QemountError.js';
import { paint } from './output.js';

export function reportError(error: unknown): number {
  const write = (line: string) => process.stderr.write(line + '\n');
  if (error instanceof QemountError) {
    write(`${paint('red', 'error:')} ${error.message}`);
    if (error.hint) write(`${paint('yellow', 'hint:')} ${error.hint}`);
    for (const cause of error.causes()) if (!error.message.includes(cause)) write(`${paint('dim', 'cause:')} ${cause}`);
    if (process.env.QEMOUNT_DEBUG) write(String(error.stack));
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  write(`${paint('red', 'error:')} ${message}`);
  write(`${paint('yellow', 'hint:')} this is a bug in qemount; run again with QEMOUNT_DEBUG=1 and report the output`);
  if (process.env.QEMOUNT_DEBUG && error instanceof Error) write(String(error.stack));
  return 1;
}
