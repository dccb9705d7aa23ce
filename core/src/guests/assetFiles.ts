// Shared by guest plugins: where a guest's assets live and whether they are all there.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Qemount } from '../Qemount.js';
import type { GuestAssetStatus } from './GuestDriver.js';

/** The folder a guest keeps its built or downloaded assets in: <cacheDir>/guests/<id>. */
export function guestAssetDir(core: Qemount, guestId: string): string {
  return join(core.config.cacheDir, 'guests', guestId);
}

/**
 * Status of a guest whose assets are plain files: a user-supplied kernel (site config
 * guests.<id>.kernel) wins; otherwise every file the manifest lists must be in `dir`.
 */
export function fileAssetStatus(core: Qemount, guestId: string, dir: string, fix: string): GuestAssetStatus {
  const supplied = core.config.guests[guestId];
  if (supplied?.kernel) {
    const missing = [supplied.kernel, supplied.initrd].filter((f): f is string => Boolean(f) && !existsSync(f!));
    return missing.length
      ? { present: false, location: supplied.kernel, detail: `the site config names ${missing.join(' and ')}, which does not exist`, fix: `fix guests.${guestId}.kernel in ${core.config.file ?? 'the site config'}` }
      : { present: true, location: supplied.kernel, detail: `user-supplied kernel ${supplied.kernel}` };
  }
  const files = core.guest(guestId).declaration.assets?.files ?? [];
  const missing = files.filter((f) => !existsSync(join(dir, f)));
  if (!files.length || missing.length) {
    return { present: false, location: dir, detail: `missing in ${dir}: ${(missing.length ? missing : ['its assets']).join(', ')}`, fix };
  }
  return { present: true, location: dir, detail: `${files.join(', ')} in ${dir}` };
}
