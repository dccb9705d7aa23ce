// The kernel modules a guest needs: their dependency closure (from each module's own modinfo
// "depends" and "softdep pre:") in an order insmod can load them.
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { readModinfo } from './elf.js';

export interface KernelModule {
  name: string;
  /** Path relative to lib/modules/<version>. */
  path: string;
  depends: string[];
  softPre: string[];
}

const normalize = (name: string) => name.replace(/-/g, '_');

async function walk(dir: string, out: string[] = []): Promise<string[]> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path, out);
    else if (entry.name.endsWith('.ko')) out.push(path);
  }
  return out;
}

export class ModuleIndex {
  private constructor(
    readonly root: string,
    private readonly modules: Map<string, KernelModule>,
    /** Plain aliases (e.g. "crc32c", "fs-ext4") → the modules that provide them. */
    private readonly aliases: Map<string, string[]>,
  ) {}

  /** Indexes every .ko under lib/modules/<version>. */
  static async load(root: string): Promise<ModuleIndex> {
    const modules = new Map<string, KernelModule>();
    const aliases = new Map<string, string[]>();
    for (const file of await walk(root)) {
      const info = readModinfo(await readFile(file));
      const name = normalize(file.slice(file.lastIndexOf('/') + 1, -3));
      const depends = (info.get('depends')?.[0] ?? '').split(',').filter(Boolean).map(normalize);
      // "softdep=pre: crc32c post: x" — only what must load first matters here.
      const softPre = (info.get('softdep') ?? []).flatMap((s) => /pre:\s*([^:]*?)(?:\s+post:|$)/.exec(s)?.[1].split(/\s+/).filter(Boolean) ?? []).map(normalize);
      modules.set(name, { name, path: relative(root, file), depends, softPre });
      for (const alias of info.get('alias') ?? []) {
        if (/[*?[:]/.test(alias)) continue; // device-match patterns, not names
        const key = normalize(alias);
        aliases.set(key, [...(aliases.get(key) ?? []), name]);
      }
    }
    return new ModuleIndex(root, modules, aliases);
  }

  has(name: string): boolean {
    return this.modules.has(normalize(name));
  }

  /**
   * A module name, or the module providing an alias. Among several providers the portable
   * "_generic" one wins: e.g. crc32c_intel fails under TCG's CPU, which lacks SSE4.2.
   */
  private lookup(name: string): KernelModule | undefined {
    const direct = this.modules.get(normalize(name));
    if (direct) return direct;
    const providers = this.aliases.get(normalize(name)) ?? [];
    const pick = providers.find((p) => p.endsWith('_generic')) ?? providers[0];
    return pick ? this.modules.get(pick) : undefined;
  }

  /**
   * The modules to insmod, dependencies first. Soft dependencies are optional: ones that do not
   * exist are skipped, and ones reached only as soft dependencies are marked optional (an
   * accelerated crypto module may refuse a CPU that lacks its instructions; the kernel then uses
   * its built-in generic code).
   */
  closure(names: string[]): (KernelModule & { optional: boolean })[] {
    const ordered: KernelModule[] = [];
    const done = new Set<string>();
    const required = new Set<string>();
    const visit = (raw: string, isRequired: boolean, chain: string[]) => {
      const module = this.lookup(raw);
      const name = module?.name ?? normalize(raw);
      if (isRequired) required.add(name);
      if (done.has(name)) return;
      if (!module) {
        if (isRequired) throw new Error(`kernel module ${name} does not exist in this kernel${chain.length ? ` (needed by ${chain.join(' ← ')})` : ''}`);
        return;
      }
      done.add(name);
      for (const dep of module.softPre) visit(dep, false, [name, ...chain]);
      for (const dep of module.depends) visit(dep, isRequired, [name, ...chain]);
      ordered.push(module);
    };
    for (const name of names) visit(name, true, []);
    return ordered.map((m) => ({ ...m, optional: !required.has(m.name) }));
  }
}
