// Issue 2, acceptance 7: guest choice over the real built-in manifests — who is chosen, in what
// order, why, and why the others were turned down; site-config preferences and disabled guests.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Qemount } from '../../core/src/Qemount.ts';
import { resolveConfig } from '../../core/src/config/loadConfig.ts';
import type { SiteConfig } from '@qemount/registry';
import { builtinGuests, catalogueFormats, TempDirs } from './helpers.ts';

const guests = builtinGuests();
const temp = new TempDirs();

function core(config: SiteConfig = {}): Promise<Qemount> {
  return Qemount.create({ config: resolveConfig(config) });
}

const why = (choice: { rejected: { guest: string; why: string }[] }) => Object.fromEntries(choice.rejected.map((r) => [r.guest, r.why]));
const order = (choice: { candidates: { guest: string }[] }) => choice.candidates.map((c) => c.guest);

test('the manifests say what the cases below rely on', () => {
  assert.is(guests.get('linux-6').filesystems.ext4.access, 'rw');
  assert.is(guests.get('linux-6').filesystems.ufs1.access, 'ro');
  assert.is(guests.get('linux-2').filesystems.ufs1.access, 'ro');
  assert.is(guests.get('netbsd').filesystems.ufs1.access, 'rw');
  assert.is(guests.get('netbsd').filesystems.ext4.access, 'ro');
  assert.is(guests.get('netbsd').filesystems.squashfs, undefined);
  for (const id of ['linux-6', 'linux-2']) assert.is(guests.get(id).filesystems.squashfs.access, 'ro');
});

test('ext4 ro: linux-6 first, with its reasons; every guest that declares ext4 is a candidate', async () => {
  const choice = (await core()).chooseGuest({ fs: 'ext4', access: 'ro' });
  assert.equal(choice.request, { fs: 'ext4', access: 'ro' });
  assert.is(order(choice)[0], 'linux-6');
  assert.equal([...order(choice)].sort(), ['linux-2', 'linux-6', 'netbsd']);
  assert.equal(choice.rejected, []);
  const first = choice.candidates[0];
  assert.ok(first.reasons.includes(`stable driver (${guests.get('linux-6').filesystems.ext4.driver})`), first.reasons.join('; '));
  assert.ok(first.reasons.includes('guest priority 10'), first.reasons.join('; '));
  assert.is(first.support.driver, guests.get('linux-6').filesystems.ext4.driver);
  for (const c of choice.candidates) assert.ok(c.reasons.length > 0, `${c.guest} has reasons`);
  const scores = choice.candidates.map((c) => c.score);
  assert.equal(scores, [...scores].sort((a, b) => b - a), 'best first');
});

test('ext4 rw: linux-6 first and it "can write"; netbsd (ext4 read-only) is turned down', async () => {
  const choice = (await core()).chooseGuest({ fs: 'ext4', access: 'rw' });
  assert.is(order(choice)[0], 'linux-6');
  assert.ok(choice.candidates[0].reasons.includes('can write'));
  assert.not.ok(order(choice).includes('netbsd'));
  assert.is(why(choice).netbsd, 'mounts ext4 read-only only');
});

test('ufs1 rw: netbsd, the only guest that writes UFS; the Linux guests read it only', async () => {
  const choice = (await core()).chooseGuest({ fs: 'ufs1', access: 'rw' });
  assert.equal(order(choice), ['netbsd']);
  assert.ok(choice.candidates[0].reasons.includes('can write'));
  assert.equal(why(choice), { 'linux-6': 'mounts ufs1 read-only only', 'linux-2': 'mounts ufs1 read-only only' });
});

test('squashfs rw: no candidates; the rejections say read-only, or not supported', async () => {
  const choice = (await core()).chooseGuest({ fs: 'squashfs', access: 'rw' });
  assert.equal(choice.candidates, []);
  const reasons = why(choice);
  assert.match(reasons['linux-6'], /read-only/);
  assert.match(reasons['linux-2'], /read-only/);
  assert.is(reasons.netbsd, 'does not support squashfs');
});

test('squashfs ro works (the rw failure above is about access, not support)', async () => {
  const choice = (await core()).chooseGuest({ fs: 'squashfs', access: 'ro' });
  assert.equal([...order(choice)].sort(), ['linux-2', 'linux-6']);
  assert.is(why(choice).netbsd, 'does not support squashfs');
});

test('a filesystem no guest declares: every guest says it does not support it', async () => {
  const unsupported = catalogueFormats('fs').map((f) => f.id).find((id) => [...guests.values()].every((g) => !g.filesystems[id]));
  assert.ok(unsupported, 'the catalogue has a filesystem no built-in guest declares');
  const choice = (await core()).chooseGuest({ fs: unsupported!, access: 'ro' });
  assert.equal(choice.candidates, []);
  const expected = `does not support ${unsupported}`;
  assert.equal(why(choice), { 'linux-2': expected, 'linux-6': expected, netbsd: expected });
});

test('preferGuest in the config moves that guest to the front, and says so', async () => {
  const choice = (await core({ preferGuest: { ext4: 'netbsd' } })).chooseGuest({ fs: 'ext4', access: 'ro' });
  assert.is(order(choice)[0], 'netbsd');
  assert.is(choice.candidates[0].reasons[0], 'preferred in the site config');
  assert.ok(order(choice).includes('linux-6'), 'the others stay candidates');
  // Only for that filesystem.
  assert.is(order((await core({ preferGuest: { ext4: 'netbsd' } })).chooseGuest({ fs: 'ext3', access: 'ro' }))[0], 'linux-6');
});

test('preferGuest "*" applies to every filesystem; a per-filesystem entry wins over it', async () => {
  const q = await core({ preferGuest: { '*': 'linux-2', ext4: 'netbsd' } });
  assert.is(order(q.chooseGuest({ fs: 'ext3', access: 'ro' }))[0], 'linux-2');
  assert.is(order(q.chooseGuest({ fs: 'xfs', access: 'rw' }))[0], 'linux-2');
  assert.is(order(q.chooseGuest({ fs: 'ext4', access: 'ro' }))[0], 'netbsd');
});

test('a preferred guest that cannot give the access asked for is still turned down', async () => {
  const choice = (await core({ preferGuest: { ext4: 'netbsd' } })).chooseGuest({ fs: 'ext4', access: 'rw' });
  assert.is(order(choice)[0], 'linux-6');
  assert.is(why(choice).netbsd, 'mounts ext4 read-only only');
});

test('a guest disabled in the config is rejected with that reason', async () => {
  const choice = (await core({ guests: { 'linux-6': { disabled: true } } })).chooseGuest({ fs: 'ext4', access: 'ro' });
  assert.not.ok(order(choice).includes('linux-6'));
  assert.is(why(choice)['linux-6'], 'disabled in the site config');
  assert.ok(choice.candidates.length > 0, 'another guest takes over');
});

test('disabled wins over preferred', async () => {
  const choice = (await core({ preferGuest: { ufs1: 'netbsd' }, guests: { netbsd: { disabled: true } } })).chooseGuest({ fs: 'ufs1', access: 'rw' });
  assert.equal(choice.candidates, []);
  assert.is(why(choice).netbsd, 'disabled in the site config');
});

test('preferGuest and disabled read from a real config file', async () => {
  const dir = temp.make('qemount-choose-');
  const file = join(dir, 'qemount.config.json');
  writeFileSync(file, JSON.stringify({ preferGuest: { ext2: 'netbsd' }, guests: { 'linux-2': { disabled: true } } }));
  const q = await Qemount.create({ file });
  const choice = q.chooseGuest({ fs: 'ext2', access: 'rw' });
  assert.is(order(choice)[0], 'netbsd');
  assert.is(why(choice)['linux-2'], 'disabled in the site config');
});

test('--guest NAME: only that guest is considered', async () => {
  const q = await core();
  const choice = q.chooseGuest({ fs: 'ext4', access: 'ro', guest: 'linux-2' });
  assert.equal(order(choice), ['linux-2']);
  assert.equal(choice.rejected, []);
  const refused = q.chooseGuest({ fs: 'ufs2', access: 'rw', guest: 'linux-6' });
  assert.equal(refused.candidates, []);
  assert.equal(refused.rejected, [{ guest: 'linux-6', why: 'mounts ufs2 read-only only' }]);
});

test('a chooseGuest hook tap can rescore the candidates', async () => {
  const q = await core();
  q.hooks.chooseGuest.tap('test', (candidates) => candidates.map((c) => (c.guest === 'linux-2' ? { ...c, score: c.score + 500, reasons: [...c.reasons, 'test bonus'] } : c)));
  const choice = q.chooseGuest({ fs: 'ext4', access: 'ro' });
  assert.is(order(choice)[0], 'linux-2');
  assert.ok(choice.candidates[0].reasons.includes('test bonus'));
});

test.after(() => temp.cleanup());
test.run();
