import type { PluginManifest } from '@qemount/registry';
import type { Qemount } from '../Qemount.js';

/** What a plugin module's default export is. `apply` only taps hooks. */
export interface QemountPlugin {
  name: string;
  apply(core: Qemount): void | Promise<void>;
}

/** A plugin found on disk: its validated manifest and where it came from. Its code is not loaded. */
export interface PluginRecord {
  name: string;
  manifest: PluginManifest;
  /** The plugin's folder. */
  dir: string;
  manifestFile: string;
  /** "built-in", or how the site config named it (a package name or a path). */
  source: 'built-in' | { package: string } | { path: string };
}

export function describeSource(record: PluginRecord): string {
  if (record.source === 'built-in') return 'built-in';
  if ('package' in record.source) return `package ${record.source.package}`;
  return `path ${record.source.path}`;
}
