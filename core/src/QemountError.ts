/**
 * The one error class qemount throws. `code` is stable for scripts; `hint` says how to fix it;
 * `plugin`/`hook` say where it came from; `cause` carries what went wrong underneath.
 */
export interface QemountErrorOptions {
  hint?: string;
  plugin?: string;
  hook?: string;
  cause?: unknown;
  /** Process exit code the CLI uses for this error (default 1). */
  exitCode?: number;
}

export class QemountError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly plugin?: string;
  readonly hook?: string;
  readonly exitCode: number;

  constructor(code: string, message: string, options: QemountErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'QemountError';
    this.code = code;
    this.hint = options.hint;
    this.plugin = options.plugin;
    this.hook = options.hook;
    this.exitCode = options.exitCode ?? 1;
  }

  /** The messages of this error's causes, outermost first. */
  causes(): string[] {
    const out: string[] = [];
    let cause = this.cause;
    for (let depth = 0; cause !== undefined && depth < 8; depth++) {
      out.push(cause instanceof Error ? cause.message : String(cause));
      cause = cause instanceof Error ? cause.cause : undefined;
    }
    return out;
  }
}

export function isQemountError(error: unknown, code?: string): error is QemountError {
  return error instanceof QemountError && (code === undefined || error.code === code);
}
