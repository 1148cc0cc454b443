/**
 * correlation-sweep Lambda (scheduled): the final judgement of pending correlations whose deadline
 * has passed on the wall clock (artifact.hash-mismatch: a package version whose build never showed
 * up). In the detect Lambda a pending check is only re-judged when a record it wants arrives (its
 * build's hash or build id); this is what makes "the other side never came" a finding. Thin: wiring
 * and logging only.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { Engine } from '../engine/engine.js';
import type { UseCase } from '../engine/use-case.js';
import { documentClient } from '../store/dynamo-clients.js';
import { FindingsStore } from '../store/findings-store.js';
import { ENV } from '../store/schema.js';
import { StateStore } from '../store/state-store.js';
import { useCases as registry } from '../use-cases/index.js';
import { awsLookupsFor } from './lookup-clients.js';
import { bundledConfig, logger, requireEnv } from './runtime.js';

export interface SweepDeps {
  readonly engine: Engine;
  readonly useCases: readonly UseCase[];
  readonly clock: () => Date;
}

export interface SweepResult {
  /** Findings recorded by this run (new ledger items). */
  readonly created: number;
  /** Findings an earlier run or the detect Lambda had already recorded. */
  readonly repeats: number;
  /** Checks settled without a finding (nothing to report, or nothing could be verified). */
  readonly quiet: number;
}

let cached: SweepDeps | undefined;

function defaultDeps(): SweepDeps {
  if (!cached) {
    const doc = documentClient(new DynamoDBClient({}));
    const config = bundledConfig();
    cached = {
      engine: new Engine({
        config,
        lookups: awsLookupsFor(config),
        state: new StateStore(doc, requireEnv(ENV.stateTable)),
        findings: new FindingsStore(doc, requireEnv(ENV.findingsTable)),
      }),
      useCases: registry,
      clock: () => new Date(),
    };
  }
  return cached;
}

/** Settles every pending check due at the clock's time; the findings stream then notifies as usual. */
export async function sweep(deps: SweepDeps): Promise<SweepResult> {
  const at = deps.clock().toISOString().replace(/\.\d{3}Z$/, 'Z');
  let created = 0;
  let repeats = 0;
  let quiet = 0;
  for (const outcome of await deps.engine.settle(deps.useCases, at)) {
    if (outcome.status === 'skipped') {
      quiet += 1;
      logger.info('correlation settled quietly', { useCase: outcome.useCase, reason: outcome.reason });
    } else if (outcome.status === 'finding' && outcome.created) {
      created += 1;
      logger.info('finding', { id: outcome.finding.id, useCase: outcome.finding.useCase, severity: outcome.finding.severity, mode: outcome.finding.mode });
    } else {
      // A repeat delivery, or a repeat folded into an earlier finding by a dedup window.
      repeats += 1;
    }
  }
  return { created, repeats, quiet };
}

export const handler = async (_event: ScheduledEvent): Promise<SweepResult> => sweep(defaultDeps());
