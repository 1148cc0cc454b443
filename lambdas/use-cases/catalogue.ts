/**
 * The use-case catalogue: sorted by priority (risk reduction against effort), for the CLI and the
 * README. With a configuration it also says how each use case is run (mode, staging, dedup window),
 * whether a managed service already covers it, and which suppressions apply, expired ones included.
 */
import type { BuildwatchConfig } from '../config/config.js';
import { QUESTIONS, type Mode, type QuestionId } from '../engine/model.js';
import { policyFor } from '../engine/policy.js';
import type { UseCase } from '../engine/use-case.js';

export interface CatalogueSuppression {
  readonly useCase: string;
  readonly principal?: string;
  readonly resource?: string;
  readonly expires: string;
  readonly reason: string;
  /** Its expiry date has passed: it no longer applies to events after that date. */
  readonly expired: boolean;
}

export interface CatalogueEntry {
  readonly id: string;
  readonly answers: QuestionId;
  readonly question: string;
  readonly stage: string;
  readonly title: string;
  readonly kind: string;
  readonly severity: string;
  readonly defaultMode: Mode;
  readonly mode: Mode;
  readonly riskReduction: number;
  readonly effort: number;
  /**
   * riskReduction / effort: cheap, high-value use cases first; halved when the configuration says a
   * managed service already answers the question (`coveredBy`), and halved when the use case runs in
   * `attest` mode (wanted as audit evidence, not to alert anyone). Each reason is in `deprioritised`.
   */
  readonly priority: number;
  /** Why the priority is below riskReduction / effort (empty: it is not). */
  readonly deprioritised: readonly string[];
  readonly mitre: readonly string[];
  /** Managed services the configuration names as already covering this use case (empty: none). */
  readonly coveredBy: readonly string[];
  /** Days a newly enabled use case attests instead of alerting (0: none). */
  readonly stagingDays: number;
  /** Repeats within this many minutes update the first finding's count (0: none). */
  readonly dedupWindowMinutes: number;
  /** Suppressions that name this use case or `*`, expired ones included. */
  readonly suppressions: readonly CatalogueSuppression[];
}

/** `today` (yyyy-mm-dd, default the UTC date now) decides which suppressions have expired. */
export function catalogue(useCases: readonly UseCase[], config: BuildwatchConfig, today: string = new Date().toISOString().slice(0, 10)): CatalogueEntry[] {
  return useCases
    .map(({ metadata, logic }) => {
      const policy = policyFor(metadata, config);
      const coveredBy = config.useCases[metadata.id]?.coveredBy ?? [];
      // Second round of prioritisation: what a managed service already answers, or what only
      // feeds audits (attest mode), ranks below what alerts people and nothing else covers.
      const deprioritised = [
        ...(coveredBy.length > 0 ? [`covered by ${coveredBy.join(', ')}`] : []),
        ...(policy.mode === 'attest' ? ['attest mode: evidence for audits, no alerts'] : []),
      ];
      const ratio = metadata.riskReduction / metadata.effort / 2 ** deprioritised.length;
      return {
        id: metadata.id,
        answers: metadata.answers,
        question: QUESTIONS[metadata.answers],
        stage: metadata.stage,
        title: metadata.title,
        kind: logic.kind,
        severity: metadata.severity,
        defaultMode: metadata.defaultMode,
        mode: policy.mode,
        riskReduction: metadata.riskReduction,
        effort: metadata.effort,
        priority: Math.round(ratio * 100) / 100,
        deprioritised,
        mitre: metadata.mitre,
        coveredBy,
        stagingDays: policy.mode === 'alert' ? policy.stagingDays : 0,
        dedupWindowMinutes: policy.dedupWindowMinutes,
        suppressions: config.suppressions
          .filter((s) => s.useCase === metadata.id || s.useCase === '*')
          .map((s) => ({ ...s, expired: s.expires < today })),
      };
    })
    .sort((a, b) => b.priority - a.priority || b.riskReduction - a.riskReduction || a.id.localeCompare(b.id));
}

/** The README's catalogue table (generated; a test fails when the README's copy is stale). */
export function catalogueMarkdown(entries: readonly CatalogueEntry[]): string {
  const header = '| priority | use case | answers | stage | kind | severity | default mode | risk reduction | effort | ATT&CK |\n|---|---|---|---|---|---|---|---|---|---|';
  const rows = entries.map(
    (e) =>
      `| ${e.priority.toFixed(2)} | \`${e.id}\`: ${e.title} | \`${e.answers}\` | ${e.stage} | ${e.kind} | ${e.severity} | ${e.defaultMode} | ${e.riskReduction} | ${e.effort} | ${e.mitre.join(', ')} |`,
  );
  return [header, ...rows].join('\n');
}

const CATALOGUE_BLOCK = /(<!-- catalogue:start -->\n)[\s\S]*?(\n<!-- catalogue:end -->)/;

/** The README's copy of the table (between the catalogue markers), or undefined without markers. */
export function catalogueIn(readme: string): string | undefined {
  return /<!-- catalogue:start -->\n([\s\S]*?)\n<!-- catalogue:end -->/.exec(readme)?.[1];
}

/** The README with `table` between the catalogue markers (undefined without markers). */
export function withCatalogue(readme: string, table: string): string | undefined {
  if (!CATALOGUE_BLOCK.test(readme)) return undefined;
  return readme.replace(CATALOGUE_BLOCK, (_all, start: string, end: string) => `${start}${table}${end}`);
}

export function catalogueText(entries: readonly CatalogueEntry[]): string {
  const modeOf = (e: CatalogueEntry): string => (e.stagingDays > 0 ? `${e.mode}*` : e.mode);
  const lines = entries.map(
    (e) =>
      `${e.priority.toFixed(2).padStart(5)}  ${e.id.padEnd(32)} ${e.stage.padEnd(13)} ${e.severity.padEnd(9)} ${modeOf(e).padEnd(7)} risk ${e.riskReduction} effort ${e.effort}  ${(e.coveredBy.length > 0 ? 'yes' : '-').padEnd(7)} ${e.question}`,
  );
  const out = [`${'prio'.padStart(5)}  ${'use case'.padEnd(32)} ${'stage'.padEnd(13)} ${'severity'.padEnd(9)} ${'mode'.padEnd(7)} attributes         covered question`, ...lines];

  const notes: string[] = [];
  const staged = entries.filter((e) => e.stagingDays > 0);
  if (staged.length > 0) {
    const days = [...new Set(staged.map((e) => e.stagingDays))];
    notes.push(`* staging: ${days.length === 1 ? `${days[0]} days` : 'some days'} in attest mode after a use case starts (${staged.length} use case(s)); \`replay --what-if\` shows what they would have alerted`);
  }
  for (const e of entries.filter((x) => x.dedupWindowMinutes > 0)) notes.push(`dedup window: ${e.id} ${e.dedupWindowMinutes} min`);
  for (const e of entries.filter((x) => x.coveredBy.length > 0)) notes.push(`covered: ${e.id} by ${e.coveredBy.join(', ')} (priority halved)`);
  for (const e of entries.filter((x) => x.mode === 'attest')) notes.push(`attest: ${e.id} runs in attest mode, evidence for audits without alerts (priority halved)`);

  // Each suppression once, even when it names `*` and so shows on every entry.
  const seen = new Set<string>();
  const suppressions = entries.flatMap((e) => e.suppressions).filter((s) => {
    const key = JSON.stringify(s);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (suppressions.length > 0) {
    const expired = suppressions.filter((s) => s.expired);
    notes.push(`suppressions: ${suppressions.length - expired.length} active, ${expired.length} expired`);
    for (const s of [...expired, ...suppressions.filter((x) => !x.expired)]) {
      const scope = [s.principal ? `principal ${s.principal}` : '', s.resource ? `resource ${s.resource}` : ''].filter(Boolean).join(' ') || 'everything';
      notes.push(`  ${s.expired ? `EXPIRED ${s.expires}` : `until   ${s.expires}`}  ${s.useCase}  ${scope}: ${s.reason}`);
    }
  }
  return notes.length > 0 ? [...out, '', ...notes].join('\n') : out.join('\n');
}
