import type { PluginRecord } from './PluginRecord.js';
import type { Catalogue } from '../catalogue/Catalogue.js';
import { QemountError } from '../QemountError.js';

/** A guest may only declare formats the catalogue knows: report each unknown id with its JSON path. */
export function checkManifestAgainstCatalogue(record: PluginRecord, catalogue: Catalogue): void {
  const guest = record.manifest.guest;
  if (!guest) return;
  const problems: string[] = [];
  for (const id of Object.keys(guest.filesystems)) {
    if (!catalogue.has('fs', id)) problems.push(`/guest/filesystems/${id}: "${id}" is not a filesystem id of the catalogue${suggest(catalogue.resolve('fs', id))}`);
  }
  for (const id of Object.keys(guest.partitionTables)) {
    if (!catalogue.has('pt', id)) problems.push(`/guest/partitionTables/${id}: "${id}" is not a partition-table id of the catalogue${suggest(catalogue.resolve('pt', id))}`);
  }
  if (problems.length) {
    throw new QemountError('E_MANIFEST_INVALID', `${record.manifestFile} is not a valid plugin manifest:\n  ${problems.join('\n  ')}`, {
      plugin: record.name,
      hint: 'use the ids listed by `qemount formats`',
    });
  }
}

function suggest(id: string | undefined): string {
  return id ? ` (did you mean "${id}"?)` : '';
}
