/**
 * The SQS answers of a healthy deployment, for the heartbeat's dead-letter check: empty queues, and
 * whatever it tags or deletes accepted. Tests override single commands after this.
 */
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, TagQueueCommand, type SQSClientResolvedConfig, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/client-sqs';
import type { AwsStub } from 'aws-sdk-client-mock';

type SqsStub = AwsStub<ServiceInputTypes, ServiceOutputTypes, SQSClientResolvedConfig>;

export function quietQueues(sqsMock: SqsStub): void {
  sqsMock.reset();
  sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' } });
  sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [] });
  sqsMock.on(DeleteMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  sqsMock.on(TagQueueCommand).resolves({});
}
