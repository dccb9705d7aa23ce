import type { FormatKind } from '@qemount/registry';

export type { FormatKind };
export const formatKinds: readonly FormatKind[] = ['fs', 'pt', 'container'];
export const kindNames: Record<FormatKind, string> = { fs: 'filesystem', pt: 'partition table', container: 'container' };
