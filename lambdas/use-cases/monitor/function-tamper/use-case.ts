/**
 * monitor.function-tamper: Buildwatch's own Lambdas (detect, notify, heartbeat) replaced, reconfigured,
 * deleted, throttled to zero, opened to other callers, or cut from their queue or stream. CloudTrail
 * names Lambda operations with API versions (UpdateFunctionCode20150331v2), so the pattern matches on
 * prefixes and the logic on the name without its version (EVENTS.md 1.2, 7).
 */
import { stringAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { defineUseCase, optionsOf, type Observation, type UseCaseContext } from '../../../engine/use-case.js';
import { functionRefOf, isOwn, refOf, type Ownership } from '../own-resources.js';
import { baseEventName, ownershipOf, tamperObservation, tamperOptionsSchema, type TamperChange } from '../tamper.js';

/** Configuration fields that change what code runs, rather than how it runs. */
const CODE_FIELDS = ['layers', 'handler', 'runtime', 'imageConfig', 'kMSKeyArn', 'kmsKeyArn'];

function changedFields(params: Record<string, unknown>): string[] {
  return Object.keys(params).filter((key) => !['functionName', 'revisionId', 'qualifier'].includes(key));
}

/**
 * Layers the function runs according to the response, when the request does not name them: some
 * exports elide request parameters, and Buildwatch deploys its functions without layers, so any
 * layer there was put in by someone else.
 */
function layersFromResponse(params: Record<string, unknown>, response: Record<string, unknown>): string[] {
  if (params['layers'] !== undefined) return [];
  const layers = response['layers'];
  if (!Array.isArray(layers)) return [];
  return layers.map((layer) => (typeof layer === 'string' ? layer : stringAt(layer, 'arn'))).filter((arn): arn is string => arn !== undefined);
}

function functionChange(operation: string, params: Record<string, unknown>, response: Record<string, unknown>, name: string): TamperChange | undefined {
  switch (operation) {
    case 'UpdateFunctionCode':
      return { severity: 'critical', title: "Buildwatch's function code replaced", action: `replaced the code of function ${name}: it may no longer detect or alert`, resource: name };
    case 'UpdateFunctionConfiguration': {
      const responseLayers = layersFromResponse(params, response);
      const fields = [...changedFields(params), ...(responseLayers.length > 0 ? ['layers'] : [])];
      const code = fields.filter((field) => CODE_FIELDS.includes(field));
      return {
        severity: code.length > 0 ? 'critical' : 'high',
        title: "Buildwatch's function reconfigured",
        action: `changed the configuration of function ${name} (${fields.join(', ') || 'no fields'})${code.length > 0 ? ': other code now runs in it' : ''}`,
        resource: name,
        evidence: { changedFields: fields, ...(responseLayers.length > 0 ? { layersFromResponse: responseLayers } : {}) },
      };
    }
    case 'DeleteFunction':
      return { severity: 'critical', title: "Buildwatch's function deleted", action: `deleted function ${name}`, resource: name };
    case 'PutFunctionConcurrency': {
      // Zero reserved concurrency is Lambda's off switch; other values only cap it.
      if (Number(params['reservedConcurrentExecutions']) !== 0) return undefined;
      return { severity: 'critical', title: "Buildwatch's function throttled to zero", action: `set the reserved concurrency of function ${name} to 0: it no longer runs at all`, resource: name };
    }
    case 'RemovePermission':
      return { severity: 'high', title: "Buildwatch's function permission removed", action: `removed permission ${stringAt(params, 'statementId') ?? ''} from function ${name}: its trigger (e.g. the heartbeat schedule) may no longer invoke it`, resource: name };
    case 'AddPermission':
      return {
        severity: 'high',
        title: "Buildwatch's function opened to another caller",
        action: `allowed ${stringAt(params, 'principal') ?? 'another principal'} to invoke function ${name}: it could feed it forged events`,
        resource: name,
      };
    default:
      return undefined;
  }
}

/** Event source mappings are named by UUID: the function and source come from the response (or the request). */
function mappingChange(operation: string, event: PipelineEvent, ownership: Ownership): TamperChange | undefined {
  const record = event.cloudTrail;
  const params = record?.requestParameters ?? {};
  const response = record?.responseElements ?? {};
  const fn = functionRefOf(stringAt(response, 'functionArn') ?? stringAt(params, 'functionName'));
  const source = refOf(stringAt(response, 'eventSourceArn'));
  const ownFunction = isOwn(fn, event, ownership);
  if (!ownFunction && !isOwn(source, event, ownership)) return undefined;
  const uuid = stringAt(params, 'uUID') ?? stringAt(params, 'uuid') ?? stringAt(response, 'uUID') ?? 'unknown';
  const resource = fn?.name ?? source?.name ?? uuid;
  const between = `${source?.display ?? 'its source'} → ${fn?.display ?? 'its function'}`;
  if (operation === 'DeleteEventSourceMapping') {
    return { severity: 'critical', title: "Buildwatch's function cut from its source", action: `deleted event source mapping ${uuid} (${between}): events or findings stop flowing`, resource, evidence: { uuid } };
  }
  if (operation !== 'UpdateEventSourceMapping') return undefined;
  if (params['enabled'] === false) {
    return { severity: 'critical', title: "Buildwatch's function cut from its source", action: `disabled event source mapping ${uuid} (${between}): events or findings stop flowing`, resource, evidence: { uuid } };
  }
  if (!ownFunction) {
    return { severity: 'critical', title: "Buildwatch's queue or stream redirected", action: `pointed event source mapping ${uuid} at ${fn?.display ?? 'another function'}, which is not Buildwatch's`, resource, evidence: { uuid } };
  }
  const fields = changedFields(params).filter((field) => field !== 'uUID' && field !== 'uuid');
  const filters = fields.includes('filterCriteria');
  return {
    severity: filters ? 'high' : 'medium',
    title: "Buildwatch's event source mapping changed",
    action: `changed event source mapping ${uuid} (${between}): ${fields.join(', ') || 'no fields'}${filters ? ': its filter decides which records reach the function' : ''}`,
    resource,
    evidence: { uuid, changedFields: fields },
  };
}

function observe(event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const record = event.cloudTrail;
  if (!record) return undefined;
  const options = optionsOf(tamperOptionsSchema, ctx);
  const ownership = ownershipOf(ctx, options);
  const operation = baseEventName(record.eventName);
  const params = record.requestParameters ?? {};
  let change: TamperChange | undefined;
  if (operation.endsWith('EventSourceMapping')) change = mappingChange(operation, event, ownership);
  else {
    const fn = functionRefOf(stringAt(params, 'functionName') ?? stringAt(record.responseElements, 'functionArn'));
    if (isOwn(fn, event, ownership)) change = functionChange(operation, params, record.responseElements ?? {}, fn?.name ?? '');
  }
  return change ? tamperObservation(event, options, change) : undefined;
}

export default defineUseCase({
  metadata: {
    id: 'monitor.function-tamper',
    answers: 'monitor.tamper',
    title: "Buildwatch's Lambda functions replaced, disabled or cut off",
    stage: 'monitor',
    description:
      "Detects changes to the monitor's own Lambda functions: new code, configuration (layers, handler or runtime are critical), deletion, reserved concurrency 0, added or removed invoke permissions, and event source mappings deleted, disabled, redirected or re-filtered. CloudTrail's versioned event names (UpdateFunctionCode20150331v2) are matched by prefix. The stack's own CloudFormation deployments are recorded as low attestations.",
    severity: 'critical',
    defaultMode: 'alert',
    riskReduction: 5,
    effort: 1,
    mitre: ['T1562.001', 'T1525'],
    falsePositives: ['A hot fix deployed by hand (console or CLI) instead of through the stack.', 'Load tests that cap concurrency.'],
    runbook:
      'Redeploy the stack (cdk deploy) to restore code, configuration, concurrency, permissions and event source mappings. Compare the function code hash (GetFunction CodeSha256) with the deployed one. Find out who made the change; if unplanned, revoke the principal and review what Buildwatch could have missed since: replay CloudTrail for that window with `buildwatch replay`.',
    references: ['https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html'],
    includeFailedCalls: true,
  },
  pattern: {
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['lambda.amazonaws.com'],
      eventName: [
        { prefix: 'UpdateFunctionCode' },
        { prefix: 'UpdateFunctionConfiguration' },
        { prefix: 'DeleteFunction' },
        { prefix: 'PutFunctionConcurrency' },
        { prefix: 'RemovePermission' },
        { prefix: 'AddPermission' },
        { prefix: 'DeleteEventSourceMapping' },
        { prefix: 'UpdateEventSourceMapping' },
      ],
    },
  },
  logic: { kind: 'match', evaluate: observe },
  optionsSchema: tamperOptionsSchema,
});
