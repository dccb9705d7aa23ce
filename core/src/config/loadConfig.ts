// Finds, reads and validates the site configuration (cosmiconfig), and fills in defaults.
import { homedir, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { SiteConfig } from '@qemount/registry';
import { QemountError } from '../QemountError.js';
import { validateAgainstSchema } from '../util/schemaValidator.js';

/** The site config with every default filled in and folders made absolute. */
export interface ResolvedConfig extends Required<Omit<SiteConfig, '$schema' | 'guests' | 'preferGuest'>> {
  guests: NonNullable<SiteConfig['guests']>;
  preferGuest: NonNullable<SiteConfig['preferGuest']>;
  /** The file it came from, if any. */
  file?: string;
}

export const configSearchPlaces = [
  'package.json',
  'qemount.config.json',
  'qemount.config.yaml',
  'qemount.config.yml',
  'qemount.config.js',
  'qemount.config.mjs',
  'qemount.config.cjs',
  '.qemountrc',
  '.qemountrc.json',
  '.qemountrc.yaml',
  '.qemountrc.yml',
  '.qemountrc.js',
  '.qemountrc.mjs',
  '.qemountrc.cjs',
];

export interface LoadConfigOptions {
  /** An explicit config file (--config); search is skipped. */
  file?: string;
  /** Where the search starts (default: the current directory). */
  cwd?: string;
  /** Settings that win over the file's (e.g. from command-line flags). */
  overrides?: Partial<SiteConfig>;
}

/**
 * Whether any file cosmiconfig would look at exists, from `start` up to the home folder and in
 * the global config folder. Most hosts have none: then cosmiconfig (and its loaders) need not load.
 */
function anyConfigCandidate(start: string): boolean {
  const home = homedir();
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    for (const place of configSearchPlaces) {
      const file = join(dir, place);
      if (!existsSync(file)) continue;
      if (place !== 'package.json') return true;
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as { qemount?: unknown }).qemount !== undefined) return true;
      } catch {
        return true; // unreadable: let cosmiconfig say what is wrong
      }
    }
    if (dir === home || dirname(dir) === dir) break;
  }
  const global = join(process.env.XDG_CONFIG_HOME || join(home, '.config'), 'qemount');
  return existsSync(global);
}

export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  if (!options.file && !anyConfigCandidate(options.cwd ?? process.cwd())) {
    return resolveConfig(await validateAgainstSchema<SiteConfig>('site-config', {}, '(defaults)', 'E_CONFIG_INVALID'), undefined, options.overrides);
  }
  const { cosmiconfig } = await import('cosmiconfig');
  const explorer = cosmiconfig('qemount', {
    searchPlaces: configSearchPlaces,
    // Up from the start folder to the home folder, then ~/.config/qemount/.
    searchStrategy: 'global',
  });
  let found: { config: unknown; filepath: string } | null;
  try {
    if (options.file) {
      const file = resolve(options.cwd ?? process.cwd(), options.file);
      const info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) {
        throw new QemountError('E_CONFIG_NOT_FOUND', `config file ${file} does not exist`, {
          hint: 'check the path given to --config',
        });
      }
      found = await explorer.load(file);
    } else {
      found = await explorer.search(options.cwd ?? process.cwd());
    }
  } catch (error) {
    if (error instanceof QemountError) throw error;
    throw new QemountError('E_CONFIG_UNREADABLE', `could not read the site config: ${(error as Error).message}`, {
      cause: error,
      hint: 'fix the syntax of the config file, or pass another with --config FILE',
    });
  }
  const raw = (found?.config ?? {}) as unknown;
  const file = found?.filepath;
  const config = await validateAgainstSchema<SiteConfig>('site-config', raw, file ?? '(defaults)', 'E_CONFIG_INVALID', 'fix the config file; its schema is registry/schemas/site-config.schema.json');
  return resolveConfig(config, file, options.overrides);
}

function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'qemount');
}

function defaultStateDir(): string {
  if (process.env.XDG_RUNTIME_DIR) return join(process.env.XDG_RUNTIME_DIR, 'qemount');
  // Unix socket paths are short (108 bytes): keep this folder near the root.
  return process.getuid?.() === 0 ? '/run/qemount' : join(tmpdir(), `qemount-${process.getuid?.() ?? 'user'}`);
}

export function resolveConfig(fromFile: SiteConfig, file?: string, overrides?: Partial<SiteConfig>): ResolvedConfig {
  const config = { ...fromFile, ...overrides };
  const base = file ? dirname(file) : process.cwd();
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p.replace(/^~(?=\/|$)/, homedir())));
  return {
    plugins: config.plugins ?? [],
    preferGuest: config.preferGuest ?? {},
    accelerator: config.accelerator ?? 'auto',
    memory: config.memory ?? 128,
    cacheDir: abs(process.env.QEMOUNT_CACHE_DIR || config.cacheDir || defaultCacheDir()),
    stateDir: abs(process.env.QEMOUNT_STATE_DIR || config.stateDir || defaultStateDir()),
    transport: config.transport ?? 'unix',
    frontend: config.frontend ?? 'fuse',
    guests: Object.fromEntries(
      Object.entries(config.guests ?? {}).map(([id, g]) => [
        id,
        { ...g, ...(g.kernel ? { kernel: abs(g.kernel) } : {}), ...(g.initrd ? { initrd: abs(g.initrd) } : {}) },
      ]),
    ),
    file,
  };
}
