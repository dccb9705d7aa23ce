// The registry's data: JSON schemas and the catalogue of formats, plus the types derived from them.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Catalogue, CatalogueFormat } from './generated/catalogue.js';

export type { PluginManifest, GuestDeclaration, FilesystemSupport, TableSupport, TransportDeclaration, FrontendDeclaration, Access } from './generated/plugin-manifest.js';
export type { SiteConfig, GuestSettings } from './generated/site-config.js';
export type { Catalogue, CatalogueFormat, MagicRule, MagicCheck } from './generated/catalogue.js';

export const registryRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export type SchemaName = 'plugin-manifest' | 'site-config' | 'catalogue';

/** An ajv validator: fills in schema defaults in place, and leaves ajv's errors on `errors`. */
export type Validator = ((data: unknown) => boolean) & { errors?: unknown[] | null };

/**
 * The validators compiled from the schemas at build time (ajv standalone), by schema name. A large
 * module: loaded on first use, which a start that reads only prevalidated data never reaches.
 */
export async function loadValidators(): Promise<Record<SchemaName, Validator>> {
  const compiled = await import('./generated/validators.js');
  return { 'plugin-manifest': compiled.pluginManifest, 'site-config': compiled.siteConfig, catalogue: compiled.catalogue };
}

/** What the build validated: per schema, each input (as JSON) and its validated form (as JSON). */
export type Prevalidated = Partial<Record<SchemaName, Record<string, string>>>;

/** Written by scripts/prevalidate.mjs at build time. */
export const prevalidatedFile = join(registryRoot, 'dist', 'prevalidated.json');

let prevalidated: Prevalidated | undefined;

/**
 * The validated form (defaults filled in) of `data`, when the build already validated this exact
 * input: the catalogue, the built-in plugins' manifests and the empty site config. Validation
 * depends only on the schema and the input, so the recorded result is the result. Anything else
 * gives undefined and is validated at run time.
 */
export function prevalidatedResult(schema: SchemaName, data: unknown): unknown {
  prevalidated ??= readPrevalidated();
  const result = prevalidated[schema]?.[JSON.stringify(data)];
  return result === undefined ? undefined : JSON.parse(result);
}

function readPrevalidated(): Prevalidated {
  try {
    return JSON.parse(readFileSync(prevalidatedFile, 'utf8')) as Prevalidated;
  } catch {
    return {}; // not built (or unreadable): everything is validated at run time
  }
}

export type FormatKind = 'fs' | 'pt' | 'container';

const catalogueFiles: Record<FormatKind, string> = {
  fs: 'filesystems.json',
  pt: 'partition-tables.json',
  container: 'containers.json',
};

export function cataloguePath(kind: FormatKind): string {
  return join(registryRoot, 'catalogue', catalogueFiles[kind]);
}

/** The raw catalogue file of one kind (validated by the core's loader). */
export function readCatalogue(kind: FormatKind): Catalogue {
  return JSON.parse(readFileSync(cataloguePath(kind), 'utf8'));
}

export type { CatalogueFormat as Format };
