/**
 * A DynamoDB document client that loses chosen responses: the call reaches dynalite (the write lands)
 * and then fails as a timeout would, or fails before it is sent. Real AWS does both; stores must
 * never take a call whose answer they did not see as confirmed.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export type Fault = 'none' | 'before' | 'after';

export interface SentCommand {
  readonly name: string;
  readonly input: Record<string, unknown>;
}

/** Decides, per call, whether (and when) it fails. */
export type FaultPlan = (command: SentCommand) => Fault;

export class InjectedTimeout extends Error {
  override readonly name = 'TimeoutError';
  readonly $metadata = {};
  constructor(readonly when: Exclude<Fault, 'none'>) {
    super(`injected timeout (${when} the call reached the table)`);
  }
}

export interface FaultyClient {
  readonly doc: DynamoDBDocumentClient;
  /** Every call, with the fault it got. */
  readonly log: Array<SentCommand & { fault: Fault }>;
  plan: FaultPlan;
}

export function withLostResponses(inner: DynamoDBDocumentClient, plan: FaultPlan = () => 'none'): FaultyClient {
  const faulty: FaultyClient = { doc: inner, log: [], plan };
  const send = async (command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<unknown> => {
    const sent = { name: command.constructor.name, input: command.input };
    const fault = faulty.plan(sent);
    faulty.log.push({ ...sent, fault });
    if (fault === 'before') throw new InjectedTimeout('before');
    const result = await (inner.send as (c: unknown) => Promise<unknown>)(command);
    if (fault === 'after') throw new InjectedTimeout('after');
    return result;
  };
  // Same client in every other respect: only `send` is intercepted.
  const proxy = new Proxy(inner, { get: (target, property, receiver) => (property === 'send' ? send : Reflect.get(target, property, receiver)) });
  return Object.assign(faulty, { doc: proxy });
}

/** Fails the next call that matches, once, then lets everything through. */
export function failOnce(matches: (command: SentCommand) => boolean, when: Exclude<Fault, 'none'>): FaultPlan {
  let done = false;
  return (command) => {
    if (done || !matches(command)) return 'none';
    done = true;
    return when;
  };
}
