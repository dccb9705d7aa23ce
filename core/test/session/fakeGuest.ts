// A control port with the test as the guest: a real unix socket, a ControlChannel on one end and
// the raw guest side (plus every line the host sent) on the other.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlChannel } from '../../src/session/ControlChannel.js';

export async function withGuest(run: (channel: ControlChannel, guest: Socket, received: string[]) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'qemount-control-'));
  const socketPath = join(dir, 'control.sock');
  let guest!: Socket;
  const server: Server = createServer((s) => (guest = s));
  await new Promise<void>((r) => server.listen(socketPath, r));
  const channel = new ControlChannel(createConnection(socketPath));
  await new Promise((r) => setTimeout(r, 50));
  const received: string[] = [];
  guest.setEncoding('utf8');
  guest.on('data', (d: string) => received.push(...d.trim().split('\n')));
  try {
    await run(channel, guest, received);
  } finally {
    channel.close();
    guest.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
