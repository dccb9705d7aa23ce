// A guest's 9P port reached over TCP: QEMU user-mode networking's hostfwd on loopback, or a remote
// server. Refused connections are retried until the deadline (the guest may still be booting).
import { createConnection, type Socket } from 'node:net';
import { connectWithRetry, type ConnectOptions } from '@qemount/core';

export async function connectTcp(host: string, port: number, options: ConnectOptions = {}): Promise<Socket> {
  const socket = await connectWithRetry(() => createConnection({ host, port }), {
    timeoutMs: options.timeoutMs, signal: options.signal, describe: `tcp ${host}:${port}`, plugin: 'transport-tcp',
  });
  // 9P is request/response with small messages: do not let Nagle hold them back.
  socket.setNoDelay(true);
  return socket;
}
