/**
 * Is a failed evaluation worth another delivery? Transient failures (throttling, timeouts, 5xx,
 * dropped connections) are retried by SQS; permanent ones (a request DynamoDB rejects as invalid, a
 * programming error, input that does not parse) fail the same way every time, so retrying them only
 * delays the dead-letter queue by half an hour. Errors we cannot place are treated as transient:
 * they still reach the dead-letter queue, with their reason, after the last attempt.
 */
import { ZodError } from 'zod';
import { isThrottling, isTransient } from '../backfill/rate-limit.js';

export type FailureClass = 'permanent' | 'transient';

/** AWS error names that say the request itself is wrong: the same request will fail again. */
const PERMANENT_AWS_ERRORS = new Set([
  'ValidationException',
  'SerializationException',
  'InvalidParameterException',
  'InvalidParameterValueException',
  'InvalidRequestException',
  'ItemCollectionSizeLimitExceededException',
]);

/** AWS error names that say "not now": another attempt may well succeed. */
const TRANSIENT_AWS_ERRORS = new Set([
  // DynamoDB's throttling names (the generic ones are in rate-limit.ts).
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TransactionConflictException',
  // A lost race with a concurrent delivery: the next attempt reads the winner's write.
  'ConditionalCheckFailedException',
  'TransactionCanceledException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
  'NetworkingError',
]);

/** JavaScript's own errors: bugs or impossible input, deterministic for a given message. */
const PROGRAMMING_ERRORS = new Set(['TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'URIError', 'EvalError']);

interface ErrorShape {
  readonly name?: unknown;
  readonly $fault?: unknown;
}

export function classifyFailure(error: unknown): FailureClass {
  if (error instanceof ZodError) return 'permanent';
  if (typeof error !== 'object' || error === null) return 'permanent';
  if (isThrottling(error) || isTransient(error)) return 'transient';
  const { name, $fault } = error as ErrorShape;
  if (typeof name === 'string') {
    if (TRANSIENT_AWS_ERRORS.has(name)) return 'transient';
    if (PERMANENT_AWS_ERRORS.has(name) || PROGRAMMING_ERRORS.has(name)) return 'permanent';
    if (name === 'PoisonMessageError' || name === 'UnsupportedKindError' || name === 'ZodError') return 'permanent';
  }
  // The SDK marks every service error: a server fault is theirs (retry), a client fault is ours.
  if ($fault === 'server') return 'transient';
  if ($fault === 'client') return 'permanent';
  return 'transient';
}
