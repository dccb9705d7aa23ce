// Attributes, directory listings and symlink targets by path, each kept `ttlMs`. A listing fetched
// with its entries' attributes (one pipelined pass) fills the attribute cache, so the lookups that
// follow a readdir (`ls -l`) are answered without a round trip to the guest.
//
// Every change made through the mount invalidates what it touched; a fetch that started before
// such a change does not store its (possibly stale) result: fetches carry the generation they
// started at and the cache remembers which paths recent generations touched.
import { posix } from 'node:path';
import type { P9Dirent, P9Stat } from '@qemount/core';

interface Entry<T> {
  value: T;
  expires: number;
}

interface Change {
  gen: number;
  path: string;
  /** Everything below `path` changed too (rename, rmdir). */
  subtree: boolean;
}

/** How many recent changes are remembered for the staleness check (older fetches are dropped). */
const CHANGES_KEPT = 4096;
/** Above this many entries, expired ones are swept on insert. */
const SWEEP_AT = 50_000;

function isBelow(path: string, dir: string): boolean {
  return dir === '/' ? path !== '/' : path.startsWith(`${dir}/`);
}

export class AttrCache {
  private readonly stats = new Map<string, Entry<P9Stat>>();
  private readonly dirs = new Map<string, Entry<P9Dirent[]>>();
  private readonly links = new Map<string, Entry<string>>();
  private generation = 0;
  private readonly changes: Change[] = [];

  constructor(readonly ttlMs: number) {}

  /** The generation a fetch should remember when it starts. */
  get gen(): number {
    return this.generation;
  }

  stat(path: string): P9Stat | undefined {
    return this.get(this.stats, path);
  }

  dir(path: string): P9Dirent[] | undefined {
    return this.get(this.dirs, path);
  }

  link(path: string): string | undefined {
    return this.get(this.links, path);
  }

  setStat(path: string, stat: P9Stat, since: number): void {
    if (!this.stale(path, since)) this.set(this.stats, path, stat);
  }

  setLink(path: string, target: string, since: number): void {
    if (!this.stale(path, since)) this.set(this.links, path, target);
  }

  /** Stores a listing and, for entries that carry them, each entry's attributes. */
  setDir(path: string, entries: P9Dirent[], since: number): void {
    if (!this.ttlMs) return;
    if (!this.stale(path, since)) this.set(this.dirs, path, entries);
    for (const entry of entries) if (entry.stat) this.setStat(posix.join(path, entry.name), entry.stat, since);
  }

  /**
   * Forgets what is known about `path` (and everything below it with `subtree`), and its parent's
   * listing and attributes (a name appeared or went, the parent's mtime moved).
   */
  invalidate(path: string, options: { subtree?: boolean; parent?: boolean } = {}): void {
    const subtree = options.subtree ?? false;
    this.generation++;
    this.changes.push({ gen: this.generation, path, subtree });
    if (this.changes.length > CHANGES_KEPT) this.changes.splice(0, CHANGES_KEPT / 2);
    for (const map of [this.stats, this.dirs, this.links] as Map<string, unknown>[]) {
      map.delete(path);
      if (subtree) for (const key of map.keys()) if (isBelow(key, path)) map.delete(key);
    }
    if (options.parent ?? true) {
      const parent = posix.dirname(path);
      if (parent !== path) {
        this.generation++;
        this.changes.push({ gen: this.generation, path: parent, subtree: false });
        this.stats.delete(parent);
        this.dirs.delete(parent);
      }
    }
  }

  /** Forgets everything. */
  clear(): void {
    this.generation++;
    // No path is safe to store from a fetch that started before this.
    this.changes.length = 0;
    this.changes.push({ gen: this.generation, path: '/', subtree: true });
    this.stats.clear();
    this.dirs.clear();
    this.links.clear();
  }

  /** Did a change since generation `since` touch `path`? */
  private stale(path: string, since: number): boolean {
    if (since === this.generation) return false;
    const oldest = this.changes[0];
    if (!oldest || since < oldest.gen - 1) return true; // the record of those changes is gone
    for (let i = this.changes.length - 1; i >= 0 && this.changes[i].gen > since; i--) {
      const change = this.changes[i];
      if (change.path === path || (change.subtree && isBelow(path, change.path))) return true;
    }
    return false;
  }

  private get<T>(map: Map<string, Entry<T>>, path: string): T | undefined {
    const entry = map.get(path);
    if (!entry) return undefined;
    if (entry.expires > Date.now()) return entry.value;
    map.delete(path);
    return undefined;
  }

  private set<T>(map: Map<string, Entry<T>>, path: string, value: T): void {
    if (!this.ttlMs) return;
    const now = Date.now();
    if (map.size >= SWEEP_AT) {
      for (const [key, entry] of map) if (entry.expires <= now) map.delete(key);
      if (map.size >= SWEEP_AT * 2) map.clear();
    }
    map.set(path, { value, expires: now + this.ttlMs });
  }
}
