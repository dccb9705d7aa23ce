// transport-unix: turns { transport: 'unix', path } into a connected unix socket.
import { QemountError, type QemountPlugin } from '@qemount/core';
import { connectUnix } from './connectUnix.js';

export { connectUnix };

const plugin: QemountPlugin = {
  name: 'transport-unix',
  apply(core) {
    core.hooks.connect.for('unix').tapPromise('transport-unix', (address, options) => {
      if (!address.path) throw new QemountError('E_TRANSPORT_ADDRESS', 'a unix transport address needs a socket path', { plugin: 'transport-unix', hook: 'connect' });
      return connectUnix(address.path, options);
    });
  },
};

export default plugin;
