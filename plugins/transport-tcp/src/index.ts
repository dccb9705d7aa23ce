// transport-tcp: turns { transport: 'tcp', host, port } into a connected TCP socket.
import { QemountError, type QemountPlugin } from '@qemount/core';
import { connectTcp } from './connectTcp.js';
import { forwardGuestPort } from './forwardGuestPort.js';

export { connectTcp, forwardGuestPort };

const plugin: QemountPlugin = {
  name: 'transport-tcp',
  apply(core) {
    core.hooks.qemuArgs.tapPromise('transport-tcp', forwardGuestPort);
    core.hooks.connect.for('tcp').tapPromise('transport-tcp', (address, options) => {
      if (!address.port) throw new QemountError('E_TRANSPORT_ADDRESS', 'a tcp transport address needs a port', { plugin: 'transport-tcp', hook: 'connect' });
      return connectTcp(address.host ?? '127.0.0.1', address.port, options);
    });
  },
};

export default plugin;
