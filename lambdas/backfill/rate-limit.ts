/**
 * Pacing for AWS APIs with a published request rate (LookupEvents: 2 requests per second per
 * account and region, EVENTS.md 8): a token bucket per (account, region), and retries with
 * exponential backoff and full jitter when the service throttles anyway. Time is injected, so
 * tests measure calls per second on a fake clock without waiting.
 */

/** Milliseconds since some epoch, and a way to wait. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface TokenBucketOptions {
  /** Tokens added per second. */
  readonly ratePerSecond: number;
  /**
   * Most tokens held at once (the burst). With 1, requests are evenly spaced and no one-second
   * window ever holds more than `ratePerSecond` of them; a larger burst can exceed that briefly.
   */
  readonly capacity?: number;
}

/** A token bucket; concurrent callers are served in order. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private queue: Promise<void> = Promise.resolve();
  private readonly capacity: number;

  constructor(
    private readonly options: TokenBucketOptions,
    private readonly clock: Clock,
  ) {
    if (!(options.ratePerSecond > 0)) throw new Error('ratePerSecond must be positive');
    this.capacity = options.capacity ?? 1;
    if (!(this.capacity >= 1)) throw new Error('capacity must be at least 1');
    this.tokens = this.capacity;
    this.updatedAt = clock.now();
  }

  /** Resolves when a request may be made (and spends the token). */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.acquire());
    // A failed sleep must not wedge the queue for later callers.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.options.ratePerSecond) / 1000);
    this.updatedAt = now;
  }

  private async acquire(): Promise<void> {
    this.refill();
    while (this.tokens < 1) {
      await this.clock.sleep(Math.ceil(((1 - this.tokens) * 1000) / this.options.ratePerSecond));
      this.refill();
    }
    this.tokens -= 1;
  }
}

/** One bucket per key (account and region), created on first use. */
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly options: TokenBucketOptions,
    private readonly clock: Clock,
  ) {}

  take(key: string): Promise<void> {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.options, this.clock);
      this.buckets.set(key, bucket);
    }
    return bucket.take();
  }
}

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

/** True for "slow down" answers, whatever the service calls them. */
export function isThrottling(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown }; $retryable?: { throttling?: unknown } };
  if (typeof candidate.name === 'string' && THROTTLING_NAMES.has(candidate.name)) return true;
  if (candidate.$metadata?.httpStatusCode === 429) return true;
  return candidate.$retryable?.throttling === true;
}

/** Transient failures worth another try besides throttling: 5xx answers and dropped connections. */
export function isTransient(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = candidate.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  return ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN'].includes(String(candidate.code ?? ''))
    || candidate.name === 'TimeoutError';
}

export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly maxAttempts?: number;
  /** Backoff before the n-th retry: random() × min(maxDelayMs, baseDelayMs × 2^(n-1)) ("full jitter"). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly clock: Clock;
  /** Uniform in [0, 1); injected so tests are deterministic. */
  readonly random?: () => number;
  /** Told about each retry, e.g. to count throttled requests. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Runs `call`, retrying throttling and transient failures with exponential backoff and jitter. */
export async function withRetries<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 8;
  const base = options.baseDelayMs ?? 500;
  const cap = options.maxDelayMs ?? 20_000;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= maxAttempts || !(isThrottling(error) || isTransient(error))) throw error;
      const delay = Math.round(random() * Math.min(cap, base * 2 ** (attempt - 1)));
      options.onRetry?.(error, attempt, delay);
      await options.clock.sleep(delay);
    }
  }
}
