/**
 * dependencies.library-change: each successful build's SBOM against the project's last good one.
 * The first SBOM of a project is its baseline (no findings, however many libraries it lists), and
 * new libraries only teach it during the learning period. Then: the component count moving past a
 * threshold → high; libraries never seen in this project → medium;
 * version downgrades → medium; new entries without a version or purl → low; removals, upgrades and
 * libraries coming back → an attestation. One bounded finding per build.
 *
 * An alerting build never becomes the baseline by itself (else the next normal build alerts again,
 * and a second malicious build compares with the first and passes): it waits as the pending change.
 * Later builds that agree with it are the same change, attested, not re-alerted; after
 * `acceptAfterBuilds` of them, or when the configuration accepts it (`acceptBuilds`), it becomes the
 * baseline. A build back at the baseline drops the pending change. Each finding names its baseline.
 */
import * as z from 'zod';
import { mergeState } from '../../../engine/diff.js';
import type { Severity } from '../../../engine/model.js';
import { maxSeverity } from '../../../engine/model.js';
import type { PipelineEvent } from '../../../engine/pipeline-event.js';
import { builtOnFirstUse, defineUseCase, optionsOf, type DriftFacts, type JsonObject, type Observation, type StateReport, type UseCaseContext } from '../../../engine/use-case.js';
import { buildLabel, buildOf, SUCCEEDED_BUILD_PATTERN } from '../build-event.js';
import { hasKnownCompromised } from '../compromised-check.js';
import { fetchBuildSbom } from '../sbom-fetch.js';
import type { ParsedSbom } from '../sbom-parse.js';
import { compareInventories, generationOf, inventoryState, type InventoryChange, type VersionChange } from './inventory.js';
import { acceptedBuild, buildNames, judge, type Verdict } from './baseline.js';

const ID = 'dependencies.library-change';

const optionsSchema = builtOnFirstUse(() => z.strictObject({
  /** A count change of at least this many percent of the last SBOM's count… */
  countChangePercent: z.number().min(1).max(10_000).default(25),
  /** …and at least this many packages is a significant change in quantity. */
  countChangeMinimum: z.number().int().min(1).max(100_000).default(5),
  /** Packages listed per category in the evidence (the summary names a few). */
  maxListed: z.number().int().min(1).max(200).default(25),
  /** Later builds that must agree with an alerting build before it becomes the baseline. */
  acceptAfterBuilds: z.number().int().min(1).max(100).default(3),
  /** Builds accepted by a person (build ARN, `project:uuid` id or `project #number` label): each becomes the baseline. */
  acceptBuilds: z.array(z.string().min(1)).max(1000).default([]),
}));
type Options = z.output<typeof optionsSchema>;

/** The SBOM behind each report, so assess reads new packages from the SBOM, not from the capped state. */
const sboms = new WeakMap<StateReport, { readonly sbom: ParsedSbom; readonly time: string }>();

async function report(event: PipelineEvent, ctx: UseCaseContext): Promise<StateReport | undefined> {
  const build = buildOf(event);
  if (!build || build.status !== 'SUCCEEDED') return undefined;
  const fetched = await fetchBuildSbom(build, ctx.config, ctx.lookups);
  // Only a usable SBOM moves the baseline: the last good one stays the reference otherwise.
  if (fetched.status !== 'found' || fetched.sbom.components.length === 0) return undefined;
  const forgetAfterDays = ctx.config.useCases[ID]?.forgetAfterDays ?? ctx.config.defaults.forgetAfterDays;
  const stateReport: StateReport = {
    key: `project/${build.project}`,
    resource: build.project,
    state: inventoryState(fetched.sbom, buildLabel(build), generationOf(event.time, forgetAfterDays)),
    partial: true,
  };
  sboms.set(stateReport, { sbom: fetched.sbom, time: event.time });
  return stateReport;
}

/**
 * A project seen for the first time starts from "known since this build, nothing else known", so its
 * first SBOM is the baseline (assess sees no packages before) and the learning period has a start.
 */
async function initialState(report: StateReport): Promise<JsonObject | undefined> {
  const time = sboms.get(report)?.time;
  return time ? { baselineAt: time } : undefined;
}

function learningEnds(before: JsonObject, ctx: UseCaseContext): number {
  const baselineAt = typeof before['baselineAt'] === 'string' ? Date.parse(before['baselineAt']) : Number.NaN;
  const days = ctx.config.useCases[ID]?.learningDays ?? ctx.config.defaults.learningDays;
  return Number.isNaN(baselineAt) ? 0 : baselineAt + days * 86_400_000;
}

function short(key: string): string {
  return key.replace(/^pkg:/, '').replace(/^name:/, '');
}

function names(keys: readonly string[], limit: number): string {
  const shown = keys.slice(0, limit).map(short).join(', ');
  return keys.length > limit ? `${shown} and ${keys.length - limit} more` : shown;
}

function changes(list: readonly VersionChange[], limit: number): string {
  const shown = list.slice(0, limit).map((c) => `${short(c.package)} ${c.from} → ${c.to}`).join(', ');
  return list.length > limit ? `${shown} and ${list.length - limit} more` : shown;
}

function plural(n: number, word: string): string {
  if (n === 1) return `1 ${word}`;
  return `${n} ${word.endsWith('y') ? `${word.slice(0, -1)}ies` : `${word}s`}`;
}

function isCountJump(before: number, after: number, options: Options): boolean {
  const delta = after - before;
  const percent = before > 0 ? (delta / before) * 100 : 100;
  return Math.abs(delta) >= options.countChangeMinimum && Math.abs(percent) >= options.countChangePercent;
}

function grade(change: InventoryChange, options: Options): { severity: Severity; parts: string[]; countJump: boolean } {
  const parts: string[] = [];
  let severity: Severity = 'info';
  const delta = change.countAfter - change.countBefore;
  const percent = change.countBefore > 0 ? (delta / change.countBefore) * 100 : 100;
  const countJump = isCountJump(change.countBefore, change.countAfter, options);
  if (countJump) {
    severity = 'high';
    parts.push(`component count ${change.countBefore} → ${change.countAfter} (${delta > 0 ? '+' : ''}${Math.round(percent)}%)`);
  }
  if (change.added.length > 0) {
    severity = maxSeverity(severity, 'medium');
    parts.push(`${plural(change.added.length, 'library')} never seen in this project: ${names(change.added, 5)}`);
  }
  if (change.downgrades.length > 0) {
    severity = maxSeverity(severity, 'medium');
    parts.push(`${plural(change.downgrades.length, 'downgrade')}: ${changes(change.downgrades, 3)}`);
  }
  const quality = [...new Set([...change.withoutVersion, ...change.withoutPurl])];
  if (quality.length > 0) {
    severity = maxSeverity(severity, 'low');
    const what = [change.withoutVersion.length > 0 ? `${change.withoutVersion.length} without a version` : '', change.withoutPurl.length > 0 ? `${change.withoutPurl.length} without a purl` : ''].filter(Boolean).join(', ');
    parts.push(`new entries that cannot be identified (${what}): ${names(quality, 3)}`);
  }
  if (change.majorUpgrades.length > 0) parts.push(`${plural(change.majorUpgrades.length, 'major upgrade')}: ${changes(change.majorUpgrades, 3)}`);
  if (change.removed.length > 0) parts.push(`${change.removed.length} removed: ${names(change.removed, 3)}`);
  if (change.returned.length > 0) parts.push(`${change.returned.length} back after an absence: ${names(change.returned, 3)}`);
  const minorUpgrades = change.upgrades - change.majorUpgrades.length;
  if (minorUpgrades > 0) parts.push(`${plural(minorUpgrades, 'minor upgrade')}`);
  if (!countJump && delta !== 0 && parts.length > 0) parts.push(`components ${change.countBefore} → ${change.countAfter}`);
  return { severity, parts, countJump };
}

/** The change against the baseline, graded, with learning applied: computed once per report. */
function compare(before: JsonObject, sbom: ParsedSbom, time: string, ctx: UseCaseContext): { change: InventoryChange; learning: boolean; added: number; graded: ReturnType<typeof grade> } {
  const compared = compareInventories(before, sbom);
  // During the learning period new libraries only teach the baseline (as first-seen use cases do).
  const learning = Date.parse(time) < learningEnds(before, ctx);
  const isNew = (key: string) => compared.added.includes(key);
  const change = learning
    ? { ...compared, added: [], withoutPurl: compared.withoutPurl.filter((k) => !isNew(k)), withoutVersion: compared.withoutVersion.filter((k) => !isNew(k)) }
    : compared;
  return { change, learning, added: compared.added.length, graded: grade(change, optionsOf(optionsSchema, ctx)) };
}

/** The verdict for each report: how the build stands against the baseline and the pending change. */
const verdicts = new WeakMap<StateReport, Verdict>();

function verdictOf(before: JsonObject, report: StateReport, event: PipelineEvent, ctx: UseCaseContext): Verdict | undefined {
  const known = verdicts.get(report);
  if (known) return known;
  const current = sboms.get(report);
  if (!current) return undefined;
  const options = optionsOf(optionsSchema, ctx);
  const build = buildOf(event);
  const verdict = judge({
    before,
    state: report.state,
    time: event.time,
    acceptAfterBuilds: options.acceptAfterBuilds,
    names: buildNames(build),
    accepted: (names) => acceptedBuild(options.acceptBuilds, names),
    alerting: () => compare(before, current.sbom, event.time, ctx).graded.severity !== 'info',
    compromised: () => hasKnownCompromised(current.sbom, ctx),
    countJump: (before, after) => isCountJump(before, after, options),
  });
  verdicts.set(report, verdict);
  return verdict;
}

function next(before: JsonObject, report: StateReport, event: PipelineEvent, ctx: UseCaseContext): JsonObject {
  return verdictOf(before, report, event, ctx)?.state ?? mergeState(before, report.state);
}

function assess(facts: DriftFacts, event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const options = optionsOf(optionsSchema, ctx);
  const current = sboms.get(facts.report);
  // No packages known before: this SBOM is the project's baseline.
  if (!current || !Array.isArray(facts.before['packages'])) return undefined;
  const verdict = verdictOf(facts.before, facts.report, event, ctx);
  const { change, learning, added } = compare(facts.before, current.sbom, event.time, ctx);
  const graded = verdict?.sameAsPending ? { ...grade(change, options), severity: 'info' as Severity } : grade(change, options);
  const { severity, parts, countJump } = graded;
  // Only the build label changed (an identical SBOM, or duplicate versions reshuffled).
  if (parts.length === 0) return undefined;
  const build = buildOf(event);
  const project = facts.report.resource ?? facts.report.key;
  const label = build ? buildLabel(build) : project;
  const max = options.maxListed;
  const listed = (keys: readonly string[]) => ({ total: keys.length, packages: keys.slice(0, max).map(short) });
  const baselineBuild = change.previousBuild?.replace(`${project} `, '');
  return {
    resource: project,
    dedupKey: facts.report.key,
    severity,
    attestation: severity === 'info',
    title: severity === 'info' ? 'Open-source libraries updated' : 'Significant change in open-source libraries',
    summary: `Build ${label}${baselineBuild ? ` (vs baseline ${baselineBuild})` : ''}: ${parts.join('; ')}${verdict?.note ? `; ${verdict.note}` : ''}`,
    evidence: {
      project,
      ...(build ? { build: build.arn, ...(build.sourceVersion ? { sourceVersion: build.sourceVersion } : {}) } : {}),
      comparedWith: change.previousBuild ?? null,
      comparedWithAt: facts.since,
      baseline: { build: change.previousBuild ?? null, since: facts.since, ...(typeof facts.before['acceptedAs'] === 'string' ? { acceptedAs: facts.before['acceptedAs'] } : {}) },
      ...(verdict ? { becameBaseline: verdict.becameBaseline, ...(verdict.pending ? { pending: verdict.pending } : {}) } : {}),
      count: { before: change.countBefore, after: change.countAfter, significant: countJump },
      newLibraries: listed(change.added),
      downgrades: { total: change.downgrades.length, changes: change.downgrades.slice(0, max).map((c) => ({ ...c, package: short(c.package) })) },
      withoutVersion: listed(change.withoutVersion),
      withoutPurl: listed(change.withoutPurl),
      removed: listed(change.removed),
      returned: listed(change.returned),
      majorUpgrades: { total: change.majorUpgrades.length, changes: change.majorUpgrades.slice(0, max).map((c) => ({ ...c, package: short(c.package) })) },
      upgrades: change.upgrades,
      truncated: change.truncated,
      ...(learning ? { learning: true, newDuringLearning: added } : {}),
    },
  };
}

export default defineUseCase({
  metadata: {
    id: ID,
    answers: 'dependencies.library-change',
    title: 'Significant change in open-source libraries',
    stage: 'dependencies',
    description:
      'Compares each successful build\'s SBOM with the project\'s last good one: the component count moving past a threshold (default 25% and 5 packages) is high; libraries never seen in the project (after its learning period) and version downgrades are medium; new entries without a version or purl are low; upgrades, removals and returning libraries are recorded as attestations. The first SBOM is the baseline; an alerting build becomes the baseline only once accepted (acceptAfterBuilds later builds agree with it, default 3, or acceptBuilds names it), and a build shipping known-compromised packages never does. Each finding names its baseline build.',
    severity: 'medium',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 2,
    mitre: ['T1195.001'],
    falsePositives: [
      'A deliberate new dependency or framework: the finding is the review prompt; nothing to tune.',
      'A change of SBOM tool or format makes every package look new once: expect one finding, then the new baseline.',
      'Builds of several branches of one project alternate their dependencies: libraries seen on any branch stay known for the forget-after period.',
    ],
    runbook:
      'Check that the change matches a reviewed commit (the build\'s source version is in the evidence). For unknown new libraries, look at their publisher, age and install scripts; for downgrades, ask why an older version is wanted (a pinned vulnerable or attacker-published version). Stop the release if nobody owns the change.',
    references: ['https://slsa.dev/spec/v1.0/threats', 'https://cyclonedx.org/specification/overview/'],
  },
  pattern: SUCCEEDED_BUILD_PATTERN,
  optionsSchema,
  logic: { kind: 'drift', report, initialState, assess, next },
});
