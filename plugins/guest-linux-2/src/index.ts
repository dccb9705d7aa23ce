import { PrebuiltGuest, type QemountPlugin } from '@qemount/core';

const plugin: QemountPlugin = {
  name: 'guest-linux-2',
  apply(core) {
    core.hooks.guest.for('linux-2').tapPromise('guest-linux-2', async () =>
      new PrebuiltGuest(core, {
        id: 'linux-2',
        whyNotBuildable:
          'Linux 2.6.39 is not packaged by Debian, and building it from kernel.org sources needs the network and a GCC 4-era toolchain (current GCC cannot compile it)',
      }),
    );
  },
};
export default plugin;
