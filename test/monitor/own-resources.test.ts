/** Recognising the monitor's own resources, and the stack's facts reaching the tamper use cases. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/config.js';
import { toPipelineEvent } from '../../lambdas/engine/pipeline-event.js';
import { functionRefOf, isOwn, keyIdOf, queueRefOf, refOf, withMonitorResources } from '../../lambdas/use-cases/monitor/own-resources.js';
import { baseEventName, isCloudFormationDeployment } from '../../lambdas/use-cases/monitor/tamper.js';

function event(account: string, identity: Record<string, unknown> = { type: 'IAMUser', arn: `arn:aws:iam::${account}:user/dev` }, extra: Record<string, unknown> = {}) {
  return toPipelineEvent({
    version: '0', id: 'e1', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.events', account, time: '2026-11-03T10:00:00Z', region: 'eu-west-1', resources: [],
    detail: { eventTime: '2026-11-03T10:00:00Z', eventSource: 'events.amazonaws.com', eventName: 'DisableRule', eventID: 'ct-1', recipientAccountId: account, userIdentity: identity, ...extra },
  });
}

describe('resource references', () => {
  it('reads names out of ARNs of every service the monitor uses', () => {
    expect(refOf('arn:aws:sns:eu-west-1:111122223333:buildwatch-alerts')).toMatchObject({ name: 'buildwatch-alerts', account: '111122223333' });
    expect(refOf('arn:aws:sns:eu-west-1:111122223333:buildwatch-alerts:6b0d2f4a-1c3e-4a5b-9d7f-8e0a2c4b6d8f')?.name).toBe('buildwatch-alerts');
    expect(refOf('arn:aws:events:eu-west-1:111122223333:rule/buildwatch-x')?.name).toBe('buildwatch-x');
    expect(refOf('arn:aws:dynamodb:eu-west-1:111122223333:table/buildwatch-findings/stream/2026-10-01T08:00:00.000')?.name).toBe('buildwatch-findings');
    expect(refOf('arn:aws:scheduler:eu-west-1:111122223333:schedule/default/buildwatch-canary')?.name).toBe('buildwatch-canary');
    expect(refOf('arn:aws:cloudwatch:eu-west-1:111122223333:alarm:buildwatch-detect-errors')?.name).toBe('buildwatch-detect-errors');
    expect(refOf('buildwatch-state')).toEqual({ name: 'buildwatch-state', display: 'buildwatch-state' });
  });

  it('reads Lambda function names in all the forms the API accepts', () => {
    expect(functionRefOf('buildwatch-detect')?.name).toBe('buildwatch-detect');
    expect(functionRefOf('buildwatch-detect:live')?.name).toBe('buildwatch-detect');
    expect(functionRefOf('111122223333:function:buildwatch-detect')).toMatchObject({ name: 'buildwatch-detect', account: '111122223333' });
    expect(functionRefOf('arn:aws:lambda:eu-west-1:444455556666:function:buildwatch-detect:7')).toMatchObject({ name: 'buildwatch-detect', account: '444455556666' });
  });

  it('reads SQS queue URLs (current and legacy hosts) and key ids', () => {
    expect(queueRefOf('https://sqs.eu-west-1.amazonaws.com/111122223333/buildwatch-detect')).toMatchObject({ name: 'buildwatch-detect', account: '111122223333' });
    expect(queueRefOf('https://eu-west-1.queue.amazonaws.com/111122223333/buildwatch-detect')?.name).toBe('buildwatch-detect');
    expect(keyIdOf('arn:aws:kms:eu-west-1:111122223333:key/2b7c4e91-5d3a-4f6b-8c0e-1a9d3f5b7e2c')).toBe('2b7c4e91-5d3a-4f6b-8c0e-1a9d3f5b7e2c');
    expect(keyIdOf('alias/buildwatch-key')).toBeUndefined();
  });

  it('is the monitor\'s only with the prefix at the start, and no account saying otherwise', () => {
    const own = { prefix: 'buildwatch-' };
    expect(isOwn(refOf('buildwatch-detect'), event('111122223333'), own)).toBe(true);
    expect(isOwn(refOf('team-buildwatch-detect'), event('111122223333'), own)).toBe(false);
    expect(isOwn(refOf('arn:aws:sns:eu-west-1:444455556666:buildwatch-alerts'), event('111122223333'), own)).toBe(false);
    expect(isOwn(refOf('buildwatch-detect'), event('444455556666'), { ...own, account: '111122223333' })).toBe(false);
    expect(isOwn(refOf('buildwatch-detect'), event('111122223333'), { ...own, account: '111122223333' })).toBe(true);
  });
});

describe('deployments and event names', () => {
  it('recognises CloudFormation by its invokedBy, user agent or source IP, and by the CDK execution role', () => {
    expect(isCloudFormationDeployment(event('111122223333', { type: 'AssumedRole', invokedBy: 'cloudformation.amazonaws.com' }))).toBe(true);
    expect(isCloudFormationDeployment(event('111122223333', undefined, { userAgent: 'cloudformation.amazonaws.com' }))).toBe(true);
    expect(isCloudFormationDeployment(event('111122223333', { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-1/AWSCloudFormation' }))).toBe(true);
    expect(isCloudFormationDeployment(event('111122223333', undefined, { userAgent: 'aws-cli/2.17.21', sourceIPAddress: '198.51.100.7' }))).toBe(false);
  });

  it('drops Lambda API versions from event names', () => {
    expect(baseEventName('UpdateFunctionCode20150331v2')).toBe('UpdateFunctionCode');
    expect(baseEventName('PutFunctionConcurrency20171031')).toBe('PutFunctionConcurrency');
    expect(baseEventName('DisableRule')).toBe('DisableRule');
  });
});

describe('withMonitorResources (the stack\'s facts, merged by the detect handler)', () => {
  const resources = JSON.stringify({ account: '111122223333', keys: ['arn:aws:kms:eu-west-1:111122223333:key/2b7c4e91-5d3a-4f6b-8c0e-1a9d3f5b7e2c'] });

  it('gives every tamper use case the account and the key use case the key, keeping configured values', () => {
    const config = withMonitorResources(parseConfig({ useCases: { 'monitor.key-tamper': { mode: 'attest', options: { keys: ['alias-free-id'] } }, 'monitor.rule-tamper': { options: { account: '999988887777' } } } }), resources);
    expect(config.useCases['monitor.function-tamper']?.options).toEqual({ account: '111122223333' });
    expect(config.useCases['monitor.rule-tamper']?.options).toEqual({ account: '999988887777' });
    expect(config.useCases['monitor.key-tamper']).toMatchObject({ mode: 'attest', options: { account: '111122223333', keys: ['alias-free-id', 'arn:aws:kms:eu-west-1:111122223333:key/2b7c4e91-5d3a-4f6b-8c0e-1a9d3f5b7e2c'] } });
  });

  it('leaves the configuration alone without (or with a malformed) variable', () => {
    const config = parseConfig({});
    expect(withMonitorResources(config, undefined)).toBe(config);
    expect(withMonitorResources(config, '{not json')).toBe(config);
    expect(withMonitorResources(config, JSON.stringify({ account: 'x' }))).toBe(config);
  });
});
