/**
 * Counts the zod schemas built while it is on (every copy of zod in the process, bundled ones too):
 * zod calls `globalThis.__zod_globalConfig.postProcessor` with each schema it constructs. It is an
 * internal hook; a test using this also checks that it counts something, so a zod that drops the
 * hook fails the test rather than passing it.
 */
interface ZodGlobalConfig {
  postProcessor?: (schema: unknown) => void;
}

export interface SchemaCounter {
  readonly count: number;
  stop(): void;
}

export function countZodSchemas(): SchemaCounter {
  const holder = globalThis as { __zod_globalConfig?: ZodGlobalConfig };
  const config = (holder.__zod_globalConfig ??= {});
  let count = 0;
  config.postProcessor = () => {
    count += 1;
  };
  return {
    get count() {
      return count;
    },
    stop: () => {
      delete config.postProcessor;
    },
  };
}
