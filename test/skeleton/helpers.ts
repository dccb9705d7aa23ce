// Shared by the skeleton tests: repository paths, the built-in manifests and catalogue read
// straight from disk (not through the loader under test), temp folders, and a CLI runner.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliBin = join(repoRoot, 'core', 'bin', 'qemount.js');
export const fixturesDir = join(repoRoot, 'test', 'fixtures');
export const pluginsDir = join(repoRoot, 'plugins');
export const schemasDir = join(repoRoot, 'registry', 'schemas');
export const catalogueDir = join(repoRoot, 'registry', 'catalogue');

export function readJson<T = any>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export interface ManifestOnDisk {
  folder: string;
  file: string;
  manifest: any;
}

/** Every built-in plugin manifest, read with JSON.parse (no schema defaults filled in). */
export function builtinManifests(): ManifestOnDisk[] {
  return readdirSync(pluginsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(pluginsDir, e.name, 'qemount.json')))
    .map((e) => ({ folder: e.name, file: join(pluginsDir, e.name, 'qemount.json'), manifest: readJson(join(pluginsDir, e.name, 'qemount.json')) }))
    .sort((a, b) => a.folder.localeCompare(b.folder));
}

/** The built-in guest manifests, keyed by guest id. */
export function builtinGuests(): Map<string, any> {
  return new Map(builtinManifests().filter((m) => m.manifest.kind === 'guest').map((m) => [m.manifest.guest.id, m.manifest.guest]));
}

/** The catalogue's formats of one kind, read straight from registry/catalogue. */
export function catalogueFormats(kind: 'fs' | 'pt' | 'container'): any[] {
  const file = { fs: 'filesystems.json', pt: 'partition-tables.json', container: 'containers.json' }[kind];
  return readJson<{ formats: any[] }>(join(catalogueDir, file)).formats;
}

/** Temp folders under os.tmpdir(), removed by cleanup(). */
export class TempDirs {
  private readonly dirs: string[] = [];
  make(prefix = 'qemount-skeleton-'): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }
  cleanup(): void {
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** Runs `node core/bin/qemount.js ARGS` (the compiled CLI) and resolves with its exit code and output. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', QEMOUNT_DEBUG: undefined, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const started = Date.now();
  return new Promise((done) => {
    execFile(
      process.execPath,
      [cliBin, ...args],
      { cwd: options.cwd ?? repoRoot, env: env as NodeJS.ProcessEnv, maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : -1) : 0;
        done({ code, stdout: String(stdout), stderr: String(stderr), ms: Date.now() - started });
      },
    );
  });
}

/** Parses stdout as JSON, with the CLI's output in the message when it is not. */
export function parseJson<T = any>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch (error) {
    throw new Error(`stdout is not JSON (${(error as Error).message}); exit ${run.code}\nstdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr.slice(0, 2000)}`);
  }
}

/** A stack trace line as Node prints it. */
export const stackLine = /^\s+at\s/m;
