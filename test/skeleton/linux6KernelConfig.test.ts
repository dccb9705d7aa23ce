// Issue 2, acceptance 1 (optional, slower): guest-linux-6's driver strings agree with the real
// Debian kernel it is built from. Every `CONFIG_X=m|y` / `CONFIG_X is not set` a driver string
// names must be so in that kernel's config, and every module it names (`X.ko`, and each entry of
// `modules`) must be a file of that kernel's package.
//
// The kernel comes from, in order: an unpacked package at /tmp/linux-6.1-deb, a downloaded
// linux-image .deb (in /tmp or a guest build cache), or `apt-get download` into a temp folder.
// When none of these works the test is SKIPPED with the reason printed; it never passes on
// nothing (it asserts how many options and modules it checked).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { builtinGuests, TempDirs } from './helpers.ts';

const linux6 = builtinGuests().get('linux-6');
const release = /linux-image-(\d[^\s,)]*)/.exec(linux6.system)?.[1];
const temp = new TempDirs();

interface KernelFacts {
  from: string;
  config: string;
  /** Module file names (without .ko and compression suffix), with - and _ made equal. */
  modules: Set<string>;
}

const moduleKey = (name: string) => name.replace(/-/g, '_');

function modulesFromPaths(paths: string[]): Set<string> {
  const out = new Set<string>();
  for (const p of paths) {
    const m = /\/([^/]+)\.ko(\.xz|\.zst|\.gz)?$/.exec(p);
    if (m) out.add(moduleKey(m[1]));
  }
  return out;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else out.push(path);
  }
  return out;
}

function fromUnpacked(root: string): KernelFacts | undefined {
  const config = join(root, 'boot', `config-${release}`);
  const modules = join(root, 'lib', 'modules', release!);
  if (!existsSync(config) || !existsSync(modules)) return undefined;
  return { from: `unpacked package ${root}`, config: readFileSync(config, 'utf8'), modules: modulesFromPaths(walk(modules)) };
}

function fromDeb(deb: string): KernelFacts {
  const listing = execFileSync('dpkg-deb', ['-c', deb], { maxBuffer: 64 * 1024 * 1024 }).toString();
  const dir = temp.make('qemount-kernel-config-');
  const tar = spawnSync('sh', ['-c', `dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" "./boot/config-$3"`, 'sh', deb, dir, release!]);
  if (tar.status !== 0) throw new Error(`cannot extract boot/config-${release} from ${deb}: ${tar.stderr}`);
  return { from: deb, config: readFileSync(join(dir, 'boot', `config-${release}`), 'utf8'), modules: modulesFromPaths(listing.split('\n')) };
}

function findDeb(): string | undefined {
  const dirs = ['/tmp', process.env.QEMOUNT_CACHE_DIR, join(homedir(), '.cache', 'qemount'), '/tmp/qc']
    .filter((d): d is string => Boolean(d))
    .flatMap((d) => (d === '/tmp' ? [d] : [join(d, 'guests', 'linux-6', 'debs')]));
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    const name = readdirSync(dir).find((f) => f.startsWith(`linux-image-${release}_`) && f.endsWith('.deb'));
    if (name) return join(dir, name);
  }
  return undefined;
}

/** `apt-get download` into a temp folder; a reason string when it cannot. */
function download(): string | { skip: string } {
  if (spawnSync('sh', ['-c', 'command -v apt-get && command -v dpkg-deb'], { stdio: 'ignore' }).status !== 0) return { skip: 'apt-get or dpkg-deb is not installed' };
  const show = spawnSync('apt-cache', ['show', `linux-image-${release}`], { encoding: 'utf8' });
  if (show.status !== 0 || !show.stdout.includes('Package:')) return { skip: `apt knows no package linux-image-${release} (no Debian bookworm sources?)` };
  const dir = temp.make('qemount-kernel-deb-');
  const run = spawnSync('apt-get', ['download', `linux-image-${release}`], { cwd: dir, encoding: 'utf8', timeout: 600_000 });
  const name = readdirSync(dir).find((f) => f.endsWith('.deb'));
  if (run.status !== 0 || !name) return { skip: `apt-get download linux-image-${release} failed: ${(run.stderr || run.error?.message || '').trim().split('\n').at(-1)}` };
  return join(dir, name);
}

function kernelFacts(): KernelFacts | { skip: string } {
  if (!release) return { skip: `no linux-image-<release> in linux-6's system string "${linux6.system}"` };
  const unpacked = fromUnpacked('/tmp/linux-6.1-deb');
  if (unpacked) return unpacked;
  const deb = findDeb();
  if (deb) return fromDeb(deb);
  const fetched = download();
  return typeof fetched === 'string' ? fromDeb(fetched) : fetched;
}

test('linux-6 names a Debian kernel release in its system string', () => {
  assert.match(release ?? '', /^\d+\.\d+\.\d+-\d+-amd64$/);
});

const facts = release ? kernelFacts() : { skip: 'no release' };
if ('skip' in facts) {
  // Not registered at all rather than test.skip(): scripts/run-tests.mjs subtracts uvu's
  // "Skipped" from a "Total" that already excludes skipped tests, so a skip would count as -1 failed.
  console.log(`SKIPPED: the real-kernel check of linux-6's driver strings: ${facts.skip}`);
} else {
  console.log(`kernel ${release} from ${facts.from}: ${facts.modules.size} module files`);
  test('every CONFIG_ option and module named by linux-6 is so in the real kernel', () => {
    const config = new Map<string, string>();
    for (const line of facts.config.split('\n')) {
      const set = /^(CONFIG_[A-Z0-9_]+)=(.*)$/.exec(line);
      if (set) config.set(set[1], set[2]);
    }
    assert.ok(config.size > 1000, `the config has ${config.size} options`);
    let options = 0;
    let modules = 0;
    const problems: string[] = [];
    for (const [id, support] of Object.entries<any>(linux6.filesystems)) {
      for (const m of (support.driver as string).matchAll(/\b(CONFIG_[A-Z0-9_]+)(?:=([my])| is not set)/g)) {
        options++;
        const actual = config.get(m[1]);
        if (m[2] && actual !== m[2]) problems.push(`${id}: driver says ${m[1]}=${m[2]}, the kernel has ${actual === undefined ? 'it not set' : `${m[1]}=${actual}`}`);
        if (!m[2] && actual !== undefined) problems.push(`${id}: driver says ${m[1]} is not set, the kernel has ${m[1]}=${actual}`);
      }
      const named = [...(support.driver as string).matchAll(/\b([a-z0-9_-]+)\.ko\b/g)].map((m) => m[1]);
      for (const name of [...named, ...(support.modules ?? [])]) {
        modules++;
        if (!facts.modules.has(moduleKey(name))) problems.push(`${id}: module ${name} is not in the kernel package`);
      }
    }
    console.log(`checked ${options} CONFIG_ settings and ${modules} module names of ${Object.keys(linux6.filesystems).length} filesystems`);
    assert.equal(problems, []);
    assert.ok(options >= Object.keys(linux6.filesystems).length, `only ${options} CONFIG_ settings checked`);
    assert.ok(modules >= 35, `only ${modules} module names checked`);
  });
}

test.after(() => temp.cleanup());
test.run();
