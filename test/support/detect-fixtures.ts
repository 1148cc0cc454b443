/** Detect-handler fixtures shared by the handler, metrics and hostile-input tests. */
import type { SQSRecord } from 'aws-lambda';

export type Json = Record<string, unknown>;

export function sqsRecord(messageId: string, body: string, receiveCount = 1): SQSRecord {
  return {
    messageId,
    // A new receipt handle per receive, as SQS gives.
    receiptHandle: `rh-${messageId}-${receiveCount}`,
    body,
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 'events', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:buildwatch-detect',
    awsRegion: 'eu-west-1',
  };
}

/** The CloudTrail StopLogging record the tamper use case alerts on. */
export function stopLogging(id: string, detail: Json = {}): Json & { detail: Json } {
  return {
    version: '0',
    id,
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.cloudtrail',
    account: '111122223333',
    time: '2026-10-26T03:10:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      eventVersion: '1.09',
      eventTime: '2026-10-26T03:10:00Z',
      eventSource: 'cloudtrail.amazonaws.com',
      eventName: 'StopLogging',
      awsRegion: 'eu-west-1',
      eventID: `ct-${id}`,
      eventType: 'AwsApiCall',
      userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/Admin/maint', accountId: '111122223333' },
      requestParameters: { name: 'org-trail' },
      readOnly: false,
      ...detail,
    },
  };
}
