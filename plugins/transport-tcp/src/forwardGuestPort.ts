// The qemu side of the tcp transport: user-mode networking with the guest's 9P port (564)
// forwarded to a free loopback port, and the kernel told to serve 9P on TCP.
import { createServer } from 'node:net';
import type { LaunchContext } from '@qemount/core';

export const guestAddress = '10.0.2.15';
export const ninepPort = 564;

/** A loopback port nobody listens on now. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function forwardGuestPort(args: string[], context: LaunchContext): Promise<string[]> {
  if (context.transport !== 'tcp') return args;
  const port = await freeLoopbackPort();
  context.address = { transport: 'tcp', host: '127.0.0.1', port };
  const microvm = args[args.indexOf('-machine') + 1]?.startsWith('microvm');
  const out = [...args];
  const append = out.indexOf('-append') + 1;
  // The guest's init reads this and serves 9P on TCP instead of the virtio-serial port.
  out[append] = `${out[append]} qemount.9p=tcp`;
  // restrict=on: the guest reaches nothing but what is forwarded to it.
  out.push('-netdev', `user,id=qemount-net,restrict=on,hostfwd=tcp:127.0.0.1:${port}-${guestAddress}:${ninepPort}`);
  out.push('-device', `${microvm ? 'virtio-net-device' : 'virtio-net-pci'},netdev=qemount-net`);
  return out;
}
