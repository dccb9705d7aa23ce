// openImage with a progress view (see stepProgress.ts).
import type { Qemount } from '../Qemount.js';
import { openImage, type OpenedImage, type OpenOptions } from '../session/openImage.js';
import { withStepProgress } from './stepProgress.js';
import { openSteps } from './steps.js';

export function openWithProgress(core: Qemount, image: string, options: OpenOptions & { quiet?: boolean }): Promise<OpenedImage> {
  return withStepProgress(openSteps, (onStep) => openImage(core, image, { ...options, onStep }), { quiet: options.quiet });
}
