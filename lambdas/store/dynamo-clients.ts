/** DynamoDB clients: the cloud one (default credential chain) and one for a local endpoint. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { escapeKeys, unescapeKeys } from './key-escape.js';

export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  // Keys from events (`__proto__`, `constructor`, '') survive the round trip: escaped before the
  // document client marshals them (serialize step), unescaped after it unmarshals the output.
  doc.middlewareStack.add(
    (next) => async (args) => {
      const result = await next({ ...args, input: escapeKeys(args.input) });
      return { ...result, output: unescapeKeys(result.output) };
    },
    { step: 'initialize', name: 'buildwatchEventKeyEscaping' },
  );
  return doc;
}

/** A client for dynalite or DynamoDB Local: fixed dummy credentials, so nothing looks for AWS ones. */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });
}
