// The steps of opening an image and of mounting it, as progress shows them.
import type { MountStep } from '../mounts/Mount.js';
import type { OpenStep } from '../session/openImage.js';

export interface StepDefinition<S extends string> {
  id: S;
  title: string;
}

export const openSteps: StepDefinition<OpenStep>[] = [
  { id: 'detect', title: 'detect' },
  { id: 'guest', title: 'guest' },
  { id: 'boot', title: 'boot' },
  { id: 'mount', title: 'mount in guest' },
  { id: 'serve', title: 'connect 9P' },
];

export const mountSteps: StepDefinition<MountStep>[] = [...openSteps, { id: 'frontend', title: 'mount on the host' }];
