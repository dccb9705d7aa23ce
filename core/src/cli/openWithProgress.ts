// Runs openImage with a listr2 progress view on stderr (stdout may carry file data), one task
// per step with its time; silent when stderr is not a terminal.
import { Listr, ListrLogger, ProcessOutput } from 'listr2';
import type { Qemount } from '../Qemount.js';
import { openImage, type OpenedImage, type OpenOptions, type OpenStep } from '../session/openImage.js';

const titles: Record<OpenStep, string> = {
  detect: 'detect',
  guest: 'guest',
  boot: 'boot',
  mount: 'mount in guest',
  serve: 'connect 9P',
};
const order: OpenStep[] = ['detect', 'guest', 'boot', 'mount', 'serve'];

interface Gate {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
  detail?: string;
}

function gate(): Gate {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export async function openWithProgress(core: Qemount, image: string, options: OpenOptions & { quiet?: boolean }): Promise<OpenedImage> {
  const gates = new Map(order.map((s) => [s, gate()] as const));
  let reached = 0;
  const onStep = (step: OpenStep, detail?: string) => {
    const index = order.indexOf(step);
    if (detail) gates.get(step)!.detail = detail;
    // A step starting means every step before it is done.
    for (; reached < index; reached++) gates.get(order[reached])!.resolve();
    options.onStep?.(step, detail);
  };
  const opening = openImage(core, image, { ...options, onStep });
  opening.then(
    () => order.forEach((s) => gates.get(s)!.resolve()),
    (error) => order.forEach((s) => gates.get(s)!.reject(error)),
  );
  const interactive = Boolean(process.stderr.isTTY) && !options.quiet;
  const list = new Listr(
    order.map((step) => ({
      title: titles[step],
      task: async (_: unknown, task: { title: string }) => {
        const started = Date.now();
        await gates.get(step)!.promise;
        const detail = gates.get(step)!.detail;
        task.title = `${titles[step]}${detail ? `: ${detail}` : ''} ${((Date.now() - started) / 1000).toFixed(1)} s`;
      },
    })),
    {
      renderer: interactive ? 'default' : 'silent',
      exitOnError: true,
      rendererOptions: { logger: new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) }) },
    },
  );
  await list.run().catch(() => {});
  return opening;
}
