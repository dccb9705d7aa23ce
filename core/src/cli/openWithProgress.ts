// openImage with a progress view (see stepProgress.ts).
import type { Qemount } from '../Qemount.js';
import { openImage, type OpenedImage, type OpenOptions, type OpenStep } from '../session/openImage.js';
import { withStepProgress, type StepDefinition } from './stepProgress.js';

export const openSteps: StepDefinition<OpenStep>[] = [
  { id: 'detect', title: 'detect' },
  { id: 'guest', title: 'guest' },
  { id: 'boot', title: 'boot' },
  { id: 'mount', title: 'mount in guest' },
  { id: 'serve', title: 'connect 9P' },
];

export function openWithProgress(core: Qemount, image: string, options: OpenOptions & { quiet?: boolean }): Promise<OpenedImage> {
  return withStepProgress(openSteps, (onStep) => openImage(core, image, { ...options, onStep }), { quiet: options.quiet });
}
