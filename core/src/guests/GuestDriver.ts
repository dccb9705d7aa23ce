// What a guest plugin provides to the core (through hooks.guest.for(id)).

export interface GuestAssetStatus {
  /** True when everything needed to boot the guest is on this machine. */
  present: boolean;
  /** Where the assets are (or would be). */
  location: string;
  /** One line for humans: what is there, or what is missing. */
  detail: string;
  /** A command that makes them present, when they are not. */
  fix?: string;
}

export interface GuestBuildOptions {
  force?: boolean;
  /** Called with short messages while building (shown as progress). */
  progress?: (message: string) => void;
  signal?: AbortSignal;
}

export interface GuestDriver {
  /** The guest id (as in its manifest). */
  id: string;
  assets(): Promise<GuestAssetStatus>;
  /** Builds or fetches the assets; resolves to their status. Throws a QemountError if it cannot. */
  build(options?: GuestBuildOptions): Promise<GuestAssetStatus>;
}
