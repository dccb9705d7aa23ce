// A guest whose assets cannot be built on this host: they come from the user (site config
// guests.<id>.kernel / initrd) or are dropped into its asset folder. `build` explains why not.
import type { Qemount } from '../Qemount.js';
import { QemountError } from '../QemountError.js';
import { fileAssetStatus, guestAssetDir } from './assetFiles.js';
import type { GuestAssetStatus, GuestDriver } from './GuestDriver.js';

export interface PrebuiltGuestOptions {
  id: string;
  /** Why qemount cannot build or fetch this guest's assets here, in one sentence. */
  whyNotBuildable: string;
}

export class PrebuiltGuest implements GuestDriver {
  readonly id: string;
  constructor(private readonly core: Qemount, private readonly options: PrebuiltGuestOptions) {
    this.id = options.id;
  }

  private fix(): string {
    return `set guests.${this.id}.kernel (and initrd) in the site config, or put ${(this.core.guest(this.id).declaration.assets?.files ?? []).join(' and ')} in ${guestAssetDir(this.core, this.id)}`;
  }

  async assets(): Promise<GuestAssetStatus> {
    return fileAssetStatus(this.core, this.id, guestAssetDir(this.core, this.id), this.fix());
  }

  async build(): Promise<GuestAssetStatus> {
    const status = await this.assets();
    if (status.present) return status;
    throw new QemountError('E_GUEST_UNAVAILABLE', `guest ${this.id} cannot be built on this host: ${this.options.whyNotBuildable}`, { hint: this.fix() });
  }
}
