/**
 * The what-if (backtest) report: per use case, what it would have recorded over the historical
 * window (alerts, attestations, severities) and the commonest dedup keys, principals and
 * resources, so a team can tune exclusions, automation principals and modes before enabling.
 * Every use case that is not switched off is listed, the quiet ones too.
 */
import type { BuildwatchConfig } from '../config/config.js';
import { SEVERITIES, type Severity } from '../engine/model.js';
import { policyFor } from '../engine/policy.js';
import { redactText } from '../engine/redact.js';
import type { UseCase } from '../engine/use-case.js';
import { sanitizeLine } from '../notify/format.js';
import type { BackfillCounters } from './backfill.js';
import { topEntries, type Tallies } from './collecting-sink.js';

export interface WhatIfUseCase {
  readonly id: string;
  readonly kind: string;
  readonly mode: string;
  readonly alerts: number;
  readonly attestations: number;
  readonly bySeverity: Partial<Record<Severity, number>>;
  /** Of these, raised by the current-state step (live state differs from the history's last known state). */
  readonly fromCurrentState: number;
  /** Repeats a dedup window would have folded into earlier findings (present when any). */
  readonly deduplicated?: number;
  readonly firstEventTime?: string;
  readonly lastEventTime?: string;
  readonly topDedupKeys: Array<{ key: string; count: number }>;
  readonly topPrincipals: Array<{ key: string; count: number }>;
  readonly topResources: Array<{ key: string; count: number }>;
}

export interface WhatIfReport {
  readonly from?: string;
  readonly to?: string;
  readonly events: number;
  readonly routed: number;
  readonly alerts: number;
  readonly attestations: number;
  readonly useCases: WhatIfUseCase[];
}

export function whatIfReport(tallies: Tallies, counters: BackfillCounters, useCases: readonly UseCase[], config: BuildwatchConfig, top = 5): WhatIfReport {
  const entries: WhatIfUseCase[] = [];
  const ids = new Set<string>();
  for (const useCase of useCases) {
    const mode = policyFor(useCase.metadata, config).mode;
    if (mode === 'off') continue;
    ids.add(useCase.metadata.id);
    entries.push(entry(useCase.metadata.id, useCase.logic.kind, mode, tallies, top));
  }
  // Findings of a use case no longer registered (a resumed run after an upgrade) still count.
  for (const id of Object.keys(tallies.byUseCase)) if (!ids.has(id)) entries.push(entry(id, 'unknown', 'unknown', tallies, top));
  entries.sort((a, b) => b.alerts - a.alerts || b.attestations - a.attestations || (a.id < b.id ? -1 : 1));
  return {
    ...(counters.firstEventTime ? { from: counters.firstEventTime } : {}),
    ...(counters.lastEventTime ? { to: counters.lastEventTime } : {}),
    events: counters.events,
    routed: counters.routed,
    alerts: entries.reduce((sum, e) => sum + e.alerts, 0),
    attestations: entries.reduce((sum, e) => sum + e.attestations, 0),
    useCases: entries,
  };
}

function entry(id: string, kind: string, mode: string, tallies: Tallies, top: number): WhatIfUseCase {
  const tally = tallies.byUseCase[id];
  return {
    id,
    kind,
    mode,
    alerts: tally?.alerts ?? 0,
    attestations: tally?.attestations ?? 0,
    bySeverity: tally?.bySeverity ?? {},
    fromCurrentState: tally?.fromCurrentState ?? 0,
    ...(tally?.deduplicated ? { deduplicated: tally.deduplicated } : {}),
    ...(tally?.firstEventTime ? { firstEventTime: tally.firstEventTime } : {}),
    ...(tally?.lastEventTime ? { lastEventTime: tally.lastEventTime } : {}),
    topDedupKeys: topEntries(tally?.dedupKeys ?? {}, top),
    topPrincipals: topEntries(tally?.principals ?? {}, top),
    topResources: topEntries(tally?.resources ?? {}, top),
  };
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

/** Keys come from events (attacker-controlled): masked, stripped of control characters, bounded. */
const safe = (text: string, max = 160): string => sanitizeLine(redactText(text), max);

export function whatIfText(report: WhatIfReport): string {
  const lines: string[] = [];
  const span = report.from && report.to ? ` from ${report.from} to ${report.to}` : '';
  lines.push(`What-if: what each use case would have recorded${span}`);
  lines.push(`(${plural(report.events, 'event')} of history, ${report.routed} received by use cases; nothing was written to the ledger or sent)`);
  lines.push('');
  for (const useCase of report.useCases) {
    const counts = useCase.alerts + useCase.attestations === 0
      ? 'none'
      : [useCase.alerts ? plural(useCase.alerts, 'alert') : '', useCase.attestations ? plural(useCase.attestations, 'attestation') : ''].filter(Boolean).join(', ');
    const current = useCase.fromCurrentState > 0 ? ` (${useCase.fromCurrentState} from the current state differing from the history)` : '';
    lines.push(`${useCase.id}  [${useCase.kind}, mode ${useCase.mode}]  ${counts}${current}`);
    if (useCase.alerts + useCase.attestations === 0) continue;
    const severities = SEVERITIES.filter((s) => useCase.bySeverity[s]).reverse().map((s) => `${s} ${useCase.bySeverity[s]}`);
    lines.push(`    severity        ${severities.join(', ')}`);
    if (useCase.firstEventTime && useCase.lastEventTime) lines.push(`    between         ${useCase.firstEventTime} and ${useCase.lastEventTime}`);
    const block = (label: string, items: Array<{ key: string; count: number }>): void => {
      items.forEach((item, index) => lines.push(`    ${(index === 0 ? label : '').padEnd(16)}${String(item.count).padStart(5)}  ${safe(item.key)}`));
    };
    block('top keys', useCase.topDedupKeys);
    block('top principals', useCase.topPrincipals);
    block('top resources', useCase.topResources);
  }
  lines.push('');
  lines.push(`Total: ${plural(report.alerts, 'alert')} and ${plural(report.attestations, 'attestation')} would have been recorded.`);
  return `${lines.join('\n')}\n`;
}
