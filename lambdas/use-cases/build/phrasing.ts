/**
 * Summaries of the build-stage match use cases say what happened in the past tense ("deleted
 * pipeline x"); a refused call says what was tried ("tried to delete pipeline x and was refused").
 */
import { failureOutcome } from '../../engine/failure.js';

const PRESENT: Readonly<Record<string, string>> = {
  allowed: 'allow',
  cancelled: 'cancel',
  changed: 'change',
  created: 'create',
  deleted: 'delete',
  disabled: 'disable',
  exported: 'export',
  granted: 'grant',
  imported: 'import',
  loosened: 'loosen',
  made: 'make',
  put: 'put',
  're-imported': 're-import',
  're-pointed': 're-point',
  removed: 'remove',
  replicated: 'replicate',
  revoked: 'revoke',
  scheduled: 'schedule',
  shared: 'share',
  updated: 'update',
};

/** "deleted pipeline x" → "tried to delete pipeline x"; sentences without a known verb are kept as they are. */
export function attempted(what: string): string {
  const [verb, ...rest] = what.split(' ');
  const present = verb === undefined ? undefined : PRESENT[verb];
  return present ? `tried to ${[present, ...rest].join(' ')}` : `tried: ${what}`;
}

/** The summary of a failed call: who tried what, and how it failed (refused, or another error). */
export function refusedSummary(who: string, what: string, errorCode: string | undefined): string {
  return `${who} ${attempted(what)} and ${failureOutcome(errorCode)}`;
}
