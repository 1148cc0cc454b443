/**
 * Schemas of what Buildwatch reads: the EventBridge envelope and the CloudTrail record.
 * Only the fields the engine relies on are checked; everything else passes through untouched,
 * so a new AWS field never breaks parsing and the original event survives into evidence.
 */
import * as z from 'zod';

/** The EventBridge envelope (EVENTS.md 1.1). `detail` is an object for every source we watch. */
export const eventBridgeEventSchema = z.looseObject({
  version: z.string().optional(),
  id: z.string().min(1),
  'detail-type': z.string().min(1),
  source: z.string().min(1),
  account: z.string(),
  time: z.string().min(1),
  region: z.string(),
  resources: z.preprocess((value) => (value === null ? undefined : value), z.array(z.string()).default([])),
  detail: z.record(z.string(), z.unknown()),
});
export type EventBridgeEvent = z.infer<typeof eventBridgeEventSchema>;

const sessionContextSchema = z.looseObject({
  sessionIssuer: z
    .looseObject({
      type: z.string().optional(),
      principalId: z.string().optional(),
      arn: z.string().optional(),
      accountId: z.string().optional(),
      userName: z.string().optional(),
    })
    .optional(),
  attributes: z
    .looseObject({
      creationDate: z.string().optional(),
      // A string in CloudTrail ("true"/"false"); some tools re-serialise it as a boolean.
      mfaAuthenticated: z.union([z.string(), z.boolean()]).optional(),
    })
    .optional(),
});

export const userIdentitySchema = z.looseObject({
  type: z.string().optional(),
  principalId: z.string().optional(),
  arn: z.string().optional(),
  accountId: z.string().optional(),
  accessKeyId: z.string().optional(),
  userName: z.string().optional(),
  invokedBy: z.string().optional(),
  sessionContext: sessionContextSchema.optional(),
  onBehalfOf: z.looseObject({ userId: z.string().optional(), identityStoreArn: z.string().optional() }).optional(),
});
export type UserIdentity = z.infer<typeof userIdentitySchema>;

/** A CloudTrail record as it appears in S3 logs and in EventBridge `detail` (EVENTS.md 1.2). */
export const cloudTrailRecordSchema = z.looseObject({
  eventVersion: z.string().optional(),
  eventTime: z.string().min(1),
  eventSource: z.string().min(1),
  eventName: z.string().min(1),
  awsRegion: z.string().optional(),
  eventID: z.string().min(1),
  eventType: z.string().optional(),
  userIdentity: userIdentitySchema.optional(),
  sourceIPAddress: z.string().optional(),
  userAgent: z.string().optional(),
  errorCode: z.string().optional(),
  errorMessage: z.string().optional(),
  requestParameters: z.record(z.string(), z.unknown()).nullable().optional(),
  responseElements: z.record(z.string(), z.unknown()).nullable().optional(),
  additionalEventData: z.record(z.string(), z.unknown()).optional(),
  readOnly: z.boolean().optional(),
  managementEvent: z.boolean().optional(),
  recipientAccountId: z.string().optional(),
  // Real exports write null where CloudTrail leaves the field out: absent, like requestParameters.
  resources: z.preprocess(
    (value) => (value === null ? undefined : value),
    z.array(z.looseObject({ ARN: z.string().optional(), accountId: z.string().optional(), type: z.string().optional() })).optional(),
  ),
});
export type CloudTrailRecord = z.infer<typeof cloudTrailRecordSchema>;

export const CLOUDTRAIL_DETAIL_TYPES: Readonly<Record<string, string>> = {
  AwsApiCall: 'AWS API Call via CloudTrail',
  AwsServiceEvent: 'AWS Service Event via CloudTrail',
  AwsConsoleAction: 'AWS Console Action via CloudTrail',
  AwsConsoleSignIn: 'AWS Console Sign In via CloudTrail',
};

const CLOUDTRAIL_DETAIL_TYPE_SET = new Set(Object.values(CLOUDTRAIL_DETAIL_TYPES).concat([
  'AWS Console Signin via CloudTrail',
  'AWS Insight via CloudTrail',
  'AWS Network Activity Event via CloudTrail',
]));

/** True when the envelope relays a CloudTrail record in `detail`. */
export function isCloudTrailEvent(event: EventBridgeEvent): boolean {
  return CLOUDTRAIL_DETAIL_TYPE_SET.has(event['detail-type']);
}

/**
 * Records already validated, by the `detail` they came from: routing, the pipeline event and the
 * correlator ask for the same event's record many times (once per use case), and it is validated once.
 */
const validatedRecords = new WeakMap<object, CloudTrailRecord | null>();

/**
 * The input normaliser has just validated this record to build `detail` (its original fields, with the
 * schema's defaults for absent ones): validating `detail` again would give the same record.
 */
export function rememberValidatedRecord(detail: object, record: CloudTrailRecord): void {
  validatedRecords.set(detail, record);
}

/** The CloudTrail record inside an envelope, or undefined for native service events. */
export function cloudTrailRecordOf(event: EventBridgeEvent): CloudTrailRecord | undefined {
  if (!isCloudTrailEvent(event)) return undefined;
  const known = validatedRecords.get(event.detail);
  if (known !== undefined) return known ?? undefined;
  const parsed = cloudTrailRecordSchema.safeParse(event.detail);
  validatedRecords.set(event.detail, parsed.success ? parsed.data : null);
  return parsed.success ? parsed.data : undefined;
}

/** The time the thing happened: CloudTrail's eventTime where there is one (EVENTS.md 1.2), else the envelope's. */
export function eventTimeOf(event: EventBridgeEvent): string {
  const record = cloudTrailRecordOf(event);
  return normaliseIsoTime(record?.eventTime ?? event.time);
}

/** ISO-8601 UTC with whole seconds; invalid input is returned unchanged so callers can reject it. */
export function normaliseIsoTime(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Wraps a bare CloudTrail record in the envelope EventBridge would have delivered it in. */
export function envelopeForCloudTrail(record: CloudTrailRecord): EventBridgeEvent {
  const service = record.eventSource.replace(/\.amazonaws\.com$/, '');
  return {
    version: '0',
    // The contract: a bare record's eventId is its CloudTrail eventID.
    id: record.eventID,
    'detail-type': CLOUDTRAIL_DETAIL_TYPES[record.eventType ?? 'AwsApiCall'] ?? 'AWS API Call via CloudTrail',
    source: `aws.${service}`,
    account: record.recipientAccountId ?? record.userIdentity?.accountId ?? '',
    time: normaliseIsoTime(record.eventTime),
    region: record.awsRegion ?? '',
    resources: [],
    detail: record,
  };
}
