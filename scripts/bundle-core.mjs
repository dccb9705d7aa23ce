// Build step: bundles @qemount/core (tsc emits only its declarations) into core/dist with esbuild.
// Node's ES module loader pays per module: `qemount detect` loads 15 files instead of 65 modules.
// The entry points share chunks, so the CLI and every plugin that imports '@qemount/core'
// (dist/index.js) run the same single copy of each core module (one QemountError class, one
// Qemount). Dynamic import()s stay lazy: each becomes a chunk loaded on first use.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const core = join(root, 'core');
const outdir = join(core, 'dist');
const { dependencies } = JSON.parse(readFileSync(join(core, 'package.json'), 'utf8'));
// CommonJS packages every start loads: bundled, they skip Node's CommonJS loader and export scan.
// The other dependencies load lazily (or are the registry with its data files): left external.
const bundled = ['commander', 'tapable'];

// commander requires node:child_process (and with it net, dgram and their streams) when it loads,
// only to run executable subcommands, which qemount has none of: it gets a stand-in that loads the
// real module on first use.
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(build) {
    build.onResolve({ filter: /^node:child_process$/ }, ({ importer }) =>
      importer.includes(`${sep}node_modules${sep}commander${sep}`) ? { path: 'node:child_process', namespace: 'lazy' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "let real;\nmodule.exports = new Proxy({}, { get: (_, key) => (real ??= require('node:child_process'))[key] });",
      loader: 'js',
    }));
  },
};

const result = await build({
  absWorkingDir: root,
  entryPoints: {
    index: 'core/src/index.ts',
    cli: 'core/src/cli/main.ts',
    // The background mount process (forked by mountInBackground.ts as ./daemon.js beside it).
    daemon: 'core/src/mounts/daemon.ts',
  },
  outdir,
  // Flat: chunks sit beside the entry points, so './daemon.js' resolves from any of them.
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: Object.keys(dependencies).filter((name) => !bundled.includes(name)),
  // Class and function names are part of what plugins and errors show (constructor.name).
  keepNames: true,
  sourcemap: true,
  // The bundled CommonJS packages require() Node's built-ins, which an ES module has no require for.
  banner: { js: "import { createRequire as __qemountCreateRequire } from 'node:module';\nconst require = __qemountCreateRequire(import.meta.url);" },
  plugins: [lazyChildProcessForCommander],
  metafile: true,
  logLevel: 'warning',
});

// Remove what earlier builds left in dist (old chunks, tsc's former JavaScript output); keep the
// declarations tsc writes there.
const outputs = new Set(Object.keys(result.metafile.outputs).map((file) => join(root, file)));
for (const entry of readdirSync(outdir, { recursive: true, withFileTypes: true })) {
  const file = join(entry.parentPath ?? entry.path, entry.name);
  if (entry.isFile() && /\.js(\.map)?$/.test(entry.name) && !outputs.has(file)) rmSync(file);
}
console.log(`core bundled: ${[...outputs].filter((f) => f.endsWith('.js')).length} files in ${relative(root, outdir)}`);
