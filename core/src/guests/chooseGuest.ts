// Which guest mounts a filesystem: every guest that declares it is scored, and the scores say why.
import type { Access, FilesystemSupport } from '@qemount/registry';
import type { Qemount } from '../Qemount.js';
import { compareIds } from '../util/compareIds.js';

export interface GuestChoiceRequest {
  /** Catalogue fs id. */
  fs: string;
  /** The access the user asked for. */
  access: Access;
  /** A guest the user named (--guest): only it is considered. */
  guest?: string;
}

export interface GuestCandidate {
  guest: string;
  support: FilesystemSupport;
  score: number;
  /** Why it scored what it did, in words. */
  reasons: string[];
}

export interface GuestRejection {
  guest: string;
  why: string;
}

export interface GuestChoice {
  request: GuestChoiceRequest;
  /** Best first; empty when no guest can do it. */
  candidates: GuestCandidate[];
  rejected: GuestRejection[];
}

const qualityScore = { stable: 30, partial: 15, experimental: 0 } as const;

export function chooseGuest(core: Qemount, request: GuestChoiceRequest): GuestChoice {
  const candidates: GuestCandidate[] = [];
  const rejected: GuestRejection[] = [];
  const preferred = core.config.preferGuest[request.fs] ?? core.config.preferGuest['*'];
  for (const { id, declaration } of core.guests()) {
    if (request.guest && request.guest !== id) continue;
    const support = declaration.filesystems[request.fs];
    if (!support) {
      rejected.push({ guest: id, why: `does not support ${request.fs}` });
      continue;
    }
    if (core.config.guests[id]?.disabled) {
      rejected.push({ guest: id, why: 'disabled in the site config' });
      continue;
    }
    if (request.access === 'rw' && support.access !== 'rw') {
      rejected.push({ guest: id, why: `mounts ${request.fs} read-only only` });
      continue;
    }
    const reasons: string[] = [];
    let score = 0;
    if (preferred === id) {
      score += 1000;
      reasons.push('preferred in the site config');
    }
    if (support.tested) {
      score += 100;
      reasons.push('verified by end-to-end tests');
    }
    const quality = support.quality ?? 'stable';
    score += qualityScore[quality];
    reasons.push(`${quality} driver (${support.driver})`);
    if (request.access === 'rw' && support.access === 'rw') {
      score += 10;
      reasons.push('can write');
    }
    const priority = declaration.priority ?? 0;
    score += priority;
    if (priority) reasons.push(`guest priority ${priority}`);
    candidates.push({ guest: id, support, score, reasons });
  }
  const ranked = core.hooks.chooseGuest.call(candidates, request).sort((a, b) => b.score - a.score || compareIds(a.guest, b.guest));
  return { request, candidates: ranked, rejected };
}
