// Finds plugin folders (built-in ones beside the core, and those the site config lists), reads and
// validates their manifests. No plugin code is loaded here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { PluginManifest } from '@qemount/registry';
import { QemountError } from '../QemountError.js';
import { validateAgainstSchema } from '../util/schemaValidator.js';
import { compareIds } from '../util/compareIds.js';
import { installRoot } from '../util/installPaths.js';
import type { PluginRecord } from './PluginRecord.js';

export const builtinPluginsDir = join(installRoot, 'plugins');
export const manifestFileName = 'qemount.json';

export async function readManifest(dir: string, source: PluginRecord['source']): Promise<PluginRecord> {
  const manifestFile = join(dir, manifestFileName);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(manifestFile, 'utf8'));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (error as Error).message;
    throw new QemountError('E_MANIFEST_INVALID', `cannot read plugin manifest ${manifestFile}: ${why}`, {
      cause: error,
      hint: 'a plugin folder needs a qemount.json manifest (see README, "Writing a plugin")',
    });
  }
  const manifest = await validateAgainstSchema<PluginManifest>('plugin-manifest', data, manifestFile, 'E_MANIFEST_INVALID', 'fix the manifest; its schema is registry/schemas/plugin-manifest.schema.json');
  const packageFile = join(dir, 'package.json');
  const packageName = existsSync(packageFile) ? (JSON.parse(readFileSync(packageFile, 'utf8')) as { name?: string }).name : undefined;
  const folderName = basename(dir);
  const expected = packageName ?? folderName;
  // Scoped packages live in a folder named after the part behind the slash.
  if (manifest.name !== expected || basename(manifest.name) !== folderName) {
    throw new QemountError('E_MANIFEST_INVALID', `${manifestFile} is not a valid plugin manifest:\n  /name: must equal the plugin's folder and package name "${expected}" (got "${manifest.name}")`);
  }
  return { name: manifest.name, manifest, dir, manifestFile, source };
}

export async function discoverBuiltinPlugins(dir = builtinPluginsDir): Promise<PluginRecord[]> {
  if (!existsSync(dir)) return [];
  const records: PluginRecord[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && existsSync(join(dir, entry.name, manifestFileName))) records.push(await readManifest(join(dir, entry.name), 'built-in'));
  }
  return records.sort((a, b) => compareIds(a.name, b.name));
}

/** Resolves one `plugins` entry of the site config: a path (relative to the config file) or an npm package name. */
export async function locateConfiguredPlugin(spec: string, index: number, configFile: string | undefined): Promise<PluginRecord> {
  const base = configFile ? dirname(configFile) : process.cwd();
  const where = `${configFile ?? 'site config'} at /plugins/${index}`;
  const isPath = spec.startsWith('.') || isAbsolute(spec);
  if (isPath) {
    const dir = resolve(base, spec);
    if (!existsSync(join(dir, manifestFileName))) {
      throw new QemountError('E_PLUGIN_NOT_FOUND', `plugin "${spec}" (${where}) was not found: ${join(dir, manifestFileName)} does not exist`, {
        hint: 'fix the path in the config file (paths are relative to the config file)',
      });
    }
    return readManifest(dir, { path: spec });
  }
  const searched: string[] = [];
  for (const start of [base, installRoot]) {
    for (let dir = start; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', spec);
      searched.push(candidate);
      if (existsSync(join(candidate, manifestFileName))) return readManifest(candidate, { package: spec });
      if (existsSync(join(candidate, 'package.json'))) {
        throw new QemountError('E_PLUGIN_NOT_FOUND', `package "${spec}" (${where}) is installed at ${candidate} but is not a qemount plugin: it has no ${manifestFileName}`, {
          hint: `remove "${spec}" from the plugins list, or add a ${manifestFileName} to it`,
        });
      }
      if (dirname(dir) === dir) break;
    }
  }
  throw new QemountError('E_PLUGIN_NOT_FOUND', `plugin "${spec}" (${where}) was not found in any node_modules folder above ${base}`, {
    hint: `npm install ${spec}   (or remove it from the plugins list)`,
  });
}
