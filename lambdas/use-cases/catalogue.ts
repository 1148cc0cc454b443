/** The use-case catalogue: sorted by priority (risk reduction against effort), for the CLI and the README. */
import type { BuildwatchConfig } from '../config/config.js';
import { QUESTIONS, type Mode, type QuestionId } from '../engine/model.js';
import { policyFor } from '../engine/policy.js';
import type { UseCase } from '../engine/use-case.js';

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
  /** riskReduction / effort: cheap, high-value use cases first. */
  readonly priority: number;
  readonly mitre: readonly string[];
}

export function catalogue(useCases: readonly UseCase[], config: BuildwatchConfig): CatalogueEntry[] {
  return useCases
    .map(({ metadata, logic }) => ({
      id: metadata.id,
      answers: metadata.answers,
      question: QUESTIONS[metadata.answers],
      stage: metadata.stage,
      title: metadata.title,
      kind: logic.kind,
      severity: metadata.severity,
      defaultMode: metadata.defaultMode,
      mode: policyFor(metadata, config).mode,
      riskReduction: metadata.riskReduction,
      effort: metadata.effort,
      priority: Math.round((metadata.riskReduction / metadata.effort) * 100) / 100,
      mitre: metadata.mitre,
    }))
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

export function catalogueText(entries: readonly CatalogueEntry[]): string {
  const lines = entries.map(
    (e) =>
      `${e.priority.toFixed(2).padStart(5)}  ${e.id.padEnd(30)} ${e.stage.padEnd(13)} ${e.severity.padEnd(9)} ${e.mode.padEnd(7)} risk ${e.riskReduction} effort ${e.effort}  ${e.question}`,
  );
  return [`${'prio'.padStart(5)}  ${'use case'.padEnd(30)} ${'stage'.padEnd(13)} ${'severity'.padEnd(9)} ${'mode'.padEnd(7)} attributes         question`, ...lines].join('\n');
}
