/**
 * monitor.key-tamper: Buildwatch's KMS key disabled, scheduled for deletion, its policy replaced, its
 * rotation turned off, or its `alias/<prefix>…` alias re-pointed or deleted. A key id is random, so
 * the key is recognised as the monitor's when it is named (the stack passes its ARN; offline
 * options.keys) or when the history showed a monitor alias pointing at it (CreateAlias by the stack's
 * deployment): a drift over the key's state, so that binding is remembered.
 */
import { textOf } from '../../../engine/own-keys.js';
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { stringAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { maxSeverity, type Severity } from '../../../engine/model.js';
import { builtOnFirstUse, defineUseCase, optionsOf, type DiffEntry, type DriftFacts, type JsonObject, type Observation, type StateReport, type UseCaseContext } from '../../../engine/use-case.js';
import { accountsAgree, eventAccount, keyIdOf, parseArn } from '../own-resources.js';
import { tamperObservation, tamperOptionsShape, type TamperChange } from '../tamper.js';

const optionsSchema = builtOnFirstUse(() => z.strictObject({
  ...tamperOptionsShape,
  /** The monitor's KMS keys (key ids or ARNs); the stack passes its own. */
  keys: z.array(z.string().min(1)).default([]),
}));

/** Key operations and the state they leave the key in. */
const KEY_STATES: Readonly<Record<string, (params: Record<string, unknown>) => JsonObject>> = {
  DisableKey: () => ({ enabled: false }),
  EnableKey: () => ({ enabled: true }),
  ScheduleKeyDeletion: (params) => ({ deletion: `scheduled in ${textOf(params['pendingWindowInDays'] ?? 30)} days` }),
  CancelKeyDeletion: () => ({ deletion: 'cancelled' }),
  // The policy is a JSON string that can be large: its fingerprint is enough to see a change.
  PutKeyPolicy: (params) => ({ policy: createHash('sha256').update(textOf(params['policy'])).digest('hex').slice(0, 16) }),
  DisableKeyRotation: () => ({ rotation: false }),
  EnableKeyRotation: () => ({ rotation: true }),
};

const ALIAS_EVENTS = ['CreateAlias', 'UpdateAlias', 'DeleteAlias'];

function aliasOf(event: PipelineEvent, prefix: string): string | undefined {
  const alias = stringAt(event.cloudTrail?.requestParameters, 'aliasName');
  return alias?.startsWith(`alias/${prefix}`) ? alias : undefined;
}

/** The key the event acts on: an id or ARN in the request, else (an alias, or nothing) the key ARN among `resources`. */
function keyRef(event: PipelineEvent, field: 'keyId' | 'targetKeyId'): { id: string; account?: string } | undefined {
  const record = event.cloudTrail;
  const candidates = [stringAt(record?.requestParameters, field), record?.resources?.find((r) => r.type === 'AWS::KMS::Key' || r.ARN?.includes(':key/'))?.ARN];
  for (const raw of candidates) {
    const id = raw ? keyIdOf(raw) : undefined;
    if (!raw || !id) continue;
    const account = parseArn(raw)?.account ?? eventAccount(event);
    return { id, ...(account ? { account } : {}) };
  }
  return undefined;
}

function stateKey(key: { id: string; account?: string }): string {
  return `kms:${key.account ?? 'unknown'}:key/${key.id}`;
}

function report(event: PipelineEvent, ctx: UseCaseContext): StateReport | undefined {
  const record = event.cloudTrail;
  if (!record) return undefined;
  const options = optionsOf(optionsSchema, ctx);
  const params = record.requestParameters ?? {};
  // A refused call leaves the key as it was; remembering the attempt makes it a (medium) change.
  const refused: JsonObject = { refused: { [record.eventName]: event.id } };
  let key: { id: string; account?: string } | undefined;
  let state: JsonObject;
  if (ALIAS_EVENTS.includes(record.eventName)) {
    const alias = aliasOf(event, ctx.config.monitor.resourcePrefix);
    if (!alias) return undefined;
    const account = eventAccount(event);
    const aliasKey = { id: alias, ...(account ? { account } : {}) };
    if (!event.succeeded) {
      // Nothing moved: the attempt is recorded against the alias itself, not a key.
      key = aliasKey;
      state = refused;
    } else {
      // DeleteAlias names no key in its request: the resources list the key it pointed at.
      key = keyRef(event, record.eventName === 'DeleteAlias' ? 'keyId' : 'targetKeyId') ?? aliasKey;
      state = { aliases: { [alias]: record.eventName !== 'DeleteAlias' }, ...(record.eventName === 'UpdateAlias' ? { repointedAlias: alias } : {}) };
    }
  } else {
    const next = KEY_STATES[record.eventName];
    key = keyRef(event, 'keyId');
    if (!next) return undefined;
    state = event.succeeded ? next(params) : refused;
  }
  if (!key || !accountsAgree(key.account, event, options.account)) return undefined;
  return { key: stateKey(key), resource: key.id, state, partial: true };
}

/**
 * What is known before the first event about a key: a configured key is the monitor's; a monitor
 * alias (named by the prefix) is the monitor's; a deleted monitor alias pointed at this key; a
 * re-pointed one did not. Anything else starts as a baseline (no finding: not known to be ours).
 */
async function initialState(stateReport: StateReport, ctx: UseCaseContext): Promise<JsonObject | undefined> {
  const options = optionsOf(optionsSchema, ctx);
  const configured = options.keys.map((k) => keyIdOf(k) ?? k);
  if (stateReport.resource && configured.includes(stateReport.resource)) return { configured: true };
  if (stateReport.resource?.startsWith('alias/')) return { monitorAlias: true };
  const aliases = stateReport.state['aliases'];
  if (aliases && typeof aliases === 'object' && !Array.isArray(aliases)) {
    const entries = Object.entries(aliases);
    if (entries.some(([, present]) => present === false)) return { aliases: Object.fromEntries(entries.map(([alias]) => [alias, true])) };
    if (stateReport.state['repointedAlias'] !== undefined) return { aliases: {} };
  }
  return undefined;
}

function monitorAliases(state: JsonObject): string[] {
  const aliases = state['aliases'];
  return aliases && typeof aliases === 'object' && !Array.isArray(aliases) ? Object.keys(aliases) : [];
}

function assess(facts: DriftFacts, event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const { before, after } = facts;
  const known = [...new Set([...monitorAliases(before), ...monitorAliases(after)])];
  if (after['configured'] !== true && after['monitorAlias'] !== true && known.length === 0) return undefined;
  const options = optionsOf(optionsSchema, ctx);
  const keyId = facts.report.resource ?? facts.report.key;
  const described = known.length > 0 ? `key ${keyId} (${known.join(', ')})` : `key ${keyId}`;
  const changes: Array<{ severity: Severity; what: string }> = [];
  for (const entry of facts.diff) {
    if (entry.path === 'enabled' && entry.after === false) changes.push({ severity: 'critical', what: `disabled ${described}: Buildwatch can no longer read or write its tables, queues and topics` });
    else if (entry.path === 'deletion' && String(entry.after).startsWith('scheduled')) changes.push({ severity: 'critical', what: `scheduled ${described} for deletion (${String(entry.after)}): the findings ledger becomes unreadable` });
    else if (entry.path === 'policy') changes.push({ severity: 'high', what: `replaced the policy of ${described}: services and roles may lose (or gain) access` });
    else if (entry.path === 'rotation' && entry.after === false) changes.push({ severity: 'medium', what: `turned off automatic rotation of ${described}` });
    else if (entry.path.startsWith('aliases')) {
      const alias = entry.path.slice('aliases.'.length) || known.join(', ');
      const ofKey = keyId.startsWith('alias/') ? '' : ` of key ${keyId}`;
      if (entry.after === false) changes.push({ severity: 'high', what: `deleted the alias ${alias}${ofKey}` });
      else if (event.cloudTrail?.eventName === 'UpdateAlias') changes.push({ severity: 'high', what: `pointed the alias ${alias} at key ${stringAt(event.cloudTrail.requestParameters, 'targetKeyId') ?? keyId}` });
    }
  }
  if (changes.length === 0) return undefined;
  const severity = changes.map((c) => c.severity).reduce(maxSeverity);
  const change: TamperChange = {
    severity,
    title: severity === 'critical' ? "Buildwatch's key disabled or scheduled for deletion" : "Buildwatch's key or its alias changed",
    action: changes.map((c) => c.what).join('; '),
    resource: keyId,
    evidence: { key: facts.report.key, diff: facts.diff.filter((d) => d.path !== 'refused'), aliases: known, knownSince: facts.since },
  };
  return tamperObservation(event, options, change);
}

/** Refused attempts: the report carries only the attempt, so the diff shows it and the tamper helper rates it medium. */
function assessWithRefusals(facts: DriftFacts, event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  if (event.succeeded) return assess(facts, event, ctx);
  const record = event.cloudTrail;
  const next = record ? KEY_STATES[record.eventName] : undefined;
  const attempted = next ? next(record?.requestParameters ?? {}) : {};
  const diff: DiffEntry[] = Object.entries(attempted).map(([path, value]) => ({ path, change: 'changed' as const, after: value }));
  if (record?.eventName === 'DeleteAlias' || record?.eventName === 'UpdateAlias') {
    const alias = aliasOf(event, ctx.config.monitor.resourcePrefix);
    if (alias) diff.push({ path: `aliases.${alias}`, change: 'changed', after: record.eventName === 'UpdateAlias' });
  }
  const asIfDone: DriftFacts = { ...facts, diff };
  return assess(asIfDone, event, ctx);
}

export default defineUseCase({
  metadata: {
    id: 'monitor.key-tamper',
    answers: 'monitor.tamper',
    title: "Buildwatch's KMS key disabled, deleted or re-aliased",
    stage: 'monitor',
    description:
      "Detects DisableKey and ScheduleKeyDeletion (critical: every table, queue and topic of the monitor is encrypted with it), PutKeyPolicy (high), DisableKeyRotation (medium) on the monitor's key, and its `alias/<prefix>…` alias re-pointed or deleted (high). Key ids are random: the key is the monitor's when named (the stack passes it; offline options.keys) or when the history showed a monitor alias pointing at it (the stack's CreateAlias). Refused attempts are medium; CloudFormation deployments are low attestations.",
    severity: 'critical',
    defaultMode: 'alert',
    riskReduction: 4,
    effort: 1,
    mitre: ['T1485', 'T1562.001'],
    falsePositives: ['A planned key policy change made by hand instead of through the stack.'],
    runbook:
      'A disabled key: EnableKey now. A scheduled deletion: CancelKeyDeletion within the waiting period, then EnableKey. Restore the key policy and alias by redeploying the stack (cdk deploy). Find out who made the change; if unplanned, revoke the principal: whoever can disable the key can silence every part of Buildwatch.',
    references: ['https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html', 'https://docs.aws.amazon.com/kms/latest/developerguide/ct-createalias.html'],
    includeFailedCalls: true,
  },
  pattern: {
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['kms.amazonaws.com'],
      eventName: [...ALIAS_EVENTS, ...Object.keys(KEY_STATES)],
    },
  },
  logic: { kind: 'drift', report, initialState, assess: assessWithRefusals },
  optionsSchema,
});
