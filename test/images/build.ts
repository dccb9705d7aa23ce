// Builds the test images: all of them, or the ones named.
//   node --import tsx test/images/build.ts [--list] [--packages] [names...]
import { buildAll, corpus, corpusPackages } from './corpus.ts';

const args = process.argv.slice(2);
if (args.includes('--packages')) {
  console.log(corpusPackages().join('\n'));
} else if (args.includes('--list')) {
  for (const recipe of corpus.values()) console.log(`${recipe.name.padEnd(18)} ${recipe.kind.padEnd(9)} ${recipe.content.padEnd(4)} ${recipe.fill.padEnd(7)} ${recipe.description}`);
} else {
  const names = args.filter((a) => !a.startsWith('-'));
  const unknown = names.filter((n) => !corpus.has(n));
  if (unknown.length) {
    console.error(`unknown test image(s): ${unknown.join(', ')}\nknown: ${[...corpus.keys()].join(' ')}`);
    process.exit(2);
  }
  const all = names.length ? names : [...corpus.keys()];
  let done = 0;
  const results = await buildAll(all, (name, state, detail) => {
    done++;
    console.log(`[${String(done).padStart(2)}/${all.length}] ${state.padEnd(6)} ${name.padEnd(18)} ${detail}`);
  });
  const failed = [...results].filter(([, r]) => r instanceof Error);
  if (failed.length) {
    console.error(`\n${failed.length} image(s) failed: ${failed.map(([n]) => n).join(', ')}`);
    process.exit(1);
  }
}
