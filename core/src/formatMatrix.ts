// The formats × guests matrix, rendered from the catalogue and the guests' declarations.
import type { Access } from '@qemount/registry';
import type { Qemount } from './Qemount.js';
import { formatKinds, type FormatKind } from './catalogue/Catalogue.js';

export interface FormatGuestSupport {
  access: Access;
  driver: string;
  note?: string;
  quality: 'stable' | 'partial' | 'experimental';
  /** An end-to-end test proves it. */
  tested: boolean;
}

export interface FormatRow {
  kind: FormatKind;
  id: string;
  name: string;
  aliases: string[];
  description: string;
  origin: string;
  /** Per guest id: what it gives, or null when it cannot. */
  guests: Record<string, FormatGuestSupport | null>;
  /** The guest the core would pick for a read-only and a read-write mount (filesystems only). */
  pick: { ro: string | null; rw: string | null };
}

export interface FormatMatrixOptions {
  kind?: FormatKind;
  /** Only this guest's column (and only formats it supports). */
  guest?: string;
}

export function formatMatrix(core: Qemount, options: FormatMatrixOptions = {}): { guests: string[]; rows: FormatRow[] } {
  const guests = options.guest ? [core.guest(options.guest)] : core.guests();
  const rows: FormatRow[] = [];
  for (const kind of options.kind ? [options.kind] : formatKinds.filter((k) => k !== 'container')) {
    for (const format of core.catalogue.list(kind)) {
      const support: FormatRow['guests'] = {};
      for (const guest of guests) {
        const fs = kind === 'fs' ? guest.declaration.filesystems[format.id] : undefined;
        const declared = kind === 'fs' ? fs : guest.declaration.partitionTables[format.id];
        support[guest.id] = declared
          ? { access: declared.access, driver: declared.driver, note: declared.note, quality: fs?.quality ?? 'stable', tested: fs?.tested ?? false }
          : null;
      }
      if (options.guest && !support[guests[0].id]) continue;
      rows.push({
        kind,
        id: format.id,
        name: format.name,
        aliases: format.aliases ?? [],
        description: format.description,
        origin: format.origin,
        guests: support,
        pick: kind === 'fs' ? { ro: pickFor(core, format.id, 'ro', options.guest), rw: pickFor(core, format.id, 'rw', options.guest) } : pickTable(core, format.id, guests.map((g) => g.id)),
      });
    }
  }
  return { guests: guests.map((g) => g.id), rows };
}

function pickFor(core: Qemount, fs: string, access: Access, guest?: string): string | null {
  return core.chooseGuest({ fs, access, guest }).candidates[0]?.guest ?? null;
}

/** A partition table is read on the host; a guest that also parses it is only a fallback, chosen by priority. */
function pickTable(core: Qemount, pt: string, guestIds: string[]): FormatRow['pick'] {
  const able = core
    .guests()
    .filter((g) => guestIds.includes(g.id) && g.declaration.partitionTables[pt])
    .sort((a, b) => (b.declaration.priority ?? 0) - (a.declaration.priority ?? 0));
  const ro = able[0]?.id ?? null;
  const rw = able.find((g) => g.declaration.partitionTables[pt].access === 'rw')?.id ?? null;
  return { ro, rw };
}
