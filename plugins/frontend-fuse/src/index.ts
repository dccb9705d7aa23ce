// frontend-fuse: exposes a guest's 9P tree on a host mountpoint through FUSE (fuse-native).
import type { QemountPlugin } from '@qemount/core';
import { mountFuse } from './mountFuse.js';

export { mountFuse };
export type { FuseMountOptions, FuseMountHandle } from './mountFuse.js';
export { forceUnmount, unmountFuse, fuseMountsAt, mountTable, canonicalMountpoint } from './unmount.js';
export type { MountEntry, UnmountOptions } from './unmount.js';

const plugin: QemountPlugin = {
  name: 'frontend-fuse',
  apply(core) {
    core.hooks.frontend.for('fuse').tapPromise('frontend-fuse', (request) => mountFuse(request));
  },
};

export default plugin;
