// The public surface of @qemount/core: what plugins and library users import.
export { Qemount } from './Qemount.js';
export type {
  QemountHooks, QemountOptions, DetectRequest, TransportAddress, ConnectOptions, LaunchContext,
  MountContext, FrontendRequest, FrontendHandle, GuestInfo,
} from './Qemount.js';
export { QemountError, isQemountError } from './QemountError.js';
export type { QemountPlugin, PluginRecord } from './plugins/PluginRecord.js';
export type { GuestDriver, GuestAssetStatus, GuestBuildOptions, GuestBootSpec } from './guests/GuestDriver.js';
export type { PluginManifest, GuestDeclaration, FilesystemSupport, TableSupport, SiteConfig, Access } from '@qemount/registry';
export { guestAssetDir, fileAssetStatus } from './guests/assetFiles.js';
export { PrebuiltGuest } from './guests/PrebuiltGuest.js';
export type { GuestChoice, GuestCandidate, GuestChoiceRequest } from './guests/chooseGuest.js';
export type { ResolvedConfig } from './config/loadConfig.js';
export type * from './detect/types.js';
export { probeKvm, chooseAccelerator } from './qemu/accelerator.js';
