/**
 * optionsOf parses a use case's options once per options object and schema, and every event of the
 * run gets that one object: it is frozen, so a use case cannot change it for the events after.
 */
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { optionsOf, type UseCaseContext } from '../../lambdas/engine/use-case.js';

const schema = z.object({ projects: z.array(z.string()).default([]), limit: z.number().default(3), pattern: z.string().transform((text) => new RegExp(text)).optional() });

function contextWith(options: unknown): UseCaseContext {
  return { options } as UseCaseContext;
}

describe('optionsOf', () => {
  it('answers the same parsed options for the same options object and schema, with defaults applied', () => {
    const ctx = contextWith({ projects: ['app'] });
    const first = optionsOf(schema, ctx);
    expect(first).toEqual({ projects: ['app'], limit: 3 });
    expect(optionsOf(schema, ctx)).toBe(first);
    // Another options object (another account's pipeline, another run) is parsed on its own.
    expect(optionsOf(schema, contextWith({ projects: ['lib'] })).projects).toEqual(['lib']);
  });

  it('freezes what it shares, deeply, so a use case that tried to change it fails instead of changing later events', () => {
    const options = optionsOf(schema, contextWith({ projects: ['app'] }));
    expect(() => (options.projects as string[]).push('other')).toThrow(TypeError);
    expect(() => {
      (options as { limit: number }).limit = 9;
    }).toThrow(TypeError);
    expect(optionsOf(schema, contextWith({ projects: ['app'] })).projects).toEqual(['app']);
  });

  it('leaves objects a schema made that are not plain data as they are', () => {
    const options = optionsOf(schema, contextWith({ pattern: '^build-' }));
    expect(options.pattern).toBeInstanceOf(RegExp);
    expect(Object.isFrozen(options.pattern)).toBe(false);
    expect(options.pattern?.test('build-images')).toBe(true);
  });
});
