/**
 * Imports alerts into Security Hub CSPM (BatchImportFindings) under the account's default product.
 * At most 100 findings per request; throttled requests and findings Security Hub lists in
 * FailedFindings are retried with exponential backoff, and what still fails is thrown as a
 * NotifyError naming the finding ids, so the stream retries them (then the on-failure queue).
 * Attestations are evidence, not alerts: they are never imported.
 */
import { BatchImportFindingsCommand, type AwsSecurityFinding, type SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { Finding } from '../engine/model.js';
import { ASFF_MAX_BYTES, parseProductArn, toAsff, type ProductArn } from './asff.js';
import type { UseCaseNotes } from './format.js';
import { NotifyError, type Notifier } from './notifier.js';

/** BatchImportFindings takes at most 100 findings and 6 MB per request. */
export const MAX_FINDINGS_PER_REQUEST = 100;
const MAX_REQUEST_BYTES = 5 * 1024 * 1024;

/** Whole-request errors worth another try: throttling and Security Hub's own faults. */
const RETRYABLE = new Set(['ThrottlingException', 'TooManyRequestsException', 'LimitExceededException', 'InternalException', 'ServiceUnavailableException']);

export interface SecurityHubNotifierOptions {
  readonly notes?: UseCaseNotes;
  /** Tries per finding, the first included. */
  readonly attempts?: number;
  readonly baseDelayMs?: number;
  /** Injected by tests; waits between tries. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Findings Security Hub did not take after every try; `findingIds` are Buildwatch finding ids. */
export class SecurityHubImportError extends NotifyError {
  constructor(
    message: string,
    readonly findingIds: readonly string[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Findings in request-sized groups: at most 100, and well under the 6 MB request limit. */
function requests<T extends { readonly asff: AwsSecurityFinding }>(documents: readonly T[]): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const document of documents) {
    const size = Buffer.byteLength(JSON.stringify(document.asff));
    if (current.length === MAX_FINDINGS_PER_REQUEST || (current.length > 0 && bytes + size > MAX_REQUEST_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(document);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class SecurityHubNotifier implements Notifier {
  private readonly product: ProductArn;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: SecurityHubClient,
    productArn: string,
    private readonly options: SecurityHubNotifierOptions = {},
  ) {
    this.product = parseProductArn(productArn);
    this.attempts = Math.max(1, options.attempts ?? 4);
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.sleep = options.sleep ?? defaultSleep;
  }

  notify(finding: Finding): Promise<void> {
    return this.importFindings([finding]);
  }

  /** The alerts among `findings` as ASFF, in requests of at most 100; throws when some never got in. */
  async importFindings(findings: readonly Finding[]): Promise<void> {
    const documents = new Map<string, { readonly findingId: string; readonly asff: AwsSecurityFinding }>();
    for (const finding of findings) {
      if (finding.mode !== 'alert') continue;
      const asff = this.toAsff(finding);
      // A later copy of the same finding (a MODIFY after its INSERT) replaces the earlier one.
      documents.set(asff.Id ?? finding.id, { findingId: finding.id, asff });
    }
    let pending = [...documents.values()];
    let lastReason = '';
    for (let attempt = 1; pending.length > 0 && attempt <= this.attempts; attempt++) {
      if (attempt > 1) await this.sleep(this.backoff(attempt));
      const failed: typeof pending = [];
      for (const chunk of requests(pending)) {
        const outcome = await this.send(chunk.map((d) => d.asff));
        if (outcome.kind === 'fatal') {
          throw new SecurityHubImportError(`Security Hub BatchImportFindings failed: ${outcome.reason}`, pending.map((d) => d.findingId), { cause: outcome.error });
        }
        if (outcome.kind === 'retry') {
          failed.push(...chunk);
          lastReason = outcome.reason;
          continue;
        }
        const failedIds = new Set(outcome.failed.map((f) => f.id));
        failed.push(...chunk.filter((d) => failedIds.has(d.asff.Id ?? '')));
        if (outcome.failed.length > 0) lastReason = outcome.failed.map((f) => `${f.id}: ${f.reason}`).slice(0, 5).join('; ');
      }
      pending = failed;
    }
    if (pending.length > 0) {
      throw new SecurityHubImportError(
        `Security Hub did not import ${pending.length} finding(s) after ${this.attempts} tries: ${lastReason}`,
        pending.map((d) => d.findingId),
      );
    }
  }

  toAsff(finding: Finding): AwsSecurityFinding {
    const notes = this.options.notes;
    const mitre = notes && Object.hasOwn(notes, finding.useCase) ? notes[finding.useCase]?.mitre : undefined;
    const asff = toAsff(finding, { product: this.product, ...(mitre ? { mitre } : {}) });
    const bytes = Buffer.byteLength(JSON.stringify(asff));
    // Every field is bounded in toAsff; this guards a future field that is not.
    if (bytes > ASFF_MAX_BYTES) throw new NotifyError(`ASFF document for finding ${finding.id} is ${bytes} bytes, over Security Hub's ${ASFF_MAX_BYTES}`);
    return asff;
  }

  /** Exponential backoff with full jitter. */
  private backoff(attempt: number): number {
    return Math.round(Math.random() * this.baseDelayMs * 2 ** (attempt - 2)) + this.baseDelayMs;
  }

  private async send(findings: AwsSecurityFinding[]): Promise<
    | { kind: 'done'; failed: Array<{ id: string; reason: string }> }
    | { kind: 'retry'; reason: string }
    | { kind: 'fatal'; reason: string; error: unknown }
  > {
    try {
      const response = await this.client.send(new BatchImportFindingsCommand({ Findings: findings }));
      const failed = (response.FailedFindings ?? []).map((f) => ({ id: f.Id ?? '', reason: `${f.ErrorCode ?? 'error'} ${f.ErrorMessage ?? ''}`.trim() }));
      return { kind: 'done', failed };
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
      if (RETRYABLE.has(name) || status === 429 || status >= 500) return { kind: 'retry', reason };
      return { kind: 'fatal', reason, error };
    }
  }
}
