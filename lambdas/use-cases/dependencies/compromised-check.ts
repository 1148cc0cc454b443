/**
 * The known-compromised index for the configured options of dependencies.compromised-package, shared
 * with dependencies.library-change: a build that ships a compromised version must never become a
 * project's SBOM baseline, whatever its count says.
 */
import * as z from 'zod';
import { builtOnFirstUse, type UseCaseContext } from '../../engine/use-case.js';
import { CompromisedIndex, incidentSchema, shippedIncidentList } from './known-compromised.js';
import type { ParsedSbom } from './sbom-parse.js';

export const COMPROMISED_PACKAGE_ID = 'dependencies.compromised-package';

export const compromisedOptionsSchema = builtOnFirstUse(() => z.strictObject({
  /** More incidents, same shape as the shipped list (source optional). */
  knownCompromised: z.array(incidentSchema).max(1000).default([]),
  /** Shipped entries to disregard: `name` or `name@version` (e.g. a vetted internal rebuild). */
  ignore: z.array(z.string().min(1)).default([]),
}));

const indexes = new WeakMap<object, CompromisedIndex>();
const NO_OPTIONS = {};

/** The index for these (raw or validated) options, built once per options object, not per event. */
export function compromisedIndexFor(rawOptions: unknown): CompromisedIndex {
  const key = typeof rawOptions === 'object' && rawOptions !== null ? rawOptions : NO_OPTIONS;
  const known = indexes.get(key);
  if (known) return known;
  const options = compromisedOptionsSchema.parse(key);
  const index = new CompromisedIndex([...shippedIncidentList(), ...options.knownCompromised], options.ignore);
  indexes.set(key, index);
  return index;
}

/** True when the SBOM lists a version of the shipped or configured incidents. */
export function hasKnownCompromised(sbom: ParsedSbom, ctx: UseCaseContext): boolean {
  const index = compromisedIndexFor(ctx.config.useCases[COMPROMISED_PACKAGE_ID]?.options);
  return sbom.components.some((component) => index.match(component).length > 0);
}
