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
// 9P client (issue 4): the connection, the path API the frontends use, errors, and the connect loop transports share.
export { P9Client } from './p9/P9Client.js';
export type { P9Version, P9ConnectOptions, RequestOptions as P9RequestOptions } from './p9/P9Client.js';
export { P9Fs, pathNames } from './p9/P9Fs.js';
export type { P9OpenFlags, P9ReaddirOptions, P9WriteFileOptions } from './p9/P9Fs.js';
export { P9File } from './p9/P9File.js';
export type { P9LockRange, P9LockStatus } from './p9/P9File.js';
export { P9ReadStream } from './p9/P9ReadStream.js';
export type { P9ReadStreamOptions } from './p9/P9ReadStream.js';
export type { P9Dirent, P9SetAttrs } from './p9/dialect.js';
export type { P9Stat, P9StatFs, P9FileKind, P9Time } from './p9/stat.js';
export type { Qid } from './p9/wire.js';
export { P9Error, isP9Error, toErrno } from './p9/P9Error.js';
export { errnoName, errnoNumber } from './p9/errno.js';
export { connectWithRetry } from './p9/connectRetry.js';
export type { ConnectRetryOptions } from './p9/connectRetry.js';
export { detectImage, probeFilesystems, isEmptyDetection, allFilesystems, detectExitCodes } from './detect/detect.js';
export type { DetectOptions } from './detect/detect.js';
export { FileSource, CachedSource, Reader } from './detect/BlockSource.js';
export type { BlockSource } from './detect/BlockSource.js';
export { openContainer } from './detect/containers/index.js';
export type { OpenedContainer } from './detect/containers/index.js';
export type { MagicFormat } from './detect/magic.js';
export { openImage, explainNoGuest } from './session/openImage.js';
export type { OpenOptions, OpenedImage, OpenStep } from './session/openImage.js';
export { GuestSession, mountCommand } from './session/GuestSession.js';
export type { GuestSessionOptions, GuestExit, SessionStep } from './session/GuestSession.js';
export { selectTarget } from './session/selectTarget.js';
export type { MountTarget, TargetRequest } from './session/selectTarget.js';
// Extent reads: large files of read-only mounts read straight from the image.
export { ExtentReads, EXTENT_READS_MIN_SIZE } from './extents/ExtentReads.js';
export type { ExtentFile } from './extents/ExtentFile.js';
export { extentReadsFor } from './extents/extentReadsFor.js';
export { parseImageSpec } from './files/imageSpec.js';
export { listTree } from './files/listTree.js';
export { copyOut } from './files/copyOut.js';
