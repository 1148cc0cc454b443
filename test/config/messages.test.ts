/**
 * Configuration errors a person can act on: the file and the field path are named (ids with dots
 * quoted, no stray "options."), and an unknown key or use-case id comes with the nearest valid name.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../lambdas/config/config.js';
import { editDistance, formatPath, nearest } from '../../lambdas/config/suggest.js';
import { checkConfigAgainstCatalogue } from '../../lambdas/use-cases/check-config.js';
import { useCases } from '../../lambdas/use-cases/index.js';

const message = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration error messages', () => {
  it('names the file and suggests the nearest field for an unknown nested key', () => {
    expect(message(() => parseConfig({ pipeline: { repositorys: [] } }, 'team.config.json'))).toBe(
      'team.config.json: invalid configuration: pipeline: unknown field "repositorys" (did you mean "repositories"?)',
    );
    expect(message(() => parseConfig({ pipeline: { buildProjects: [{ name: 'b', sboms: [] }] } }, 'f.json'))).toBe(
      'f.json: invalid configuration: pipeline.buildProjects[0]: unknown field "sboms" (did you mean "sbom"?)',
    );
    expect(message(() => parseConfig({ routing: { teams: { payments: { emails: [] } } } }, 'f.json'))).toContain('routing.teams.payments: unknown field "emails" (did you mean "email"?)');
    // Nothing close: no guess.
    expect(message(() => parseConfig({ colour: 'blue' }, 'f.json'))).toBe('f.json: invalid configuration: unknown field "colour"');
  });

  it('names the file and the option of a use case, with no stray "options."', () => {
    const config = parseConfig({ useCases: { 'dependencies.sbom': { options: { defaultLocation: ['s3://b/{buildId}.json'] } } } });
    const text = message(() => checkConfigAgainstCatalogue(config, useCases, 'buildwatch.config.json'));
    expect(text).toBe('buildwatch.config.json: invalid configuration: useCases["dependencies.sbom"].options: unknown field "defaultLocation" (did you mean "defaultLocations"?)');
    expect(text).not.toContain('options.:');
  });

  it('suggests the nearest use-case id, in useCases and in suppressions', () => {
    const config = parseConfig({
      useCases: { 'source.new-pushr': {} },
      suppressions: [{ useCase: 'monitor.cloudtrail-tampr', expires: '2026-12-31', reason: 'typo' }],
    });
    expect(message(() => checkConfigAgainstCatalogue(config, useCases, 'f.json'))).toBe(
      'f.json: configuration names unknown use case(s): source.new-pushr (did you mean "source.new-pusher"?), monitor.cloudtrail-tampr (did you mean "monitor.cloudtrail-tamper"?)',
    );
  });
});

describe('ledger.keepLegacyDayIndex', () => {
  it('is off unless set, a boolean, and a typo of it is named', () => {
    expect(parseConfig({}).ledger.keepLegacyDayIndex).toBe(false);
    expect(parseConfig({ ledger: { keepLegacyDayIndex: true } }).ledger.keepLegacyDayIndex).toBe(true);
    expect(message(() => parseConfig({ ledger: { keepLegacyDayIndex: 'yes' } }, 'f.json'))).toContain('ledger.keepLegacyDayIndex');
    expect(message(() => parseConfig({ ledger: { keepLegacyDayIndexes: true } }, 'f.json'))).toContain('did you mean "keepLegacyDayIndex"?');
  });
});

describe('nearest name', () => {
  it('accepts typos within a third of the length and refuses unrelated names', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('repositroies', 'repositories')).toBe(1);
    expect(nearest('emial', ['email', 'https'])).toBe('email');
    expect(nearest('xyz', ['email', 'https'])).toBeUndefined();
    expect(nearest('EMAIL', ['email'])).toBe('email');
  });

  it('formats paths as they are written', () => {
    expect(formatPath(['useCases', 'dependencies.sbom', 'options', 'defaultLocations', 0])).toBe('useCases["dependencies.sbom"].options.defaultLocations[0]');
  });
});
