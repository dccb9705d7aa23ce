// Build step: validates the data this repository ships (the catalogue, every built-in plugin's
// manifest, and the empty site config a start without a config file validates) with the same
// compiled validators the core uses, fails the build if any is invalid, and records each input with
// its validated form (defaults filled in) in registry/dist/prevalidated.json. The core then neither
// validates these exact inputs again nor loads the validators for them; any other input (an edited
// manifest, a third-party plugin, a site config file) is validated when it is read.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cataloguePath, loadValidators, prevalidatedFile } from '@qemount/registry';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const pluginsDir = join(root, 'plugins');
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** [schema, where it comes from, input] */
const inputs = [
  ...['fs', 'pt', 'container'].map((kind) => ['catalogue', cataloguePath(kind), readJson(cataloguePath(kind))]),
  ...readdirSync(pluginsDir, { withFileTypes: true })
    .map((entry) => join(pluginsDir, entry.name, 'qemount.json'))
    .filter((file) => existsSync(file))
    .map((file) => ['plugin-manifest', file, readJson(file)]),
  ['site-config', '(defaults)', {}],
];

const validators = await loadValidators();
const recorded = {};
const problems = [];
for (const [schema, from, data] of inputs) {
  const key = JSON.stringify(data);
  const validate = validators[schema];
  if (!validate(data)) {
    problems.push(`${relative(root, from) || from} is not a valid ${schema}:\n  ${validate.errors.map((e) => `${e.instancePath || '/'}: ${e.message}`).join('\n  ')}`);
    continue;
  }
  (recorded[schema] ??= {})[key] = JSON.stringify(data);
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
writeFileSync(prevalidatedFile, JSON.stringify(recorded) + '\n');
