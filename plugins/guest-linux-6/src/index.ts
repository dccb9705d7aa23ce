import type { QemountPlugin } from '@qemount/core';
import { Linux6Guest } from './Linux6Guest.js';

const plugin: QemountPlugin = {
  name: 'guest-linux-6',
  apply(core) {
    core.hooks.guest.for('linux-6').tapPromise('guest-linux-6', async () => new Linux6Guest(core));
  },
};
export default plugin;
