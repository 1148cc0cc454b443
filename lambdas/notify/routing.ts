/**
 * Who gets which alert, decided once for the stack (SNS subscription filter policies on the alerts
 * topic) and for the notify Lambda (which chat topics a finding is published to). Teams get the
 * alerts about their own repositories, projects and packages (`routing.teams`, which also gives every
 * finding its `team`); security gets everything from its minimum severity up, plus the direct tamper
 * alerts. The hourly canary proves the path works and is kept out of every human route.
 */
import type { BuildwatchConfig, RouteEndpoints } from '../config/config.js';
import { SEVERITIES, severityRank, type Finding, type Severity } from '../engine/model.js';
import { CANARY_USE_CASE } from '../use-cases/monitor/constants.js';

export const SECURITY_ROUTE = 'security';

export interface Route {
  /** `security`, or `team-<name>`: names chat topics and constructs. */
  readonly key: string;
  readonly team?: string;
  /** Organisation deployments: every alert of these accounts goes to the team too (`routing.teams.*.accounts`). */
  readonly accounts?: readonly string[];
  readonly endpoints: RouteEndpoints;
}

/** Every configured route (security first, then teams by name). */
export function routes(config: BuildwatchConfig): Route[] {
  const out: Route[] = [];
  if (config.routing.security) out.push({ key: SECURITY_ROUTE, endpoints: config.routing.security });
  for (const [team, endpoints] of Object.entries(config.routing.teams).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // Accounts route only where findings carry their account as an attribute: organisation deployments.
    const accounts = config.organization ? endpoints.accounts : [];
    out.push({ key: `team-${team}`, team, ...(accounts.length > 0 ? { accounts } : {}), endpoints });
  }
  return out;
}

export function hasChat(route: Route): boolean {
  return route.endpoints.slack !== undefined || route.endpoints.microsoftTeams !== undefined;
}

export function hasSubscriptions(route: Route): boolean {
  const { email, https, sqs, lambda } = route.endpoints;
  return email.length + https.length + sqs.length + lambda.length > 0;
}

/** The severities at or above `min`, for filter policies (which match exact values). */
export function severitiesFrom(min: Severity): Severity[] {
  return SEVERITIES.filter((severity) => severityRank(severity) >= severityRank(min));
}

/**
 * Whether a finding goes to a route: the team's own (for team routes: its resources, or one of its
 * accounts), from its minimum severity, never the canary.
 */
export function routeWants(route: Route, finding: Pick<Finding, 'severity' | 'team' | 'useCase' | 'mode' | 'account'>): boolean {
  if (finding.mode !== 'alert' || finding.useCase === CANARY_USE_CASE) return false;
  if (severityRank(finding.severity) < severityRank(route.endpoints.minSeverity)) return false;
  if (route.team === undefined || finding.team === route.team) return true;
  return finding.account !== undefined && (route.accounts ?? []).includes(finding.account);
}

/**
 * The filter policy (MessageAttributes scope) of a route's subscriptions on the alerts topic: the
 * same decision as routeWants, made by SNS from the message attributes the notifier sets. Security's
 * also lets through messages without attributes: the direct tamper alerts, which EventBridge
 * publishes straight to the topic and which cannot carry attributes.
 */
export function subscriptionFilterPolicy(route: Route): Record<string, unknown> {
  const attributes: Record<string, unknown> = {
    ...(route.team !== undefined ? { team: [route.team] } : {}),
    severity: severitiesFrom(route.endpoints.minSeverity),
    useCase: [{ 'anything-but': [CANARY_USE_CASE] }],
  };
  // A team with accounts: its resources' alerts, or any alert of its accounts (the `account` attribute).
  if (route.team !== undefined && route.accounts && route.accounts.length > 0) {
    const { team: _team, ...rest } = attributes;
    return { $or: [attributes, { ...rest, account: [...route.accounts] }] };
  }
  if (route.team !== undefined) return attributes;
  return { $or: [attributes, { severity: [{ exists: false }] }] };
}

/** The chat routes a finding is published to (keys of the chat topics). */
export function chatRoutesFor(config: BuildwatchConfig, finding: Pick<Finding, 'severity' | 'team' | 'useCase' | 'mode' | 'account'>): string[] {
  return routes(config)
    .filter((route) => hasChat(route) && routeWants(route, finding))
    .map((route) => route.key);
}

/** Chat topic names: `<prefix>chat-security`, `<prefix>chat-team-<name>` (SNS allows 256 characters). */
export function chatTopicName(resourcePrefix: string, routeKey: string): string {
  return `${resourcePrefix}chat-${routeKey}`;
}
