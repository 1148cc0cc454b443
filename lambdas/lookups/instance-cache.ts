/**
 * Instance → Auto Scaling group / launch template / tags, remembered for a bounded time. A warm
 * detect Lambda sees many sessions onto the same runners; an instance's Auto Scaling and launch
 * template tags are set at launch, and user tags change rarely, so a few minutes is safe. Only
 * answers EC2 gave are kept: a missing instance may be one just launched (eventual consistency),
 * and an unavailable answer is asked again next time.
 */
import type { Ec2InstanceDetail, Ec2InstanceRef, LookupResult, Lookups } from './lookups.js';

export interface InstanceCacheOptions {
  /** How long an answer is reused (ms). */
  readonly ttlMs?: number;
  /** At most this many instances; the oldest answer goes first. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

export const INSTANCE_CACHE_TTL_MS = 10 * 60_000;
export const INSTANCE_CACHE_MAX_ENTRIES = 1000;

export function withInstanceCache(lookups: Lookups, options: InstanceCacheOptions = {}): Lookups {
  const ask = lookups.ec2Instance?.bind(lookups);
  if (!ask) return lookups;
  const ttl = options.ttlMs ?? INSTANCE_CACHE_TTL_MS;
  const max = options.maxEntries ?? INSTANCE_CACHE_MAX_ENTRIES;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { until: number; value: Ec2InstanceDetail }>();
  return {
    ...lookups,
    async ec2Instance(ref: Ec2InstanceRef): Promise<LookupResult<Ec2InstanceDetail>> {
      const key = `${ref.region}/${ref.instanceId}`;
      const hit = cache.get(key);
      if (hit && hit.until > now()) return { status: 'found', value: hit.value };
      cache.delete(key);
      const result = await ask(ref);
      if (result.status === 'found') {
        // Map keeps insertion order: the first key is the oldest answer.
        while (cache.size >= max) cache.delete(cache.keys().next().value as string);
        cache.set(key, { until: now() + ttl, value: result.value });
      }
      return result;
    },
  };
}
