// A listr2 view of a multi-step operation that reports its steps through a callback: one task
// per step with its detail and time, on stderr (stdout may carry data); silent when stderr is not
// a terminal or when asked.
import { Listr, ListrLogger, ProcessOutput } from 'listr2';

import type { StepDefinition } from './steps.js';

export type { StepDefinition };

interface Gate {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
  detail?: string;
  /** Shows a detail while the step runs (set once its task has started). */
  show?: (detail: string) => void;
}

function gate(): Gate {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export async function withStepProgress<S extends string, T>(
  steps: StepDefinition<S>[],
  work: (onStep: (step: S, detail?: string) => void) => Promise<T>,
  options: { quiet?: boolean } = {},
): Promise<T> {
  const gates = new Map(steps.map((s) => [s.id, gate()] as const));
  let reached = 0;
  const onStep = (step: S, detail?: string) => {
    const index = steps.findIndex((s) => s.id === step);
    if (index < 0) return;
    if (detail) {
      gates.get(step)!.detail = detail;
      gates.get(step)!.show?.(detail);
    }
    // A step starting means every step before it is done.
    for (; reached < index; reached++) gates.get(steps[reached].id)!.resolve();
  };
  const running = work(onStep);
  running.then(
    () => steps.forEach((s) => gates.get(s.id)!.resolve()),
    (error) => steps.forEach((s) => gates.get(s.id)!.reject(error)),
  );
  const interactive = Boolean(process.stderr.isTTY) && !options.quiet;
  const list = new Listr(
    steps.map(({ id, title }) => ({
      title,
      task: async (_: unknown, task: { title: string; output?: string }) => {
        const started = Date.now();
        gates.get(id)!.show = (detail) => (task.output = detail);
        await gates.get(id)!.promise;
        const detail = gates.get(id)!.detail;
        task.title = `${title}${detail ? `: ${detail}` : ''} ${((Date.now() - started) / 1000).toFixed(1)} s`;
      },
    })),
    {
      renderer: interactive ? 'default' : 'silent',
      exitOnError: true,
      rendererOptions: { logger: new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) }) },
    },
  );
  await list.run().catch(() => {});
  return running;
}
