// Issue 2, acceptance 5: CLI basics through the compiled binary — version, help of the program
// and of every command, suggestions for a mistyped command, `formats` and `guests` rendered from
// the catalogue and the manifests exactly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../core/src/cli/main.ts';
import { builtinGuests, catalogueFormats, parseJson, readJson, repoRoot, runCli, stackLine, TempDirs } from './helpers.ts';

const temp = new TempDirs();
const root = temp.make('qemount-cli-');
// An explicit, empty site config: no user or project config can change what is listed.
const config = join(root, 'empty.qemount.json');
writeFileSync(config, '{}\n');
const env = { QEMOUNT_CACHE_DIR: join(root, 'cache'), QEMOUNT_STATE_DIR: join(root, 'state') };
const cli = (args: string[]) => runCli(['--config', config, ...args], { env, cwd: root });
const guests = builtinGuests();
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Command names listed under "Commands:" in a help text (without `help`). */
function listedCommands(help: string): string[] {
  const section = help.split(/^Commands:\s*$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]).filter((n) => n !== 'help');
}

test('--version prints the version of package.json', async () => {
  const run = await runCli(['--version']);
  assert.is(run.code, 0);
  assert.is(run.stdout.trim(), readJson(join(repoRoot, 'core', 'package.json')).version);
  assert.is(run.stdout.trim(), readJson(join(repoRoot, 'package.json')).version, 'core and the root package agree');
  assert.is((await runCli(['-V'])).stdout, run.stdout);
});

test('--help of the program: usage, description, --config, and the commands', async () => {
  const run = await runCli(['--help']);
  assert.is(run.code, 0);
  assert.match(run.stdout, /^Usage: qemount \[options\] \[command\]/);
  assert.match(squash(run.stdout), /Mount any disk image by booting a tiny QEMU VM per mount/);
  assert.match(run.stdout, /--config <file>/);
  assert.match(run.stdout, /-V, --version/);
  const names = listedCommands(run.stdout);
  for (const name of ['formats', 'guests', 'doctor', 'detect', 'guest', 'ls', 'cat', 'cp']) assert.ok(names.includes(name), `${name} is listed: ${names}`);
});

/** Every command as the user types it, found from the help output (subcommands too). */
async function allCommands(): Promise<string[][]> {
  const out: string[][] = [];
  const walk = async (path: string[]) => {
    const help = await runCli([...path, '--help']);
    assert.is(help.code, 0, `${path.join(' ')} --help`);
    const subs = listedCommands(help.stdout);
    if (path.length) out.push(path);
    for (const sub of subs) await walk([...path, sub]);
  };
  await walk([]);
  return out;
}

function modelOf(program: Command, path: string[]): Command {
  let command = program;
  for (const name of path) command = command.commands.find((c) => c.name() === name)!;
  return command;
}

test('--help of every command exits 0 and shows its usage, description and options', async () => {
  const commands = await allCommands();
  const typed = commands.map((c) => c.join(' '));
  for (const name of ['formats', 'guests', 'doctor', 'detect', 'guest build', 'ls', 'cat', 'cp']) assert.ok(typed.includes(name), `${name} found in the help: ${typed}`);
  const program = buildProgram();
  for (const path of commands) {
    const run = await runCli([...path, '--help']);
    const name = path.join(' ');
    assert.is(run.code, 0, `${name} --help exit code`);
    assert.match(run.stdout, new RegExp(`^Usage: qemount ${name}(\\|\\S+)? `), `${name}: usage line`);
    const model = modelOf(program, path);
    assert.ok(model, `${name} exists in the program`);
    const description = model.description();
    assert.ok(description.length > 10, `${name} has a description`);
    assert.ok(squash(run.stdout).includes(squash(description)), `${name} --help shows its description`);
    assert.match(run.stdout, /^Options:$/m, `${name}: an Options section`);
    assert.match(run.stdout, /-h, --help/);
    for (const option of model.options) {
      assert.ok(run.stdout.includes(option.flags), `${name} --help shows ${option.flags}`);
      assert.ok(option.description && squash(run.stdout).includes(squash(option.description)), `${name} ${option.flags} has its description`);
    }
    for (const argument of model.registeredArguments) {
      assert.ok(run.stdout.includes(argument.name()), `${name} --help shows <${argument.name()}>`);
    }
  }
  // Commands that take options list more than --help.
  for (const name of ['formats', 'guests', 'doctor', 'detect', 'guest build', 'ls', 'cat', 'cp']) {
    assert.ok(modelOf(program, name.split(' ')).options.length > 0, `${name} has options`);
  }
});

test('a run registers only the command it runs, found by its name or alias after --config', () => {
  const all = buildProgram();
  for (const command of all.commands) {
    for (const name of [command.name(), ...command.aliases()]) {
      for (const args of [[name, 'x'], ['--config', 'c.json', name], ['--config=c.json', name]]) {
        const names = buildProgram(['node', 'qemount', ...args]).commands.map((c) => c.name());
        assert.ok(names.includes(command.name()), `${args.join(' ')} registers ${command.name()}: ${names}`);
        assert.ok(names.length < all.commands.length, `${args.join(' ')} registers only what it runs: ${names}`);
      }
    }
  }
  for (const args of [[], ['--help'], ['-V'], ['help', 'detect'], ['fromats'], ['--jsn', 'detect']]) {
    assert.is(buildProgram(['node', 'qemount', ...args]).commands.length, all.commands.length, `${args.join(' ')}: every command`);
  }
});

test('a mistyped command (fromats) exits non-zero and suggests formats', async () => {
  const run = await runCli(['fromats']);
  assert.ok(run.code !== 0, `exit code ${run.code}`);
  assert.match(run.stderr, /unknown command 'fromats'/);
  assert.match(run.stderr, /Did you mean formats\?/);
  assert.not.match(run.stderr, stackLine);
  assert.is(run.stdout, '');
});

test('a mistyped option (formats --jsn) exits non-zero and suggests --json', async () => {
  const run = await runCli(['formats', '--jsn']);
  assert.ok(run.code !== 0);
  assert.match(run.stderr, /unknown option '--jsn'/);
  assert.match(run.stderr, /Did you mean --json\?/);
});

const fsFormats = catalogueFormats('fs');
const ptFormats = catalogueFormats('pt');

test('formats --json: every catalogue fs and pt, in catalogue order, with the catalogue texts', async () => {
  const run = await cli(['formats', '--json']);
  assert.is(run.code, 0, run.stderr);
  const matrix = parseJson(run);
  assert.equal(matrix.guests, ['linux-2', 'linux-6', 'netbsd']);
  assert.equal(matrix.rows.filter((r: any) => r.kind === 'fs').map((r: any) => r.id), fsFormats.map((f) => f.id));
  assert.equal(matrix.rows.filter((r: any) => r.kind === 'pt').map((r: any) => r.id), ptFormats.map((f) => f.id));
  assert.is(matrix.rows.length, fsFormats.length + ptFormats.length, 'no container rows');
  for (const row of matrix.rows) {
    const format = (row.kind === 'fs' ? fsFormats : ptFormats).find((f) => f.id === row.id);
    assert.is(row.name, format.name);
    assert.is(row.description, format.description);
    assert.is(row.origin, format.origin);
    assert.equal(row.aliases, format.aliases ?? []);
  }
});

test('formats --json: per-guest access matches the manifests exactly, for every guest and format', async () => {
  const matrix = parseJson(await cli(['formats', '--json']));
  let cells = 0;
  for (const row of matrix.rows) {
    assert.equal(Object.keys(row.guests).sort(), [...guests.keys()].sort(), `${row.id}: one cell per guest`);
    for (const [id, guest] of guests) {
      const declared = row.kind === 'fs' ? guest.filesystems[row.id] : guest.partitionTables[row.id];
      const cell = row.guests[id];
      cells++;
      if (!declared) {
        assert.is(cell, null, `${row.kind} ${row.id} / ${id}: not declared, so null`);
        continue;
      }
      assert.ok(cell, `${row.kind} ${row.id} / ${id}: declared ${declared.access}`);
      assert.is(cell.access, declared.access, `${row.kind} ${row.id} / ${id}`);
      assert.ok(cell.access === 'rw' || cell.access === 'ro');
      assert.is(cell.driver, declared.driver);
      assert.is(cell.note, declared.note);
      if (row.kind === 'fs') {
        assert.is(cell.quality, declared.quality ?? 'stable');
        assert.is(cell.tested, declared.tested ?? false);
      }
    }
    // The picks are consistent with the cells: a guest that can do it, or null when none can.
    const able = (access: 'ro' | 'rw') => Object.entries<any>(row.guests).filter(([, c]) => c && (access === 'ro' || c.access === 'rw')).map(([g]) => g);
    for (const access of ['ro', 'rw'] as const) {
      if (able(access).length) assert.ok(able(access).includes(row.pick[access]), `${row.id} ${access} pick ${row.pick[access]} is one of ${able(access)}`);
      else assert.is(row.pick[access], null, `${row.id}: nobody can ${access}`);
    }
  }
  assert.is(cells, (fsFormats.length + ptFormats.length) * guests.size);
});

test('formats --kind pt shows only partition tables (json and text)', async () => {
  const json = await cli(['formats', '--kind', 'pt', '--json']);
  assert.is(json.code, 0, json.stderr);
  const matrix = parseJson(json);
  assert.ok(matrix.rows.every((r: any) => r.kind === 'pt'));
  assert.equal(matrix.rows.map((r: any) => r.id), ptFormats.map((f) => f.id));
  const text = await cli(['formats', '--kind', 'pt']);
  assert.is(text.code, 0, text.stderr);
  const lines = text.stdout.split('\n');
  assert.match(lines[0], /^partition table\s+linux-2\s+linux-6\s+netbsd\s+pick\s+origin\s+description$/);
  assert.not.ok(lines.some((l) => l.startsWith('filesystem ')), 'no filesystem table');
  assert.not.ok(lines.some((l) => /^ext4\s/.test(l)), 'no ext4 row');
  assert.match(text.stdout, /^gpt\s+rw\s+rw\s+rw\s/m);
  const kind = await cli(['formats', '--kind', 'fs', '--json']);
  assert.ok(parseJson(kind).rows.every((r: any) => r.kind === 'fs'));
  const bad = await cli(['formats', '--kind', 'container']);
  assert.ok(bad.code !== 0);
  assert.match(bad.stderr, /Allowed choices are fs, pt/);
});

test('formats (text): one column per guest with rw / ro / — as the manifests say', async () => {
  const run = await cli(['formats', '--kind', 'fs']);
  assert.is(run.code, 0, run.stderr);
  const lines = run.stdout.split('\n');
  assert.match(lines[0], /^filesystem\s+linux-2\s+linux-6\s+netbsd\s+pick\s+origin\s+description$/);
  const cell = (fs: string, id: string) => {
    const s = guests.get(id).filesystems[fs];
    return s ? s.access + (s.tested ? '*' : '') : '—';
  };
  for (const fs of ['ext4', 'ufs1', 'squashfs', 'befs']) {
    const line = lines.find((l) => l.startsWith(`${fs} `));
    assert.ok(line, `${fs} row`);
    assert.equal(line!.split(/\s+/).slice(1, 4), ['linux-2', 'linux-6', 'netbsd'].map((g) => cell(fs, g)), `${fs}: ${line}`);
  }
  assert.match(run.stdout, /rw: read-write {2}ro: read-only/);
});

test('formats --guest with an unknown guest fails with the installed ones named', async () => {
  const run = await cli(['formats', '--guest', 'beos']);
  assert.is(run.code, 1);
  assert.match(run.stderr, /^error: no guest named "beos" is installed \(installed: linux-2, linux-6, netbsd\)/);
  assert.not.match(run.stderr, stackLine);
});

test('guests --json: linux-2, linux-6, netbsd with counts equal to the manifests', async () => {
  const run = await cli(['guests', '--json']);
  assert.is(run.code, 0, run.stderr);
  const list = parseJson<any[]>(run);
  assert.equal(list.map((g) => g.id).sort(), ['linux-2', 'linux-6', 'netbsd']);
  for (const entry of list) {
    const guest = guests.get(entry.id);
    const fs = Object.values<any>(guest.filesystems);
    assert.is(entry.plugin, `guest-${entry.id}`);
    assert.is(entry.source, 'built-in');
    assert.is(entry.system, guest.system);
    assert.is(entry.arch, guest.arch);
    assert.equal(entry.filesystems, { rw: fs.filter((f) => f.access === 'rw').length, ro: fs.filter((f) => f.access === 'ro').length, total: fs.length });
    assert.is(entry.partitionTables, Object.keys(guest.partitionTables).length);
    assert.type(entry.assets.present, 'boolean');
    assert.ok(entry.assets.detail.length > 0);
    if (!entry.assets.present) assert.ok(entry.assets.fix, `${entry.id}: missing assets come with a fix`);
  }
});

test('guests (text): a table with each guest and its counts', async () => {
  const run = await cli(['guests']);
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /^guest\s+source\s+system\s+filesystems\s+tables\s+assets$/m);
  for (const [id, guest] of guests) {
    const fs = Object.values<any>(guest.filesystems);
    const rw = fs.filter((f) => f.access === 'rw').length;
    assert.match(run.stdout, new RegExp(`^${id}\\s+built-in\\s+.*\\s${rw} rw \\+ ${fs.length - rw} ro\\s+${Object.keys(guest.partitionTables).length}\\s+(present|missing)$`, 'm'));
  }
});

test.after(() => temp.cleanup());
test.run();
