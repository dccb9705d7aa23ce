// `IMAGE[:PART]:PATH` as the file commands take it. An image name may itself hold colons, so the
// split that names an existing file wins.
import { existsSync } from 'node:fs';

export interface ImageSpec {
  image: string;
  part?: number;
  /** Absolute path inside the filesystem. */
  path: string;
}

export function parseImageSpec(spec: string): ImageSpec {
  const candidates: ImageSpec[] = [];
  for (let i = spec.indexOf(':'); i >= 0; i = spec.indexOf(':', i + 1)) {
    const rest = spec.slice(i + 1);
    if (rest && !rest.startsWith('/')) continue;
    const left = spec.slice(0, i);
    const path = rest || '/';
    const withPart = /^(.*):(\d+)$/.exec(left);
    if (withPart) candidates.push({ image: withPart[1], part: Number(withPart[2]), path });
    candidates.push({ image: left, path });
  }
  candidates.push({ image: spec, path: '/' });
  return candidates.find((c) => c.image && existsSync(c.image)) ?? candidates[0];
}
