// What every command gets: the global options and a lazily created core.
import type { Command } from 'commander';
import type { Qemount } from '../Qemount.js';

export interface GlobalOptions {
  config?: string;
}

export class CliContext {
  private core?: Promise<Qemount>;
  constructor(private readonly program: Command) {}

  get globals(): GlobalOptions {
    return this.program.opts<GlobalOptions>();
  }

  /** The engine, created on first use with the site config named by --config (or found by search). */
  qemount(): Promise<Qemount> {
    // Imported on first use: --help and --version need none of the engine.
    this.core ??= import('../Qemount.js').then(({ Qemount }) => Qemount.create({ file: this.globals.config }));
    return this.core;
  }
}

export type RegisterCommand = (program: Command, context: CliContext) => void;
