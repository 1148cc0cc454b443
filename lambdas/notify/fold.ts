/**
 * One incident, one alert per question. Several use cases may answer the same question about the
 * same resource from the same event (one build's SBOM: a library-change jump and a compromised
 * package). The ledger keeps every finding; people get one alert per (question, resource, event)
 * that carries every aspect, led by the most severe.
 */
import { SEVERITIES, type Finding, type Severity } from '../engine/model.js';

/** An aspect folded into an alert: which use case said what. */
export interface AlertAspect {
  readonly id: string;
  readonly useCase: string;
  readonly severity: Severity;
  readonly title: string;
  readonly summary: string;
}

/** The alert for a group: the lead finding, with every aspect (the lead's first) when there are several. */
export type FoldedAlert = Finding & { readonly aspects?: readonly AlertAspect[] };

/** Findings of one question, resource and event are one incident. */
export function foldKey(finding: Finding): string {
  return JSON.stringify([finding.answers, finding.resource ?? '', finding.eventId]);
}

const rank = (severity: Severity): number => SEVERITIES.indexOf(severity);

/** Groups in order of first appearance; within a group, the most severe finding leads (first on ties). */
export function groupAlerts<T extends Finding>(findings: readonly T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const finding of findings) {
    const key = foldKey(finding);
    const group = groups.get(key);
    if (group) group.push(finding);
    else groups.set(key, [finding]);
  }
  return [...groups.values()].map((group) => [...group].sort((a, b) => rank(b.severity) - rank(a.severity)));
}

/** One alert from a group of findings (sorted by groupAlerts: the lead first). */
export function foldGroup(group: readonly Finding[]): FoldedAlert {
  const [lead, ...others] = group;
  if (!lead) throw new Error('foldGroup needs at least one finding');
  if (others.length === 0) return lead;
  const aspects = group.map((f) => ({ id: f.id, useCase: f.useCase, severity: f.severity, title: f.title, summary: f.summary }));
  return {
    ...lead,
    summary: [lead.summary, ...others.map((f) => `also ${f.severity.toUpperCase()} ${f.title} [${f.useCase}]: ${f.summary}`)].join(' | '),
    evidence: { ...lead.evidence, aspects },
    aspects,
  };
}

/** Every alert once, folded by question, resource and event. */
export function foldAlerts(findings: readonly Finding[]): FoldedAlert[] {
  return groupAlerts(findings).map(foldGroup);
}
