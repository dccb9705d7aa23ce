// Debian packages as build inputs: resolve exact versions (apt-cache), download (apt-get
// download, no root needed) and unpack (dpkg-deb -x).
import { execa } from 'execa';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface DebianPackage {
  name: string;
  version: string;
  sha256: string;
}

function field(stanza: string, name: string): string | undefined {
  return new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1].trim();
}

/** The candidate version of each package, as apt would install it. */
export async function resolvePackages(names: string[]): Promise<DebianPackage[]> {
  const { stdout } = await execa('apt-cache', ['show', '--no-all-versions', ...names]);
  const stanzas = stdout.split(/\n\n+/).filter((s) => s.trim());
  return names.map((name) => {
    const stanza = stanzas.find((s) => field(s, 'Package') === name);
    if (!stanza) throw new Error(`Debian package ${name} is not known to apt (run apt-get update)`);
    return { name, version: field(stanza, 'Version')!, sha256: field(stanza, 'SHA256') ?? '' };
  });
}

/** The versioned package a metapackage points at (linux-source → linux-source-6.1). */
export async function resolveMetapackage(metapackage: string): Promise<string> {
  const { stdout } = await execa('apt-cache', ['show', '--no-all-versions', metapackage]);
  const target = new RegExp(`^Depends: .*?(${metapackage}-[0-9][^\\s,]*)`, 'm').exec(stdout)?.[1];
  if (!target) throw new Error(`cannot tell which package ${metapackage} depends on`);
  return target;
}

/** Library packages that the given packages need, recursively (only lib*: the rest is not copied). */
export async function libraryDependencies(names: string[]): Promise<string[]> {
  const { stdout } = await execa('apt-cache', [
    'depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks',
    '--no-replaces', '--no-enhances', '--no-pre-depends', ...names,
  ]);
  const all = new Set(stdout.split('\n').filter((l) => /^[a-z0-9]/.test(l)).map((l) => l.trim()));
  return [...all].filter((n) => n.startsWith('lib') && !names.includes(n)).sort();
}

// apt-get download writes the epoch colon as %3a.
const debFileName = (p: DebianPackage) => `${p.name}_${p.version.replace(':', '%3a')}_`;

/** Downloads the .deb of each package into `dir` unless it is there already; returns their paths. */
export async function downloadPackages(packages: DebianPackage[], dir: string): Promise<Map<string, string>> {
  await mkdir(dir, { recursive: true });
  const have = async () => new Map((await readdir(dir)).map((f) => [f, join(dir, f)] as const));
  let files = await have();
  const find = (p: DebianPackage) => [...files.keys()].find((f) => f.startsWith(debFileName(p)) && f.endsWith('.deb'));
  const missing = packages.filter((p) => !find(p));
  if (missing.length) {
    const run = await execa('apt-get', ['download', ...missing.map((p) => `${p.name}=${p.version}`)], { cwd: dir, reject: false, all: true });
    if (run.exitCode !== 0) throw new Error(`apt-get download failed: ${String(run.all).trim().split('\n').slice(-3).join(' ')}`);
    files = await have();
  }
  return new Map(packages.map((p) => {
    const file = find(p);
    if (!file) throw new Error(`apt-get download did not produce ${p.name} ${p.version}`);
    return [p.name, files.get(file)!];
  }));
}

export async function extractPackage(deb: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  await execa('dpkg-deb', ['-x', deb, into]);
}
