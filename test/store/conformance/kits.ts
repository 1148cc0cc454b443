/**
 * The stores the conformance suite runs against. Each kit gives a writer and `reader()`: the stores
 * that answer after the writes. For the DynamoDB stores and the in-process store that is the same
 * stores; for the write-behind kits it is the table after a flush, read through the DynamoDB classes
 * or by a new in-process store reading through (so flushed items must be what the DynamoDB stores
 * write, under the same keys).
 */
import type { Finding } from '../../../lambdas/engine/model.js';
import { FindingsStore } from '../../../lambdas/store/findings-store.js';
import { MemoryFindingsStore } from '../../../lambdas/store/memory/memory-findings-store.js';
import { MemoryStateStore } from '../../../lambdas/store/memory/memory-state-store.js';
import { StateStore } from '../../../lambdas/store/state-store.js';
import type { FindingsLedger, StateStorage } from '../../../lambdas/store/store-contract.js';
import type { LocalDynamo } from '../../support/local-dynamo.js';

export interface Stores {
  readonly state: StateStorage;
  readonly findings: FindingsLedger;
}

export interface Kit extends Stores {
  /** The stores that answer once the writes are done (after a flush, for write-behind). */
  reader(): Promise<Stores>;
}

export interface KitOptions {
  /** Whether a finding's day may still be amended (default: always). */
  readonly amendableDay?: (day: string) => boolean;
}

export type OpenKit = (options?: KitOptions) => Promise<Kit>;

const always = (): boolean => true;

export function kits(dynamo: LocalDynamo): Record<string, OpenKit> {
  /** Fresh dynalite tables and a document client on them. */
  const tables = async () => {
    const { tables: names, doc } = await dynamo.freshStores();
    return { names, doc };
  };
  /** An in-process store written behind to fresh tables; `read` opens the stores that answer after its flush. */
  const flushedKit = async (
    options: KitOptions,
    read: (doc: Awaited<ReturnType<typeof tables>>['doc'], names: Awaited<ReturnType<typeof tables>>['names'], amendableDay: (day: string) => boolean) => Stores,
  ): Promise<Kit> => {
    const { names, doc } = await tables();
    const amendableDay = options.amendableDay ?? always;
    const state = new MemoryStateStore({ doc, tableName: names.state, empty: true });
    const findings = new MemoryFindingsStore({ doc, tableName: names.findings, empty: true }, { amendableDay });
    return {
      state,
      findings,
      reader: async () => {
        await state.flush();
        await findings.flush();
        return read(doc, names, amendableDay);
      },
    };
  };
  return {
    'DynamoDB stores (dynalite)': async (options = {}) => {
      const { names, doc } = await tables();
      const stores = { state: new StateStore(doc, names.state), findings: new FindingsStore(doc, names.findings, { amendableDay: options.amendableDay ?? always }) };
      return { ...stores, reader: async () => stores };
    },
    'in-process store': async (options = {}) => {
      const stores = { state: new MemoryStateStore(), findings: new MemoryFindingsStore(undefined, { amendableDay: options.amendableDay ?? always }) };
      return { ...stores, reader: async () => stores };
    },
    'in-process store flushed to dynalite, read by the DynamoDB stores': (options = {}) =>
      flushedKit(options, (doc, names, amendableDay) => ({ state: new StateStore(doc, names.state), findings: new FindingsStore(doc, names.findings, { amendableDay }) })),
    'in-process store flushed to dynalite, read through by a new in-process store': (options = {}) =>
      flushedKit(options, (doc, names, amendableDay) => ({
        state: new MemoryStateStore({ doc, tableName: names.state, empty: false }),
        findings: new MemoryFindingsStore({ doc, tableName: names.findings, empty: false }, { amendableDay }),
      })),
  };
}

export function finding(id: string, eventTime: string, overrides: Partial<Finding> = {}): Finding {
  return {
    id,
    useCase: 'monitor.cloudtrail-tamper',
    answers: 'monitor.tamper',
    stage: 'monitor',
    severity: 'critical',
    mode: 'alert',
    title: 'CloudTrail logging stopped',
    summary: 'someone stopped logging',
    eventId: `evt-${id}`,
    eventTime,
    day: eventTime.slice(0, 10),
    principal: 'arn:aws:sts::111122223333:assumed-role/Admin/maint',
    dedupKey: 'org-trail|StopLogging',
    evidence: { nested: { list: [1, 'two', null] } },
    runbook: 'restart logging',
    recordedAt: '2026-11-01T00:00:00Z',
    contentHash: '0'.repeat(64),
    ...overrides,
  };
}
