// QEMU's virtio-serial chardev (`-chardev socket,path=...,server=on,wait=off`) is a unix socket:
// connecting to it gives the byte stream of the guest's 9P port. The socket file appears only once
// qemu runs, so connecting retries until the deadline.
import { createConnection, type Socket } from 'node:net';
import { connectWithRetry, type ConnectOptions } from '@qemount/core';

export async function connectUnix(path: string, options: ConnectOptions = {}): Promise<Socket> {
  return connectWithRetry(() => createConnection({ path }), {
    timeoutMs: options.timeoutMs, signal: options.signal, describe: `unix socket ${path}`, plugin: 'transport-unix',
  });
}
