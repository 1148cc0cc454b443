/**
 * Which SBOM is a project's baseline. The stored state is the accepted baseline (its `sbom`, `build`,
 * `packages` and `seen`, see inventory.ts) plus, while an alerting build waits for acceptance, a
 * `pending` change: that build's label, time, count and package hashes (bounded like `seen`).
 *
 * - A build that does not alert becomes the baseline, and a pending change it does not share is dropped
 *   (the project went back to normal: the next build after a bad one compares with the good one).
 * - A build that alerts does not; it becomes the pending change, unless it agrees with the pending
 *   change (same packages, no count jump from it): then it is that change seen again, counted; after
 *   `acceptAfterBuilds` such builds, or when the configuration accepts the pending build, it becomes
 *   the baseline.
 * - A build accepted by the configuration becomes the baseline at once; one shipping known-compromised
 *   packages never does.
 * `latest` (label and time of the last build) changes with every build, so every build is assessed.
 */
import { mergeState } from '../../../engine/diff.js';
import { isRecord } from '../../../engine/pipeline-event.js';
import type { JsonObject } from '../../../engine/use-case.js';
import type { BuildInfo } from '../build-event.js';

export interface PendingChange {
  readonly build: string;
  readonly since: string;
  /** Later builds that agreed with it so far, and how many make it the baseline. */
  readonly agreeing: number;
  readonly needed: number;
}

export interface Verdict {
  readonly state: JsonObject;
  readonly becameBaseline: boolean;
  /** The build is the pending change seen again: attested, not alerted a second time. */
  readonly sameAsPending: boolean;
  readonly pending?: PendingChange;
  /** Said in the finding: what became of this build. */
  readonly note?: string;
}

export interface JudgeInput {
  /** The stored state: the accepted baseline and any pending change. */
  readonly before: JsonObject;
  /** This build's inventory state (inventoryState). */
  readonly state: JsonObject;
  readonly time: string;
  readonly acceptAfterBuilds: number;
  /** This build's names besides its label (ARN, build id, uuid): a pending change keeps them for acceptBuilds. */
  readonly names: readonly string[];
  /** True when the configuration accepts a build known by one of these names. */
  accepted(names: readonly string[]): boolean;
  /** True when the build alerts against the baseline. */
  alerting(): boolean;
  /** True when the build ships known-compromised packages. */
  compromised(): boolean;
  /** True when going from one component count to the other is a significant change. */
  countJump(before: number, after: number): boolean;
}

function hashesOf(state: JsonObject): Set<string> {
  const hashes = new Set<string>();
  const seen = state['seen'];
  if (!isRecord(seen)) return hashes;
  for (const generation of Object.values(seen)) if (isRecord(generation)) for (const hash of Object.keys(generation)) hashes.add(hash);
  return hashes;
}

function countOf(state: JsonObject): number {
  const sbom = state['sbom'];
  const count = isRecord(sbom) ? sbom['packages'] : undefined;
  return typeof count === 'number' ? count : 0;
}

function pendingOf(before: JsonObject): JsonObject | undefined {
  const pending = before['pending'];
  return isRecord(pending) && typeof pending['build'] === 'string' ? (pending as JsonObject) : undefined;
}

export function judge(input: JudgeInput): Verdict {
  const { before, state, time } = input;
  const label = typeof state['build'] === 'string' ? state['build'] : 'unknown build';
  const latest = { latest: { build: label, at: time } };
  const { pending: _dropped, ...baseline } = before;
  const become = (acceptedAs: string, note?: string): Verdict => ({
    state: { ...mergeState(baseline, state), ...latest, acceptedAs },
    becameBaseline: true,
    sameAsPending: false,
    ...(note ? { note } : {}),
  });
  const hold = (pending: JsonObject, verdict: Omit<Verdict, 'state' | 'becameBaseline'>): Verdict => ({
    state: { ...before, ...latest, pending },
    becameBaseline: false,
    ...verdict,
  });

  if (!Array.isArray(before['packages'])) return become('first SBOM');
  if (input.compromised()) {
    return { state: { ...before, ...latest }, becameBaseline: false, sameAsPending: false, note: 'it ships known-compromised packages, so it never becomes the baseline' };
  }
  const names = [label, ...input.names];
  if (input.accepted(names)) return become('accepted in the configuration', 'accepted in the configuration: it is now the baseline');
  if (!input.alerting()) return become('no alert');

  const needed = input.acceptAfterBuilds;
  const thisHashes = hashesOf(state);
  const pending = pendingOf(before);
  if (pending) {
    const pendingHashes = new Set(isRecord(pending['hashes']) ? Object.keys(pending['hashes']) : []);
    const known = hashesOf(before);
    const samePackages = [...thisHashes].every((hash) => pendingHashes.has(hash) || known.has(hash));
    const pendingCount = typeof pending['count'] === 'number' ? pending['count'] : 0;
    if (samePackages && !input.countJump(pendingCount, countOf(state))) {
      const pendingBuild = String(pending['build']);
      const pendingNames = [pendingBuild, ...(Array.isArray(pending['names']) ? pending['names'].filter((n): n is string => typeof n === 'string') : [])];
      const pendingAccepted = input.accepted(pendingNames);
      const agreeing = (typeof pending['agreeing'] === 'number' ? pending['agreeing'] : 0) + 1;
      if (agreeing >= needed || pendingAccepted) {
        const how = pendingAccepted ? `${pendingBuild} accepted in the configuration` : `${agreeing} builds agreed with ${pendingBuild}`;
        return { ...become(how, `the change first seen in ${pendingBuild} is now the baseline (${how})`), sameAsPending: true };
      }
      const since = typeof pending['since'] === 'string' ? pending['since'] : time;
      return hold(
        { ...pending, count: countOf(state), hashes: Object.fromEntries([...thisHashes].map((h) => [h, 1])), agreeing },
        {
          sameAsPending: true,
          pending: { build: pendingBuild, since, agreeing, needed },
          note: `the same change as ${pendingBuild}, which alerted; it becomes the baseline after ${needed} agreeing builds (${agreeing} so far) or when acceptBuilds names it`,
        },
      );
    }
  }
  return hold(
    { build: label, names: [...input.names], since: time, count: countOf(state), hashes: Object.fromEntries([...thisHashes].map((h) => [h, 1])), agreeing: 0 },
    {
      sameAsPending: false,
      pending: { build: label, since: time, agreeing: 0, needed },
      note: `this build is not the baseline until accepted (${needed} later builds agreeing with it, or acceptBuilds naming it)`,
    },
  );
}

/** The names a build is known by besides its label: ARN, `project:uuid` id, uuid. */
export function buildNames(build: BuildInfo | undefined): string[] {
  return build ? [build.arn, build.buildId, build.buildUuid].filter((n): n is string => Boolean(n)) : [];
}

/** True when the configured acceptances name one of these names. */
export function acceptedBuild(acceptBuilds: readonly string[], names: readonly string[]): boolean {
  return acceptBuilds.some((entry) => names.includes(entry));
}
