/** Checks a configuration against the catalogue: a typo in a use-case id or option must not silently do nothing. */
import type { BuildwatchConfig } from '../config/config.js';
import { ConfigError } from '../config/config.js';
import { describeIssues, didYouMean, formatPath } from '../config/suggest.js';
import type { UseCase } from '../engine/use-case.js';

/** `origin`: the configuration file, named in every message. */
export function checkConfigAgainstCatalogue(config: BuildwatchConfig, useCases: readonly UseCase[], origin = 'configuration'): void {
  const byId = new Map(useCases.map((useCase) => [useCase.metadata.id, useCase]));
  const named = [...Object.keys(config.useCases), ...config.suppressions.map((s) => s.useCase).filter((id) => id !== '*')];
  const unknown = [...new Set(named.filter((id) => !byId.has(id)))];
  if (unknown.length > 0) {
    throw new ConfigError(`${origin}: configuration names unknown use case(s): ${unknown.map((id) => `${id}${didYouMean(id, byId.keys())}`).join(', ')}`);
  }
  for (const [id, settings] of Object.entries(config.useCases)) {
    const schema = byId.get(id)?.optionsSchema;
    if (!schema) {
      if (Object.keys(settings.options).length > 0) throw new ConfigError(`${origin}: ${formatPath(['useCases', id, 'options'])}: this use case takes no options`);
      continue;
    }
    const parsed = schema.safeParse(settings.options);
    if (!parsed.success) {
      throw new ConfigError(`${origin}: invalid configuration: ${describeIssues(schema, parsed.error.issues, ['useCases', id, 'options']).join('; ')}`);
    }
  }
}
