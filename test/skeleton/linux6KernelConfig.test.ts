// guest-linux-6's driver strings agree with the kernel it builds. Every `CONFIG_X=m|y` /
// `CONFIG_X is not set` a driver string names must be so in the kernel's config, and every module
// it names (`X.ko`, and each entry of `modules`) must be a module of that kernel.
//
// The config fragment (plugins/guest-linux-6/kernel/qemount.config) is always checked. The built
// kernel's final .config and its module files are checked when a guest build exists in the cache
// (`qemount guest build linux-6`, which CI runs before the tests); otherwise that part is SKIPPED
// with the reason printed. It never passes on nothing: it asserts how much it checked.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { builtinGuests, pluginsDir } from './helpers.ts';

const linux6 = builtinGuests().get('linux-6');
const fragmentFile = join(pluginsDir, 'guest-linux-6', 'kernel', 'qemount.config');
const moduleKey = (name: string) => name.replace(/-/g, '_');

/** CONFIG_X → value ("n" for "is not set"). */
function parseConfig(text: string): Map<string, string> {
  const config = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = /^(CONFIG_[A-Z0-9_]+)=(.*)$/.exec(line) ?? /^# (CONFIG_[A-Z0-9_]+) is not set$/.exec(line);
    if (set) config.set(set[1], set[2] ?? 'n');
  }
  return config;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else out.push(path);
  }
  return out;
}

interface BuiltKernel {
  from: string;
  config: Map<string, string>;
  modules: Set<string>;
}

/** The kernel of the current linux-6 build in the cache, or why there is none. */
function builtKernel(): BuiltKernel | { skip: string } {
  const cacheDir = process.env.QEMOUNT_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'qemount');
  const kernels = join(cacheDir, 'guests', 'linux-6', 'kernel');
  const builds = existsSync(kernels) ? readdirSync(kernels).filter((k) => existsSync(join(kernels, k, 'kernel.json'))) : [];
  if (!builds.length) return { skip: `no kernel build under ${kernels} (run \`qemount guest build linux-6\`)` };
  const dir = join(kernels, builds[0]);
  const { release } = JSON.parse(readFileSync(join(dir, 'kernel.json'), 'utf8')) as { release: string };
  const modules = new Set(walk(join(dir, 'lib', 'modules', release)).map((p) => /\/([^/]+)\.ko$/.exec(p)?.[1]).filter((m): m is string => Boolean(m)).map(moduleKey));
  return { from: join(dir, 'config'), config: parseConfig(readFileSync(join(dir, 'config'), 'utf8')), modules };
}

/** What the driver strings claim: [filesystem or table id, CONFIG_X, value] and [id, module]. */
function claims(): { options: [string, string, string][]; modules: [string, string][] } {
  const options: [string, string, string][] = [];
  const modules: [string, string][] = [];
  for (const [id, support] of [...Object.entries<any>(linux6.filesystems), ...Object.entries<any>(linux6.partitionTables)]) {
    for (const m of (support.driver as string).matchAll(/\b(CONFIG_[A-Z0-9_]+)(?:=([my])| is not set)/g)) options.push([id, m[1], m[2] ?? 'n']);
    const named = [...(support.driver as string).matchAll(/\b([a-z0-9_-]+)\.ko\b/g)].map((m) => m[1]);
    for (const name of [...named, ...(support.modules ?? [])]) modules.push([id, name]);
  }
  return { options, modules };
}

test('every CONFIG_ option a linux-6 driver string names agrees with the kernel config fragment', () => {
  const fragment = parseConfig(readFileSync(fragmentFile, 'utf8'));
  const { options } = claims();
  // Options the fragment does not name take Kconfig's defaults: the built-kernel test checks those.
  const named = options.filter(([, option]) => fragment.has(option));
  const problems = named.filter(([, option, value]) => fragment.get(option) !== value)
    .map(([id, option, value]) => `${id}: driver says ${option}=${value}, the fragment has ${option}=${fragment.get(option)}`);
  assert.equal(problems, []);
  assert.ok(named.length >= Object.keys(linux6.filesystems).length, `only ${named.length} CONFIG_ settings checked`);
});

const kernel = builtKernel();
if ('skip' in kernel) {
  // Not registered at all rather than test.skip(): scripts/run-tests.mjs subtracts uvu's
  // "Skipped" from a "Total" that already excludes skipped tests, so a skip would count as -1 failed.
  console.log(`SKIPPED: the built-kernel check of linux-6's driver strings: ${kernel.skip}`);
} else {
  test('every CONFIG_ option and module named by linux-6 is so in the built kernel', () => {
    const { options, modules } = claims();
    assert.ok(kernel.config.size > 500, `the config has ${kernel.config.size} options`);
    const problems = [
      ...options.filter(([, option, value]) => (kernel.config.get(option) ?? 'n') !== value)
        .map(([id, option, value]) => `${id}: driver says ${option}=${value}, the kernel has ${kernel.config.get(option) ?? 'it not set'}`),
      ...modules.filter(([, name]) => !kernel.modules.has(moduleKey(name))).map(([id, name]) => `${id}: module ${name} is not built`),
    ];
    console.log(`checked ${options.length} CONFIG_ settings and ${modules.length} module names against ${kernel.from}`);
    assert.equal(problems, []);
    assert.ok(modules.length >= 35, `only ${modules.length} module names checked`);
  });
}

test.run();
