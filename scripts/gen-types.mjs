// Derives the TypeScript types of manifests, site config and catalogue from their JSON schemas,
// so the schemas stay the single source of truth. Output: registry/src/generated/*.ts
import { compileFromFile } from 'json-schema-to-typescript';
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
