/**
 * Fetches and parses a build's SBOM through the look-ups, trying the locations in order: the first
 * that exists wins; `missing` moves on; `unavailable` is remembered, so "S3 could not be asked" is
 * never reported as "no SBOM". Several use cases read the same SBOM for one build event, so results
 * are memoised per look-ups instance (a few builds, by build ARN).
 */
import type { Lookups } from '../../lookups/lookups.js';
import type { BuildwatchConfig } from '../../config/config.js';
import type { BuildInfo } from './build-event.js';
import { parseSbom, type ParsedSbom } from './sbom-parse.js';
import { renderTemplate, sbomTemplatesFor } from './sbom-locations.js';

export type SbomFetch =
  /** No SBOM is expected from this project. */
  | { readonly status: 'not-configured' }
  | { readonly status: 'found'; readonly location: string; readonly sbom: ParsedSbom; readonly tried: readonly string[] }
  /** Every location answered "no such key" (problems: templates the build could not fill). */
  | { readonly status: 'missing'; readonly tried: readonly string[]; readonly problems: readonly string[] }
  | { readonly status: 'too-large'; readonly location: string; readonly bytes: number; readonly limit: number; readonly tried: readonly string[] }
  /** Nothing found, and at least one location could not be asked (or no template could be filled). */
  | { readonly status: 'unavailable'; readonly tried: readonly string[]; readonly reasons: readonly string[] };

const TOO_LARGE = /is (\d+) bytes, over the (\d+)-byte limit/;
const MEMO_SIZE = 4;
const memo = new WeakMap<Lookups, Map<string, Promise<SbomFetch>>>();

export function fetchBuildSbom(build: BuildInfo, config: BuildwatchConfig, lookups: Lookups): Promise<SbomFetch> {
  const templates = sbomTemplatesFor(config, build.project);
  if (templates.length === 0) return Promise.resolve({ status: 'not-configured' });
  let cache = memo.get(lookups);
  if (!cache) {
    cache = new Map();
    memo.set(lookups, cache);
  }
  const key = `${build.arn}\n${templates.join('\n')}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const pending = fetchUncached(build, templates, lookups);
  cache.set(key, pending);
  if (cache.size > MEMO_SIZE) cache.delete(cache.keys().next().value as string);
  return pending;
}

async function fetchUncached(build: BuildInfo, templates: readonly string[], lookups: Lookups): Promise<SbomFetch> {
  const tried: string[] = [];
  const problems: string[] = [];
  const reasons: string[] = [];
  for (const template of templates) {
    const rendered = renderTemplate(template, build);
    if ('problem' in rendered) {
      problems.push(rendered.problem);
      continue;
    }
    const { bucket, key, url } = rendered.location;
    tried.push(url);
    const result = await lookups.s3Object(bucket, key);
    if (result.status === 'found') return { status: 'found', location: url, sbom: parseSbom(result.value), tried };
    if (result.status === 'unavailable') {
      // The look-ups refuse oversized objects; that is an answer about the SBOM, not about S3.
      const tooLarge = TOO_LARGE.exec(result.reason);
      if (tooLarge) return { status: 'too-large', location: url, bytes: Number(tooLarge[1]), limit: Number(tooLarge[2]), tried };
      reasons.push(`${url}: ${result.reason}`);
    }
  }
  if (reasons.length > 0 || tried.length === 0) return { status: 'unavailable', tried, reasons: [...reasons, ...problems] };
  return { status: 'missing', tried, problems };
}
