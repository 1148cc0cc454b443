/**
 * Look-ups whose implementation is loaded on first use. A Lambda's cold start compiles and evaluates
 * every module its bundle imports statically; a look-up client needed only by the events that ask
 * AWS something (EC2's is about 550 KB) can be imported with `import()` instead: esbuild still
 * bundles it (the pinned SDK), but evaluates it only when that import first runs. The loaded
 * look-ups are kept for the container's life; a failed load is an `unavailable` answer (look-ups
 * never throw) and is tried again on the next call.
 */
import type { LookupResult, Lookups } from './lookups.js';

/** The look-ups a Lookups may lack (callers treat an absent one as unavailable). */
export type OptionalLookupName = 'packageVersionOrigin' | 'trails' | 'ecrImage' | 'codeBuildFleet' | 'ec2Instance' | 'launchTemplateDefaultVersion' | 'organizationAccounts';

type Load = () => Promise<Lookups>;

/** `load`, run once; a rejected load is forgotten so the next call tries again. */
function once(load: Load): Load {
  let loading: Promise<Lookups> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

type OptionalLookups = Required<Pick<Lookups, OptionalLookupName>>;

/** Every optional look-up, each loading the implementation before it asks it. */
function forwarding(loaded: Load): OptionalLookups {
  const through = async <T>(name: OptionalLookupName, ask: (lookups: Lookups) => Promise<LookupResult<T>> | undefined): Promise<LookupResult<T>> => {
    let lookups: Lookups;
    try {
      lookups = await loaded();
    } catch (error) {
      return { status: 'unavailable', reason: `${name}: the look-ups could not be loaded: ${reasonOf(error)}` };
    }
    return (await ask(lookups)) ?? { status: 'unavailable', reason: `the look-ups have no ${name}` };
  };
  return {
    packageVersionOrigin: (ref) => through('packageVersionOrigin', (lookups) => lookups.packageVersionOrigin?.(ref)),
    trails: () => through('trails', (lookups) => lookups.trails?.()),
    ecrImage: (ref) => through('ecrImage', (lookups) => lookups.ecrImage?.(ref)),
    codeBuildFleet: (nameOrArn) => through('codeBuildFleet', (lookups) => lookups.codeBuildFleet?.(nameOrArn)),
    ec2Instance: (ref) => through('ec2Instance', (lookups) => lookups.ec2Instance?.(ref)),
    launchTemplateDefaultVersion: (ref) => through('launchTemplateDefaultVersion', (lookups) => lookups.launchTemplateDefaultVersion?.(ref)),
    organizationAccounts: () => through('organizationAccounts', (lookups) => lookups.organizationAccounts?.()),
  };
}

function copy<T, K extends keyof T>(to: Partial<T>, from: T, key: K): void {
  to[key] = from[key];
}

/**
 * These optional look-ups, answered by the ones `load` gives, loaded by the first of them to be asked
 * (to add to Lookups that are already there; they are offered before anything is loaded, so the
 * caller names them).
 */
export function deferredLookupMethods(load: Load, names: readonly OptionalLookupName[]): Partial<Lookups> {
  const all = forwarding(once(load));
  const methods: Partial<OptionalLookups> = {};
  for (const name of names) copy(methods, all, name);
  return methods;
}
