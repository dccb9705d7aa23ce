import type { Qemount } from '../Qemount.js';
import { describeSource } from '../plugins/PluginRecord.js';
import type { GuestAssetStatus } from './GuestDriver.js';

export interface GuestSummary {
  id: string;
  plugin: string;
  /** "built-in", "package NAME" or "path P". */
  source: string;
  system: string;
  arch: string;
  filesystems: { rw: number; ro: number; total: number };
  partitionTables: number;
  assets: GuestAssetStatus;
}

export async function listGuests(core: Qemount): Promise<GuestSummary[]> {
  return Promise.all(
    core.guests().map(async (guest) => {
      const filesystems = Object.values(guest.declaration.filesystems);
      const rw = filesystems.filter((f) => f.access === 'rw').length;
      let assets: GuestAssetStatus;
      try {
        assets = await (await core.guestDriver(guest.id)).assets();
      } catch (error) {
        assets = { present: false, location: guest.plugin.dir, detail: `its plugin cannot be loaded: ${(error as Error).message}` };
      }
      return {
        id: guest.id,
        plugin: guest.plugin.name,
        source: describeSource(guest.plugin),
        system: guest.declaration.system,
        arch: guest.declaration.arch,
        filesystems: { rw, ro: filesystems.length - rw, total: filesystems.length },
        partitionTables: Object.keys(guest.declaration.partitionTables).length,
        assets,
      };
    }),
  );
}
