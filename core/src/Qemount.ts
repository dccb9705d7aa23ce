// The engine: a frozen set of tapable hooks plus the registry of plugins, catalogue and site
// config. Plugins only tap hooks; everything the CLI does goes through this class.
import { AsyncParallelHook, AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook, HookMap, SyncWaterfallHook } from 'tapable';
import { pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import type { GuestDeclaration } from '@qemount/registry';
import { Catalogue } from './catalogue/Catalogue.js';
import { loadConfig, type LoadConfigOptions, type ResolvedConfig } from './config/loadConfig.js';
import { discoverBuiltinPlugins, locateConfiguredPlugin } from './plugins/discoverPlugins.js';
import { checkManifestAgainstCatalogue } from './plugins/checkManifest.js';
import type { PluginRecord, QemountPlugin } from './plugins/PluginRecord.js';
import type { DetectedDisk } from './detect/types.js';
import type { GuestDriver } from './guests/GuestDriver.js';
import type { P9Fs } from './p9/P9Fs.js';
import type { ExtentReads } from './extents/ExtentReads.js';
import { chooseGuest, type GuestCandidate, type GuestChoice, type GuestChoiceRequest } from './guests/chooseGuest.js';
import { QemountError } from './QemountError.js';

export interface DetectRequest {
  /** Absolute path of the image file. */
  image: string;
}

export interface TransportAddress {
  /** Transport id (unix, tcp, ...). */
  transport: string;
  /** unix: socket path. */
  path?: string;
  /** tcp: host and port. */
  host?: string;
  port?: number;
}

export interface ConnectOptions {
  /** Give up connecting after this many milliseconds (the guest may still be booting). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Everything about one qemu launch that a qemuArgs tap may want to look at. */
export interface LaunchContext {
  guest: string;
  fs?: string;
  transport: string;
  readOnly: boolean;
  /** The session's folder (sockets, logs). */
  dir: string;
  /**
   * Where the host will reach the guest's 9P server: by default the virtio-serial port's unix
   * socket; a transport that serves 9P another way (tcp) sets its own here.
   */
  address: TransportAddress;
  [key: string]: unknown;
}

export interface MountContext {
  image: string;
  guest: string;
  fs: string;
  readOnly: boolean;
  mountpoint?: string;
  [key: string]: unknown;
}

export interface FrontendRequest {
  /** Where to expose the tree (an existing, empty directory). */
  mountpoint: string;
  /** The guest's 9P tree. */
  fs: P9Fs;
  /** Refuse every write (EROFS) when true. */
  readOnly: boolean;
  /** What the host's mount table shows as the source, e.g. "qemount:disk.img". */
  source: string;
  /** Reads large files straight from the image (read-only mounts of filesystems that allow it). */
  extents?: ExtentReads;
}

export interface FrontendHandle {
  /** Stops serving and detaches the mountpoint. */
  close(): Promise<void>;
}

export interface GuestInfo {
  id: string;
  plugin: PluginRecord;
  declaration: GuestDeclaration;
}

function createHooks() {
  return Object.freeze({
    /** AsyncSeriesBailHook — runs when an image is inspected; the first tap to return a tree wins. */
    detect: new AsyncSeriesBailHook<[DetectRequest], DetectedDisk | undefined>(['request']),
    /** SyncWaterfallHook — runs when a guest is chosen for a filesystem; each tap may rescore, add or drop candidates. */
    chooseGuest: new SyncWaterfallHook<[GuestCandidate[], GuestChoiceRequest]>(['candidates', 'request']),
    /** HookMap of AsyncSeriesBailHook keyed by guest id — runs when a guest is needed; its plugin returns the driver. */
    guest: new HookMap(() => new AsyncSeriesBailHook<[], GuestDriver | undefined>([])),
    /** AsyncSeriesWaterfallHook — runs just before qemu starts; each tap transforms the argument list (and may set context.address). */
    qemuArgs: new AsyncSeriesWaterfallHook<[string[], LaunchContext]>(['args', 'context']),
    /** HookMap of AsyncSeriesBailHook keyed by transport id — runs when the host connects to a guest's 9P server; returns the byte stream. */
    connect: new HookMap(() => new AsyncSeriesBailHook<[TransportAddress, ConnectOptions], Duplex | undefined>(['address', 'options'])),
    /** HookMap of AsyncSeriesBailHook keyed by frontend id — runs when a mount is exposed to the user; returns a handle to close it. */
    frontend: new HookMap(() => new AsyncSeriesBailHook<[FrontendRequest], FrontendHandle | undefined>(['request'])),
    /** AsyncSeriesHook — runs before a guest is booted for a mount. */
    beforeMount: new AsyncSeriesHook<[MountContext]>(['mount']),
    /** AsyncSeriesHook — runs once the mount is usable. */
    afterMount: new AsyncSeriesHook<[MountContext]>(['mount']),
    /** AsyncSeriesHook — runs when a mount is taken down, before the guest powers off. */
    unmount: new AsyncSeriesHook<[MountContext]>(['mount']),
    /** AsyncParallelHook — runs when an operation fails, to notify. */
    failed: new AsyncParallelHook<[QemountError, Record<string, unknown>]>(['error', 'context']),
  });
}

export type QemountHooks = ReturnType<typeof createHooks>;

export interface QemountOptions extends LoadConfigOptions {
  /** Use this config instead of searching for one. */
  config?: ResolvedConfig;
  /** Where built-in plugins live (default: the installation's plugins/ folder). */
  builtinPluginsDir?: string;
}

export class Qemount {
  readonly hooks: QemountHooks = createHooks();
  readonly config: ResolvedConfig;
  readonly catalogue: Catalogue;
  /** Every plugin found, by name; code loaded only on use. */
  readonly plugins: ReadonlyMap<string, PluginRecord>;
  private readonly applied = new Map<string, Promise<void>>();

  private constructor(config: ResolvedConfig, catalogue: Catalogue, plugins: Map<string, PluginRecord>) {
    this.config = config;
    this.catalogue = catalogue;
    this.plugins = plugins;
  }

  /** Reads the site config, the catalogue and every plugin manifest (validated). Loads no plugin code. */
  static async create(options: QemountOptions = {}): Promise<Qemount> {
    const config = options.config ?? (await loadConfig(options));
    const catalogue = await Catalogue.load();
    const records = await discoverBuiltinPlugins(options.builtinPluginsDir);
    for (const [index, spec] of config.plugins.entries()) records.push(await locateConfiguredPlugin(spec, index, config.file));
    const plugins = new Map<string, PluginRecord>();
    for (const record of records) {
      const earlier = plugins.get(record.name);
      if (earlier) {
        throw new QemountError('E_PLUGIN_DUPLICATE', `two plugins are named "${record.name}": ${earlier.manifestFile} and ${record.manifestFile}`, {
          hint: 'remove one of them from the site config',
        });
      }
      checkManifestAgainstCatalogue(record, catalogue);
      plugins.set(record.name, record);
    }
    const core = new Qemount(config, catalogue, plugins);
    core.checkIdsAreUnique();
    // Built-in detection, tapped before any plugin; its code loads on first use.
    const magic = catalogue.list('fs').filter((f) => f.magic?.length).map((f) => ({ id: f.id, magic: f.magic! }));
    core.hooks.detect.tapPromise('qemount:detect', async ({ image }) => (await import('./detect/detect.js')).detectImage(image, { magic }));
    return core;
  }

  private checkIdsAreUnique(): void {
    const seen = new Map<string, PluginRecord>();
    for (const record of this.plugins.values()) {
      const kind = record.manifest.kind;
      const id = record.manifest[kind]!.id;
      const key = `${kind}:${id}`;
      const other = seen.get(key);
      if (other) {
        throw new QemountError('E_PLUGIN_DUPLICATE', `${record.manifestFile}: /${kind}/id "${id}" is already provided by ${other.manifestFile}`);
      }
      seen.set(key, record);
    }
  }

  /** Imports a plugin's code (once) and lets it tap the hooks. */
  async use(pluginName: string): Promise<void> {
    const record = this.plugins.get(pluginName);
    if (!record) throw new QemountError('E_PLUGIN_NOT_FOUND', `no plugin named "${pluginName}" is installed`, { hint: 'qemount guests   (lists the installed guests)' });
    let pending = this.applied.get(pluginName);
    if (!pending) {
      pending = this.applyPlugin(record);
      this.applied.set(pluginName, pending);
    }
    return pending;
  }

  private async applyPlugin(record: PluginRecord): Promise<void> {
    const file = join(record.dir, record.manifest.entry);
    let plugin: QemountPlugin | undefined;
    try {
      plugin = ((await import(pathToFileURL(file).href)) as { default?: QemountPlugin }).default;
    } catch (error) {
      throw new QemountError('E_PLUGIN_LOAD', `cannot load plugin "${record.name}" from ${file}: ${(error as Error).message}`, {
        cause: error,
        plugin: record.name,
        hint: record.source === 'built-in' ? 'npm run build   (in the qemount folder)' : `reinstall the plugin, or check /entry in ${record.manifestFile}`,
      });
    }
    if (!plugin || typeof plugin.apply !== 'function' || plugin.name !== record.name) {
      throw new QemountError('E_PLUGIN_LOAD', `${file} must export default { name: "${record.name}", apply(core) }`, { plugin: record.name });
    }
    await plugin.apply(this);
  }

  /** Plugins of one kind. */
  pluginsOfKind(kind: 'guest' | 'transport' | 'frontend'): PluginRecord[] {
    return [...this.plugins.values()].filter((p) => p.manifest.kind === kind);
  }

  /** The plugin providing a transport (`unix`, `tcp`, ...). */
  transportPlugin(id: string): PluginRecord {
    return this.providerOf('transport', id);
  }

  /** The plugin providing a frontend (`fuse`, ...). */
  frontendPlugin(id: string): PluginRecord {
    return this.providerOf('frontend', id);
  }

  private providerOf(kind: 'transport' | 'frontend', id: string): PluginRecord {
    const all = this.pluginsOfKind(kind);
    const found = all.find((p) => p.manifest[kind]!.id === id);
    if (!found) {
      throw new QemountError('E_PLUGIN_NOT_FOUND', `no ${kind} named "${id}" is installed (installed: ${all.map((p) => p.manifest[kind]!.id).join(', ') || 'none'})`, {
        hint: `choose one of those, or install the plugin that provides "${id}"`,
      });
    }
    return found;
  }

  /** Every installed guest with its declaration (from manifests; no code loaded). */
  guests(): GuestInfo[] {
    return this.pluginsOfKind('guest').map((plugin) => ({ id: plugin.manifest.guest!.id, plugin, declaration: plugin.manifest.guest! }));
  }

  /** A guest by id, or by its plugin name. */
  guest(idOrName: string): GuestInfo {
    const found = this.guests().find((g) => g.id === idOrName || g.plugin.name === idOrName);
    if (!found) {
      throw new QemountError('E_GUEST_UNKNOWN', `no guest named "${idOrName}" is installed (installed: ${this.guests().map((g) => g.id).join(', ')})`, {
        hint: 'qemount guests   (lists them)',
      });
    }
    return found;
  }

  /** Loads a guest's plugin and returns its driver. */
  async guestDriver(id: string): Promise<GuestDriver> {
    const guest = this.guest(id);
    await this.use(guest.plugin.name);
    const driver = await this.hooks.guest.get(guest.id)?.promise();
    if (!driver) {
      throw new QemountError('E_PLUGIN_LOAD', `plugin "${guest.plugin.name}" did not provide a driver for guest "${guest.id}"`, {
        plugin: guest.plugin.name,
        hook: 'guest',
      });
    }
    return driver;
  }

  /** What is inside an image: container, partition tables, partitions, filesystems (the `detect` hook). */
  async detect(image: string): Promise<DetectedDisk> {
    const path = resolve(image);
    const disk = await this.hooks.detect.promise({ image: path });
    if (!disk) throw new QemountError('E_DETECT_UNKNOWN', `nothing could detect what is inside ${path}`, { hook: 'detect', exitCode: 8 });
    return disk;
  }

  /** Ranks the guests that can mount a filesystem; the first is the choice. */
  chooseGuest(request: GuestChoiceRequest): GuestChoice {
    return chooseGuest(this, request);
  }
}
