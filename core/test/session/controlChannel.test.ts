// The control channel's commands over a real socket, with the test as the guest: a command that
// timed out may still be answered later, and that late OK must not become the next command's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withGuest } from './fakeGuest.js';

test('a late OK for a command that timed out is not taken for the next command', () =>
  withGuest(async (channel, guest, received) => {
    await channel.command('SYNC', 100).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /did not answer SYNC within/));
    const poweroff = channel.command('POWEROFF', 2000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(received, ['SYNC', 'POWEROFF']);
    guest.write('OK synced\n');
    await new Promise((r) => setTimeout(r, 50));
    let settled = false;
    void poweroff.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.is(settled, false, 'POWEROFF must not take the late "OK synced"');
    guest.write('OK poweroff\n');
    assert.equal(await poweroff, { text: 'poweroff' });
  }));

test('a bare OK (a guest that does not name the command) answers the command', () =>
  withGuest(async (channel, guest) => {
    const sync = channel.command('SYNC', 2000);
    guest.write('OK\n');
    assert.equal(await sync, { text: '' });
  }));

test('ERR with the kernel log becomes an error carrying the guest message and its log lines', () =>
  withGuest(async (channel, guest) => {
    const mount = channel.command('MOUNT ext4 ro ext4 - -', 2000);
    guest.write("ERR mount: can't find ext4 filesystem\nLOG EXT4-fs (vda): VFS: Can't find ext4 filesystem\nEND\n");
    const error = await mount.then(() => assert.unreachable(), (e: unknown) => e as Error & { guestMessage: string; kernelLog: string[] });
    assert.is(error.guestMessage, "mount: can't find ext4 filesystem");
    assert.equal(error.kernelLog, ["EXT4-fs (vda): VFS: Can't find ext4 filesystem"]);
    assert.match(error.message, /^mount failed in the guest: /);
  }));

test.run();
