/**
 * EventBridge pattern semantics, case by case. Patterns and events come from the EventBridge user
 * guide (content filtering, comparison operators, arrays, null values) and the aws/event-ruler
 * README; CloudTrail-shaped cases mirror the rules Buildwatch deploys.
 */
import { describe, expect, it } from 'vitest';
import { matchesPattern, validatePattern, type EventPattern } from '../../lambdas/engine/event-pattern.js';

interface MatchCase {
  readonly name: string;
  readonly pattern: EventPattern;
  readonly event: unknown;
  readonly matches: boolean;
}

/** The sample EC2 event of the user guide and the event-ruler README. */
const ec2Event = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
} as const;

/** An event whose `detail` carries the given fields only. */
function withDetail(detail: Record<string, unknown>): unknown {
  return { source: 'test', 'detail-type': 'Test', detail };
}

function run(cases: readonly MatchCase[]): void {
  it.each(cases)('$name', ({ pattern, event, matches }) => {
    expect(matchesPattern(pattern, event)).toBe(matches);
  });
}

const exactCases: MatchCase[] = [
  { name: 'single value matches', pattern: { source: ['aws.ec2'] }, event: ec2Event, matches: true },
  { name: 'single value mismatch', pattern: { source: ['aws.s3'] }, event: ec2Event, matches: false },
  { name: 'any listed value matches (OR)', pattern: { source: ['aws.ec2', 'aws.fargate'] }, event: ec2Event, matches: true },
  { name: 'matching is case-sensitive', pattern: { source: ['AWS.EC2'] }, event: ec2Event, matches: false },
  {
    name: 'all fields must match (AND), other fields ignored',
    pattern: {
      'detail-type': ['EC2 Instance State-change Notification'],
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
      detail: { state: ['initializing', 'running'] },
    },
    event: ec2Event,
    matches: true,
  },
  {
    name: 'one failing field fails the pattern',
    pattern: { 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['terminated'] } },
    event: ec2Event,
    matches: false,
  },
  { name: 'number by value', pattern: { detail: { 'c-count': [5] } }, event: ec2Event, matches: true },
  { name: 'number in another notation', pattern: { detail: { 'x-limit': [3.018e2] } }, event: ec2Event, matches: true },
  { name: 'number pattern does not match a string', pattern: { detail: { n: [5] } }, event: withDetail({ n: '5' }), matches: false },
  { name: 'string pattern does not match a number', pattern: { detail: { 'c-count': ['5'] } }, event: ec2Event, matches: false },
  { name: 'boolean', pattern: { detail: { enabled: [true] } }, event: withDetail({ enabled: true }), matches: true },
  { name: 'boolean is not the string "true"', pattern: { detail: { enabled: [true] } }, event: withDetail({ enabled: 'true' }), matches: false },
  { name: 'absent field never matches a value', pattern: { detail: { missing: ['x'] } }, event: ec2Event, matches: false },
  { name: 'absent parent object', pattern: { detail: { state: ['running'] } }, event: { source: 'aws.ec2' }, matches: false },
  { name: 'leaf pattern against an object value', pattern: { detail: ['x'] }, event: ec2Event, matches: false },
  { name: 'nested pattern against a scalar value', pattern: { source: { inner: ['x'] } }, event: ec2Event, matches: false },
  { name: 'non-object event', pattern: { source: ['aws.ec2'] }, event: 'aws.ec2', matches: false },
  { name: 'empty pattern matches any event', pattern: {}, event: ec2Event, matches: true },
  { name: 'prototype keys are not fields', pattern: { constructor: [{ exists: true }] }, event: {}, matches: false },
];

/** User guide, "Matching events on null values and empty strings". */
const nullEvent = {
  version: '0',
  id: '3e3c153a-8339-4e30-8c35-687ebef853fe',
  'detail-type': 'EC2 Instance Launch Successful',
  source: 'aws.autoscaling',
  account: '123456789012',
  time: '2015-11-11T21:31:47Z',
  region: 'us-east-1',
  resources: [],
  detail: { eventVersion: '', responseElements: null },
};

const nullCases: MatchCase[] = [
  { name: 'empty string matches ""', pattern: { detail: { eventVersion: [''] } }, event: nullEvent, matches: true },
  { name: 'null matches null', pattern: { detail: { responseElements: [null] } }, event: nullEvent, matches: true },
  { name: 'empty string does not match null', pattern: { detail: { responseElements: [''] } }, event: nullEvent, matches: false },
  { name: 'null does not match empty string', pattern: { detail: { eventVersion: [null] } }, event: nullEvent, matches: false },
  { name: 'null does not match an absent field', pattern: { detail: { other: [null] } }, event: nullEvent, matches: false },
];

/** User guide, "Arrays in event patterns", and the event-ruler README's array section. */
const employees = {
  employees: [
    { firstName: 'John', lastName: 'Doe' },
    { firstName: 'Anna', lastName: 'Smith' },
    { firstName: 'Peter', lastName: 'Jones' },
  ],
};
const arrayCases: MatchCase[] = [
  {
    name: 'intersection of pattern and event arrays is non-empty',
    pattern: {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    },
    event: {
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    },
    matches: true,
  },
  {
    name: 'disjoint arrays',
    pattern: { resources: ['arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f'] },
    event: { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] },
    matches: false,
  },
  { name: 'operators apply to each element', pattern: { tags: [{ prefix: 'team-' }] }, event: { tags: ['env-prod', 'team-payments'] }, matches: true },
  { name: 'array of objects is crushed', pattern: { employees: { firstName: ['Anna'] } }, event: employees, matches: true },
  {
    name: 'array consistency: fields from one element',
    pattern: { employees: { firstName: ['Anna'], lastName: ['Smith'] } },
    event: employees,
    matches: true,
  },
  {
    name: 'array consistency: fields from two elements do not match',
    pattern: { employees: { firstName: ['Anna'], lastName: ['Jones'] } },
    event: employees,
    matches: false,
  },
  {
    name: 'multi-level arrays',
    pattern: { employees: { firstName: ['Peter'] } },
    event: {
      employees: [
        [
          { firstName: 'John', lastName: 'Doe' },
          { firstName: 'Anna', lastName: 'Smith' },
        ],
        [{ firstName: 'Peter', lastName: 'Jones' }],
      ],
    },
    matches: true,
  },
  { name: 'empty event array holds no value', pattern: { resources: [{ exists: true }] }, event: nullEvent, matches: false },
  { name: 'empty event array counts as absent', pattern: { resources: [{ exists: false }] }, event: nullEvent, matches: true },
];

const prefixSuffixCases: MatchCase[] = [
  { name: 'prefix', pattern: { time: [{ prefix: '2017-10-02' }] }, event: ec2Event, matches: true },
  { name: 'prefix mismatch', pattern: { time: [{ prefix: '2017-10-03' }] }, event: ec2Event, matches: false },
  { name: 'prefix is case-sensitive', pattern: { source: [{ prefix: 'AWS.' }] }, event: ec2Event, matches: false },
  { name: 'empty prefix matches any string', pattern: { source: [{ prefix: '' }] }, event: ec2Event, matches: true },
  { name: 'prefix only applies to strings', pattern: { detail: { 'c-count': [{ prefix: '5' }] } }, event: ec2Event, matches: false },
  {
    name: 'prefix ignoring case',
    pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    event: withDetail({ service: 'eventbridge' }),
    matches: true,
  },
  {
    name: 'prefix ignoring case, upper-case value',
    pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    event: withDetail({ service: 'EVENTBRIDGE' }),
    matches: true,
  },
  {
    name: 'prefix ignoring case, mismatch',
    pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    event: withDetail({ service: 'events' }),
    matches: false,
  },
  { name: 'suffix', pattern: { FileName: [{ suffix: '.png' }] }, event: { FileName: 'image.png' }, matches: true },
  { name: 'suffix is case-sensitive', pattern: { FileName: [{ suffix: '.png' }] }, event: { FileName: 'image.PNG' }, matches: false },
  { name: 'suffix mismatch', pattern: { source: [{ suffix: 'ec2' }] }, event: { source: 'aws.s3' }, matches: false },
  {
    name: 'suffix ignoring case',
    pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    event: withDetail({ FileName: 'IMAGE.PNG' }),
    matches: true,
  },
];

const ignoreCaseCases: MatchCase[] = [
  { name: 'equals-ignore-case', pattern: { Name: [{ 'equals-ignore-case': 'alice' }] }, event: { Name: 'Alice' }, matches: true },
  { name: 'equals-ignore-case upper', pattern: { source: [{ 'equals-ignore-case': 'EC2' }] }, event: { source: 'ec2' }, matches: true },
  { name: 'equals-ignore-case is still equality', pattern: { Name: [{ 'equals-ignore-case': 'alice' }] }, event: { Name: 'Alicia' }, matches: false },
  { name: 'equals-ignore-case only applies to strings', pattern: { n: [{ 'equals-ignore-case': '5' }] }, event: { n: 5 }, matches: false },
];

const wildcardCases: MatchCase[] = [
  { name: 'wildcard in the middle', pattern: { source: [{ wildcard: 'Simple*Service' }] }, event: { source: 'SimpleNotificationService' }, matches: true },
  { name: 'wildcard matches zero characters', pattern: { source: [{ wildcard: 'Simple*Service' }] }, event: { source: 'SimpleService' }, matches: true },
  { name: 'wildcard mismatch', pattern: { source: [{ wildcard: 'Simple*Service' }] }, event: { source: 'SimpleQueue' }, matches: false },
  { name: 'wildcard file type', pattern: { key: [{ wildcard: 'dir/*.png' }] }, event: { key: 'dir/doc.png' }, matches: true },
  { name: 'wildcard crosses separators', pattern: { key: [{ wildcard: 'dir/*.png' }] }, event: { key: 'dir/sub/doc.png' }, matches: true },
  { name: 'wildcard anchored at both ends', pattern: { key: [{ wildcard: 'dir/*.png' }] }, event: { key: 'dir/doc.png.bak' }, matches: false },
  {
    name: 'wildcard ARN',
    pattern: { arn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] },
    event: { arn: 'arn:aws:events:us-east-1:123456789012:event-bus/default' },
    matches: true,
  },
  { name: 'several wildcards in order', pattern: { p: [{ wildcard: '*/lib/*' }] }, event: { p: '/usr/lib/x.so' }, matches: true },
  { name: 'pieces must not overlap', pattern: { p: [{ wildcard: 'ab*ba' }] }, event: { p: 'aba' }, matches: false },
  { name: 'lone star matches the empty string', pattern: { p: [{ wildcard: '*' }] }, event: { p: '' }, matches: true },
  { name: 'escaped star is literal', pattern: { p: [{ wildcard: 'a\\*b' }] }, event: { p: 'a*b' }, matches: true },
  { name: 'escaped star is not a wildcard', pattern: { p: [{ wildcard: 'a\\*b' }] }, event: { p: 'axb' }, matches: false },
  { name: 'escaped backslash', pattern: { p: [{ wildcard: 'C:\\\\*' }] }, event: { p: 'C:\\Windows' }, matches: true },
  { name: 'wildcard without star is equality', pattern: { p: [{ wildcard: 'abc' }] }, event: { p: 'abcd' }, matches: false },
  { name: 'wildcard only applies to strings', pattern: { p: [{ wildcard: '*' }] }, event: { p: 1 }, matches: false },
];

const anythingButCases: MatchCase[] = [
  { name: 'anything-but string', pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } }, event: ec2Event, matches: true },
  {
    name: 'anything-but string, excluded value',
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: withDetail({ state: 'initializing' }),
    matches: false,
  },
  { name: 'anything-but needs the field', pattern: { detail: { missing: [{ 'anything-but': 'x' }] } }, event: ec2Event, matches: false },
  { name: 'anything-but number', pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, event: ec2Event, matches: true },
  { name: 'anything-but number, excluded', pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, event: withDetail({ 'x-limit': 123 }), matches: false },
  {
    name: 'anything-but list of strings',
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    event: ec2Event,
    matches: true,
  },
  {
    name: 'anything-but list of strings, excluded',
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    event: withDetail({ state: 'stopped' }),
    matches: false,
  },
  { name: 'anything-but list of numbers', pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, event: ec2Event, matches: true },
  {
    name: 'anything-but list of numbers, excluded',
    pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
    event: withDetail({ 'x-limit': 200 }),
    matches: false,
  },
  { name: 'anything-but prefix', pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, event: ec2Event, matches: true },
  {
    name: 'anything-but prefix, excluded',
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    event: withDetail({ state: 'initializing' }),
    matches: false,
  },
  { name: 'anything-but suffix', pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] }, event: { FileName: 'a.jpg' }, matches: true },
  { name: 'anything-but suffix, excluded', pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] }, event: { FileName: 'a.png' }, matches: false },
  {
    name: 'anything-but ignoring case, excluded',
    pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
    event: { state: 'INITIALIZING' },
    matches: false,
  },
  {
    name: 'anything-but ignoring case, other value',
    pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
    event: { state: 'running' },
    matches: true,
  },
  {
    name: 'anything-but ignoring case, list',
    pattern: { state: [{ 'anything-but': { 'equals-ignore-case': ['stopped', 'overloaded'] } }] },
    event: { state: 'Overloaded' },
    matches: false,
  },
  { name: 'anything-but wildcard', pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, event: { FilePath: '/usr/bin/x' }, matches: true },
  {
    name: 'anything-but wildcard, excluded',
    pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    event: { FilePath: '/usr/lib/x' },
    matches: false,
  },
  // EventBridge matches a null value against anything-but (a present value that is not excluded).
  { name: 'anything-but matches null', pattern: { detail: { foo: [{ 'anything-but': ['baz'] }] } }, event: withDetail({ foo: null }), matches: true },
  { name: 'anything-but string matches a number', pattern: { v: [{ 'anything-but': '5' }] }, event: { v: 5 }, matches: true },
  // Arrays: like every matcher, anything-but matches if any element passes.
  { name: 'anything-but on an array with an allowed element', pattern: { s: [{ 'anything-but': 'stopped' }] }, event: { s: ['stopped', 'running'] }, matches: true },
  { name: 'anything-but on an array of excluded values', pattern: { s: [{ 'anything-but': 'stopped' }] }, event: { s: ['stopped'] }, matches: false },
];

const numericCases: MatchCase[] = [
  { name: 'range, inside', pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, event: ec2Event, matches: true },
  { name: 'range, lower bound excluded', pattern: { detail: { n: [{ numeric: ['>', 0, '<=', 5] }] } }, event: withDetail({ n: 0 }), matches: false },
  { name: 'range, above', pattern: { detail: { n: [{ numeric: ['>', 0, '<=', 5] }] } }, event: withDetail({ n: 6 }), matches: false },
  { name: 'range, inclusive lower bound', pattern: { n: [{ numeric: ['>=', 1, '<', 2] }] }, event: { n: 1 }, matches: true },
  { name: 'range, exclusive upper bound', pattern: { n: [{ numeric: ['>=', 1, '<', 2] }] }, event: { n: 2 }, matches: false },
  { name: 'less than', pattern: { detail: { 'd-count': [{ numeric: ['<', 10] }] } }, event: ec2Event, matches: true },
  { name: 'less than, bound', pattern: { n: [{ numeric: ['<', 10] }] }, event: { n: 10 }, matches: false },
  { name: 'equals in another notation', pattern: { detail: { 'x-limit': [{ numeric: ['=', 3.018e2] }] } }, event: ec2Event, matches: true },
  { name: 'numeric ignores numeric strings', pattern: { n: [{ numeric: ['>', 0] }] }, event: { n: '5' }, matches: false },
  { name: 'numeric on an array', pattern: { n: [{ numeric: ['>', 100] }] }, event: { n: [1, 2, 300] }, matches: true },
  {
    name: 'complex example combining operators',
    pattern: {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        state: [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
        'source-ip': [{ cidr: '10.0.0.0/8' }],
      },
    },
    event: ec2Event,
    matches: true,
  },
];

/** User guide, "Exists matching": the two events it shows. */
const pendingEvent = {
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '123456789012',
  time: '2015-11-11T21:29:54Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
  detail: { 'instance-id': 'i-abcd1111', state: 'pending' },
};
const intermediateEvent = {
  'detail-type': 'EC2 Instance State-change Notification',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341'],
  detail: { 'c-count': { c1: 100 } },
};
const existsCases: MatchCase[] = [
  { name: 'exists true', pattern: { detail: { state: [{ exists: true }] } }, event: pendingEvent, matches: true },
  { name: 'exists true, absent', pattern: { detail: { state: [{ exists: true }] } }, event: intermediateEvent, matches: false },
  { name: 'exists false, absent', pattern: { detail: { 'c-count': [{ exists: false }] } }, event: pendingEvent, matches: true },
  { name: 'exists false, present', pattern: { detail: { 'c-count': [{ exists: false }] } }, event: ec2Event, matches: false },
  { name: 'exists only sees leaves: false on an object', pattern: { detail: { 'c-count': [{ exists: false }] } }, event: intermediateEvent, matches: true },
  { name: 'exists only sees leaves: true on an object', pattern: { detail: { 'c-count': [{ exists: true }] } }, event: intermediateEvent, matches: false },
  { name: 'exists true on null', pattern: { detail: { responseElements: [{ exists: true }] } }, event: nullEvent, matches: true },
  { name: 'exists false, parent absent', pattern: { detail: { x: [{ exists: false }] } }, event: { source: 'aws.ec2' }, matches: true },
  { name: 'exists false or a value', pattern: { detail: { state: [{ exists: false }, 'pending'] } }, event: pendingEvent, matches: true },
];

const cidrCases: MatchCase[] = [
  { name: 'IPv4 in block', pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, event: withDetail({ sourceIPAddress: '10.0.0.255' }), matches: true },
  { name: 'IPv4 outside block', pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, event: withDetail({ sourceIPAddress: '10.0.1.1' }), matches: false },
  { name: 'IPv4 /8', pattern: { detail: { 'source-ip': [{ cidr: '10.0.0.0/8' }] } }, event: ec2Event, matches: true },
  { name: 'IPv4 /32', pattern: { ip: [{ cidr: '192.168.1.7/32' }] }, event: { ip: '192.168.1.7' }, matches: true },
  { name: 'IPv4 /32 neighbour', pattern: { ip: [{ cidr: '192.168.1.7/32' }] }, event: { ip: '192.168.1.8' }, matches: false },
  { name: 'IPv4 /0', pattern: { ip: [{ cidr: '0.0.0.0/0' }] }, event: { ip: '203.0.113.9' }, matches: true },
  { name: 'IPv6 in block', pattern: { ip: [{ cidr: '2001:db8::/32' }] }, event: { ip: '2001:db8:0:0:1::1' }, matches: true },
  { name: 'IPv6 outside block', pattern: { ip: [{ cidr: '2001:db8::/32' }] }, event: { ip: '2001:db9::1' }, matches: false },
  { name: 'IPv6 with an IPv4 tail', pattern: { ip: [{ cidr: '::ffff:0:0/96' }] }, event: { ip: '::ffff:10.0.0.1' }, matches: true },
  { name: 'families do not mix', pattern: { ip: [{ cidr: '::/0' }] }, event: { ip: '10.0.0.1' }, matches: false },
  { name: 'not an address', pattern: { ip: [{ cidr: '10.0.0.0/8' }] }, event: { ip: 'AWS Internal' }, matches: false },
  { name: 'CloudTrail service name is not an address', pattern: { ip: [{ cidr: '10.0.0.0/8' }] }, event: { ip: 'codebuild.amazonaws.com' }, matches: false },
];

/** event-ruler README, "$or" examples, with events of our own. */
const cloudwatch = (fields: Record<string, unknown>): unknown => ({ source: 'aws.cloudwatch', ...fields });
const orNormal: EventPattern = {
  source: ['aws.cloudwatch'],
  $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
};
const orNested: EventPattern = {
  source: ['aws.cloudwatch'],
  $or: [
    { metricName: ['CPUUtilization', 'ReadLatency'] },
    { metricType: ['MetricType'], namespace: ['AWS/EC2', 'AWS/ES'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] },
    { scope: ['Service'] },
  ],
};
const orCases: MatchCase[] = [
  { name: 'first branch', pattern: orNormal, event: cloudwatch({ metricName: 'ReadLatency' }), matches: true },
  { name: 'second branch', pattern: orNormal, event: cloudwatch({ namespace: 'AWS/ES' }), matches: true },
  { name: 'no branch', pattern: orNormal, event: cloudwatch({ metricName: 'Other', namespace: 'AWS/S3' }), matches: false },
  { name: 'branch matches but the AND fails', pattern: orNormal, event: { source: 'aws.s3', metricName: 'ReadLatency' }, matches: false },
  {
    name: 'parallel $or at two levels',
    pattern: {
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
      detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }] },
    },
    event: { metricName: 'CPUUtilization', detail: { 'detail-type': 'CloudWatch Alarm State Change' } },
    matches: true,
  },
  {
    name: 'parallel $or, inner fails',
    pattern: {
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
      detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }] },
    },
    event: { metricName: 'CPUUtilization', detail: { source: 'aws.ec2' } },
    matches: false,
  },
  { name: 'nested: AND branch with inner $or', pattern: orNested, event: cloudwatch({ metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1000 }), matches: true },
  { name: 'nested: AND branch, inner $or fails', pattern: orNested, event: cloudwatch({ metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1 }), matches: false },
  { name: 'nested: AND branch incomplete', pattern: orNested, event: cloudwatch({ namespace: 'AWS/EC2', metricId: 1234 }), matches: false },
  { name: 'nested: last branch', pattern: orNested, event: cloudwatch({ scope: 'Service' }), matches: true },
  {
    name: 'numeric branches (user guide)',
    pattern: {
      detail: {
        $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }, { 'x-limit': [{ numeric: ['=', 3.018e2] }] }],
      },
    },
    event: withDetail({ 'c-count': 50, 'd-count': 50, 'x-limit': 301.8 }),
    matches: true,
  },
  { name: 'branch with exists false', pattern: { $or: [{ a: ['x'] }, { b: [{ exists: false }] }] }, event: { a: 'y' }, matches: true },
  {
    name: '$or holding an object stays a field name (legacy rules)',
    pattern: { source: ['aws.cloudwatch'], $or: { metricType: ['MetricType'] } },
    event: { source: 'aws.cloudwatch', $or: { metricType: 'MetricType' } },
    matches: true,
  },
];

/** CloudTrail events as EventBridge delivers them ("AWS API Call via CloudTrail"). */
function cloudTrail(source: string, eventSource: string, eventName: string, extra: Record<string, unknown> = {}): unknown {
  return {
    version: '0',
    id: '6f87d04b-9f74-4f04-a780-7acf4b0a9b38',
    'detail-type': 'AWS API Call via CloudTrail',
    source,
    account: '111122223333',
    time: '2024-05-02T10:11:12Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/dev/alice', accountId: '111122223333' },
      eventTime: '2024-05-02T10:11:12Z',
      eventSource,
      eventName,
      awsRegion: 'eu-west-1',
      sourceIPAddress: '198.51.100.23',
      userAgent: 'git/2.43.0',
      requestParameters: null,
      responseElements: null,
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      ...extra,
    },
  };
}

const gitPush: EventPattern = {
  source: ['aws.codecommit'],
  'detail-type': ['AWS API Call via CloudTrail'],
  detail: { eventSource: ['codecommit.amazonaws.com'], eventName: ['GitPush'] },
};
const buildProjectChanges = {
  source: ['aws.codebuild'],
  'detail-type': ['AWS API Call via CloudTrail'],
  detail: {
    eventSource: ['codebuild.amazonaws.com'],
    eventName: ['CreateProject', 'UpdateProject'],
    errorCode: [{ exists: false }],
    userIdentity: { type: [{ 'anything-but': 'AWSService' }] },
  },
} as const;
const outsideCorporateNetwork: EventPattern = {
  source: ['aws.codeartifact'],
  detail: {
    eventName: [{ prefix: 'Publish' }],
    sourceIPAddress: [{ 'anything-but': { suffix: '.amazonaws.com' } }],
    $or: [{ userAgent: [{ wildcard: '*npm/*' }] }, { userAgent: [{ wildcard: '*twine/*' }] }],
  },
};
const cloudTrailCases: MatchCase[] = [
  { name: 'GitPush', pattern: gitPush, event: cloudTrail('aws.codecommit', 'codecommit.amazonaws.com', 'GitPush'), matches: true },
  { name: 'GitPush pattern, other API', pattern: gitPush, event: cloudTrail('aws.codecommit', 'codecommit.amazonaws.com', 'CreateBranch'), matches: false },
  { name: 'GitPush pattern, other source', pattern: gitPush, event: cloudTrail('aws.codebuild', 'codecommit.amazonaws.com', 'GitPush'), matches: false },
  {
    name: 'GitPush pattern, other detail-type',
    pattern: gitPush,
    event: { ...(cloudTrail('aws.codecommit', 'codecommit.amazonaws.com', 'GitPush') as object), 'detail-type': 'CodeCommit Repository State Change' },
    matches: false,
  },
  { name: 'GitPush pattern, no detail', pattern: gitPush, event: { source: 'aws.codecommit', 'detail-type': 'AWS API Call via CloudTrail' }, matches: false },
  { name: 'project change by a person', pattern: buildProjectChanges, event: cloudTrail('aws.codebuild', 'codebuild.amazonaws.com', 'UpdateProject'), matches: true },
  {
    name: 'project change that failed',
    pattern: buildProjectChanges,
    event: cloudTrail('aws.codebuild', 'codebuild.amazonaws.com', 'UpdateProject', { errorCode: 'AccessDenied' }),
    matches: false,
  },
  {
    name: 'project change by an AWS service',
    pattern: buildProjectChanges,
    event: cloudTrail('aws.codebuild', 'codebuild.amazonaws.com', 'CreateProject', { userIdentity: { type: 'AWSService', invokedBy: 'codepipeline.amazonaws.com' } }),
    matches: false,
  },
  {
    name: 'npm publish from outside AWS',
    pattern: outsideCorporateNetwork,
    event: cloudTrail('aws.codeartifact', 'codeartifact.amazonaws.com', 'PublishPackageVersion', { userAgent: 'npm/10.2.4 node/v20.11.0 linux x64' }),
    matches: true,
  },
  {
    name: 'publish from an AWS service address',
    pattern: outsideCorporateNetwork,
    event: cloudTrail('aws.codeartifact', 'codeartifact.amazonaws.com', 'PublishPackageVersion', {
      userAgent: 'npm/10.2.4 node/v20.11.0 linux x64',
      sourceIPAddress: 'codebuild.amazonaws.com',
    }),
    matches: false,
  },
  {
    name: 'publish with another client',
    pattern: outsideCorporateNetwork,
    event: cloudTrail('aws.codeartifact', 'codeartifact.amazonaws.com', 'PublishPackageVersion', { userAgent: 'aws-cli/2.15.0' }),
    matches: false,
  },
];

describe('matchesPattern', () => {
  describe('exact values', () => run(exactCases));
  describe('null and empty string', () => run(nullCases));
  describe('arrays in events', () => run(arrayCases));
  describe('prefix and suffix', () => run(prefixSuffixCases));
  describe('equals-ignore-case', () => run(ignoreCaseCases));
  describe('wildcard', () => run(wildcardCases));
  describe('anything-but', () => run(anythingButCases));
  describe('numeric', () => run(numericCases));
  describe('exists', () => run(existsCases));
  describe('cidr', () => run(cidrCases));
  describe('$or', () => run(orCases));
  describe('CloudTrail patterns', () => run(cloudTrailCases));

  it('accepts patterns written as const', () => {
    const pattern = { source: ['aws.ec2'], detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } } as const;
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
  });

  it('matches nothing under a malformed leaf rather than everything', () => {
    expect(matchesPattern({ source: 'aws.ec2' } as unknown as EventPattern, ec2Event)).toBe(false);
    expect(matchesPattern({ source: [] }, ec2Event)).toBe(false);
    expect(matchesPattern({ source: [{ contains: 'ec2' }] }, ec2Event)).toBe(false);
    expect(matchesPattern({ source: [{ prefix: 'aws', suffix: 'ec2' }] }, ec2Event)).toBe(false);
  });
});

describe('validatePattern', () => {
  const documented = [
    ...exactCases,
    ...nullCases,
    ...arrayCases,
    ...prefixSuffixCases,
    ...ignoreCaseCases,
    ...wildcardCases,
    ...anythingButCases,
    ...numericCases,
    ...existsCases,
    ...cidrCases,
    ...orCases,
    ...cloudTrailCases,
  ].filter(({ name }) => name !== 'empty pattern matches any event' && !name.includes('legacy'));

  it.each(documented)('accepts the pattern of "$name"', ({ pattern }) => {
    expect(validatePattern(pattern)).toEqual([]);
  });

  interface InvalidCase {
    readonly name: string;
    readonly pattern: unknown;
    /** Fragments the single reported problem must contain. */
    readonly problem: readonly string[];
  }
  const invalid: InvalidCase[] = [
    { name: 'not an object', pattern: ['aws.ec2'], problem: ['pattern', 'JSON object'] },
    { name: 'null pattern', pattern: null, problem: ['pattern', 'null'] },
    { name: 'empty pattern', pattern: {}, problem: ['pattern', 'empty'] },
    { name: 'empty nested object', pattern: { detail: {} }, problem: ['detail', 'empty'] },
    { name: 'leaf is a string', pattern: { source: 'aws.ec2' }, problem: ['source', 'must be an array'] },
    { name: 'leaf is a number', pattern: { detail: { count: 5 } }, problem: ['detail.count', 'must be an array'] },
    { name: 'leaf is null', pattern: { detail: { x: null } }, problem: ['detail.x', 'must be an array'] },
    { name: 'empty leaf', pattern: { source: [] }, problem: ['source', 'empty array'] },
    { name: 'nested array in a leaf', pattern: { source: [['aws.ec2']] }, problem: ['source[0]', 'must be a string'] },
    { name: 'unknown operator', pattern: { detail: { state: [{ contains: 'run' }] } }, problem: ['detail.state[0]', 'unknown operator "contains"'] },
    { name: 'two operators in one object', pattern: { key: [{ prefix: 'a', wildcard: '*b' }] }, problem: ['key[0]', 'exactly one operator', '"prefix", "wildcard"'] },
    { name: 'empty operator object', pattern: { key: [{}] }, problem: ['key[0]', 'exactly one operator', 'none'] },
    { name: 'prefix with a number', pattern: { key: [{ prefix: 5 }] }, problem: ['key[0]', 'prefix takes a string'] },
    { name: 'prefix with a list', pattern: { key: [{ prefix: ['a', 'b'] }] }, problem: ['key[0]', 'prefix takes a string'] },
    { name: 'prefix with a wrong modifier', pattern: { key: [{ prefix: { wildcard: 'a*' } }] }, problem: ['prefix takes a string or {"equals-ignore-case": string}'] },
    { name: 'suffix ignoring case with a number', pattern: { key: [{ suffix: { 'equals-ignore-case': 1 } }] }, problem: ['suffix takes'] },
    { name: 'equals-ignore-case with a number', pattern: { key: [{ 'equals-ignore-case': 1 }] }, problem: ['equals-ignore-case takes a string'] },
    { name: 'wildcard with consecutive stars', pattern: { key: [{ wildcard: 'a**b' }] }, problem: ['wildcard', 'consecutive *'] },
    { name: 'wildcard with a bad escape', pattern: { key: [{ wildcard: 'a\\b' }] }, problem: ['wildcard', 'backslash'] },
    { name: 'wildcard ending in a backslash', pattern: { key: [{ wildcard: 'a\\' }] }, problem: ['wildcard', 'backslash'] },
    { name: 'wildcard with a number', pattern: { key: [{ wildcard: 1 }] }, problem: ['wildcard takes a string'] },
    { name: 'exists with a string', pattern: { key: [{ exists: 'yes' }] }, problem: ['exists takes true or false'] },
    { name: 'numeric not a list', pattern: { n: [{ numeric: 5 }] }, problem: ['n[0]', 'numeric takes'] },
    { name: 'numeric odd length', pattern: { n: [{ numeric: ['>', 0, '<'] }] }, problem: ['numeric takes'] },
    { name: 'numeric bound is a string', pattern: { n: [{ numeric: ['>', '5'] }] }, problem: ['bound must be a number'] },
    { name: 'numeric unknown comparison', pattern: { n: [{ numeric: ['!=', 5] }] }, problem: ['unknown comparison', '!='] },
    { name: 'numeric range upper bound first', pattern: { n: [{ numeric: ['<', 10, '>', 0] }] }, problem: ['lower bound (> or >=) followed by an upper bound'] },
    { name: 'numeric range with =', pattern: { n: [{ numeric: ['=', 1, '<', 5] }] }, problem: ['lower bound (> or >=) followed by an upper bound'] },
    { name: 'numeric empty range', pattern: { n: [{ numeric: ['>', 5, '<', 1] }] }, problem: ['range is empty'] },
    { name: 'numeric range with equal bounds', pattern: { n: [{ numeric: ['>=', 5, '<', 5] }] }, problem: ['range is empty'] },
    { name: 'cidr not an address', pattern: { ip: [{ cidr: 'not-an-ip' }] }, problem: ['ip[0]', 'cidr takes'] },
    { name: 'cidr without a prefix length', pattern: { ip: [{ cidr: '10.0.0.0' }] }, problem: ['cidr takes'] },
    { name: 'cidr prefix too long', pattern: { ip: [{ cidr: '10.0.0.0/33' }] }, problem: ['cidr takes'] },
    { name: 'cidr bad octet', pattern: { ip: [{ cidr: '10.0.0.256/24' }] }, problem: ['cidr takes'] },
    { name: 'cidr IPv6 prefix too long', pattern: { ip: [{ cidr: '2001:db8::/129' }] }, problem: ['cidr takes'] },
    { name: 'cidr IPv6 with two ::', pattern: { ip: [{ cidr: '2001::db8::/64' }] }, problem: ['cidr takes'] },
    { name: 'anything-but mixed list', pattern: { s: [{ 'anything-but': ['a', 1] }] }, problem: ['only strings or only numbers'] },
    { name: 'anything-but empty list', pattern: { s: [{ 'anything-but': [] }] }, problem: ['list is empty'] },
    { name: 'anything-but boolean', pattern: { s: [{ 'anything-but': true }] }, problem: ['anything-but takes'] },
    { name: 'anything-but unknown operator', pattern: { s: [{ 'anything-but': { contains: 'x' } }] }, problem: ['exactly one of prefix', '"contains"'] },
    { name: 'anything-but numeric', pattern: { s: [{ 'anything-but': { numeric: ['>', 1] } }] }, problem: ['exactly one of prefix', '"numeric"'] },
    { name: 'anything-but list of prefixes', pattern: { s: [{ 'anything-but': { prefix: ['a', 'b'] } }] }, problem: ['prefix takes a non-empty string'] },
    { name: 'anything-but empty suffix', pattern: { s: [{ 'anything-but': { suffix: '' } }] }, problem: ['suffix takes a non-empty string'] },
    { name: 'anything-but bad wildcard', pattern: { s: [{ 'anything-but': { wildcard: ['*/lib/*', 'a**'] } }] }, problem: ['consecutive *'] },
    { name: 'anything-but ignoring case with numbers', pattern: { s: [{ 'anything-but': { 'equals-ignore-case': [1] } }] }, problem: ['equals-ignore-case takes a string'] },
    { name: '$or with one branch', pattern: { $or: [{ a: ['x'] }] }, problem: ['$or', 'at least two objects'] },
    { name: '$or holding an object', pattern: { source: ['x'], $or: { a: ['x'] } }, problem: ['$or', 'at least two objects'] },
    { name: '$or holding values', pattern: { detail: { $or: ['a', 'b'] } }, problem: ['detail.$or', 'at least two objects'] },
    { name: '$or branch using an operator name', pattern: { $or: [{ prefix: ['x'] }, { b: ['y'] }] }, problem: ['$or[0]', '"prefix" used as a field name'] },
    { name: 'problem inside a $or branch', pattern: { $or: [{ a: ['x'] }, { b: 'y' }] }, problem: ['$or[1].b', 'must be an array'] },
  ];

  it.each(invalid)('reports $name', ({ pattern, problem }) => {
    const problems = validatePattern(pattern);
    expect(problems).toHaveLength(1);
    for (const fragment of problem) expect(problems[0]).toContain(fragment);
  });

  it('reports every problem, not just the first', () => {
    const problems = validatePattern({
      source: 'aws.codecommit',
      detail: { eventName: [{ contains: 'Push' }], n: [{ numeric: ['<', 1, '>', 2] }] },
    });
    expect(problems).toHaveLength(3);
  });
});
