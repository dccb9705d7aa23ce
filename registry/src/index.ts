// The registry's data: JSON schemas and the catalogue of formats, plus the types derived from them.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Catalogue, CatalogueFormat } from './generated/catalogue.js';

export type { PluginManifest, GuestDeclaration, FilesystemSupport, TableSupport, TransportDeclaration, FrontendDeclaration, Access } from './generated/plugin-manifest.js';
export type { SiteConfig, GuestSettings } from './generated/site-config.js';
export type { Catalogue, CatalogueFormat, MagicRule, MagicCheck } from './generated/catalogue.js';

/** Validators compiled from the schemas at build time (ajv standalone), by schema name. */
export * as validators from './generated/validators.js';

export const registryRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export type SchemaName = 'plugin-manifest' | 'site-config' | 'catalogue';
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
