// The formats qemount knows (filesystems, partition tables, containers), validated at load and
// indexed by id and alias.
import { cataloguePath, readCatalogue, type CatalogueFormat, type FormatKind } from '@qemount/registry';
import { validateAgainstSchema } from '../util/schemaValidator.js';
import { QemountError } from '../QemountError.js';

import { formatKinds } from './kinds.js';

export { formatKinds, kindNames, type FormatKind } from './kinds.js';

type CatalogueFile = { kind: FormatKind; formats: CatalogueFormat[] };

export class Catalogue {
  private readonly byKind = new Map<FormatKind, Map<string, CatalogueFormat>>();
  private readonly aliases = new Map<FormatKind, Map<string, string>>();

  /** Reads and validates the registry's catalogue files. */
  static async load(): Promise<Catalogue> {
    const files = new Map<FormatKind, CatalogueFile>();
    for (const kind of formatKinds) {
      files.set(kind, await validateAgainstSchema<CatalogueFile>('catalogue', readCatalogue(kind), cataloguePath(kind), 'E_CATALOGUE_INVALID'));
    }
    return new Catalogue(files);
  }

  private constructor(files: Map<FormatKind, CatalogueFile>) {
    for (const [kind, data] of files) {
      const file = cataloguePath(kind);
      const byId = new Map<string, CatalogueFormat>();
      const alias = new Map<string, string>();
      for (const format of data.formats) {
        if (byId.has(format.id)) throw new QemountError('E_CATALOGUE_INVALID', `${file}: format id "${format.id}" appears twice`);
        byId.set(format.id, format);
      }
      for (const format of data.formats) {
        for (const name of [format.name, ...(format.aliases ?? [])].map((a) => a.toLowerCase())) {
          if (!byId.has(name) && !alias.has(name)) alias.set(name, format.id);
        }
      }
      this.byKind.set(kind, byId);
      this.aliases.set(kind, alias);
    }
  }

  list(kind: FormatKind): CatalogueFormat[] {
    return [...this.byKind.get(kind)!.values()];
  }

  get(kind: FormatKind, id: string): CatalogueFormat | undefined {
    return this.byKind.get(kind)!.get(id);
  }

  has(kind: FormatKind, id: string): boolean {
    return this.byKind.get(kind)!.has(id);
  }

  /** The id for a name a user typed: an id, a display name or an alias, any case. */
  resolve(kind: FormatKind, name: string): string | undefined {
    const key = name.toLowerCase();
    if (this.byKind.get(kind)!.has(key)) return key;
    return this.aliases.get(kind)!.get(key);
  }
}
