import { PrebuiltGuest, type QemountPlugin } from '@qemount/core';

const plugin: QemountPlugin = {
  name: 'guest-netbsd',
  apply(core) {
    core.hooks.guest.for('netbsd').tapPromise('guest-netbsd', async () =>
      new PrebuiltGuest(core, {
        id: 'netbsd',
        whyNotBuildable:
          "NetBSD 10's kernel and release sets come from cdn.netbsd.org, which this host cannot reach, and its ramdisk needs a 9P server cross-built for NetBSD",
      }),
    );
  },
};
export default plugin;
