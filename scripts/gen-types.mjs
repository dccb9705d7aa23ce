// Derives from the JSON schemas (the single source of truth) the TypeScript types of manifests,
// site config and catalogue, and their validators compiled ahead of time by ajv (compiling them
// at every CLI start cost ~80 ms). Output: registry/src/generated/*.ts
import { compileFromFile } from 'json-schema-to-typescript';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const registry = join(dirname(fileURLToPath(import.meta.url)), '..', 'registry');
const outDir = join(registry, 'src', 'generated');
await mkdir(outDir, { recursive: true });
for (const file of await readdir(join(registry, 'schemas'))) {
  if (!file.endsWith('.schema.json')) continue;
  const ts = await compileFromFile(join(registry, 'schemas', file), {
    bannerComment: `// Generated from registry/schemas/${file} by scripts/gen-types.mjs. Do not edit.`,
    additionalProperties: false,
    style: { singleQuote: true },
  });
  const out = join(outDir, file.replace('.schema.json', '.ts'));
  // Rewrite only on change so tsc -b stays incremental.
  const old = await readFile(out, 'utf8').catch(() => '');
  if (old !== ts) await writeFile(out, ts);
}

// Validators: the same options the core used to compile them with at run time.
const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, code: { source: true, esm: true } });
const exportsByName = {};
for (const file of (await readdir(join(registry, 'schemas'))).filter((f) => f.endsWith('.schema.json')).sort()) {
  const schema = JSON.parse(await readFile(join(registry, 'schemas', file), 'utf8'));
  const name = file.replace('.schema.json', '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
  ajv.addSchema(schema);
  exportsByName[name] = schema.$id;
}
// ajv's standalone code still require()s a few runtime helpers, even as ESM.
const validators = `// Generated from registry/schemas/*.schema.json by scripts/gen-types.mjs. Do not edit.\n// @ts-nocheck\nimport { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n${standaloneCode.default(ajv, exportsByName)}\n`;
const validatorsFile = join(outDir, 'validators.ts');
if ((await readFile(validatorsFile, 'utf8').catch(() => '')) !== validators) await writeFile(validatorsFile, validators);
