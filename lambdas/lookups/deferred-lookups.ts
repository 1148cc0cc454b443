/**
 * Look-ups whose implementation is loaded on first use. A Lambda's cold start evaluates every module
 * its bundle imports statically; the SDK clients of the look-ups (EC2's alone is about 550 KB) are
 * needed only by the events that ask AWS something, so the handler imports them with `import()`:
 * esbuild still bundles them (the pinned SDK), but evaluates them only when that import first runs.
 * The loaded look-ups are kept for the container's life; a failed load is an `unavailable` answer
 * (look-ups never throw) and is tried again on the next call.
 */
import type { LookupResult, Lookups } from './lookups.js';

/** The look-ups a Lookups may lack (callers treat an absent one as unavailable). */
export type OptionalLookupName = 'packageVersionOrigin' | 'trails' | 'ecrImage' | 'codeBuildFleet' | 'ec2Instance' | 'launchTemplateDefaultVersion' | 'organizationAccounts';

export interface DeferredLookupsOptions {
  /** The optional look-ups the loaded Lookups has (offered before it is loaded, so they must be known). */
  readonly optional: readonly OptionalLookupName[];
  /** Whether the loaded Lookups has `inAccount` (organisation deployments). */
  readonly inAccount?: boolean;
}

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

type LookupMethods = Required<Omit<Lookups, 'inAccount'>>;

/** Every look-up, each loading the implementation before it asks it. */
function forwarding(loaded: Load): LookupMethods {
  const through = async <T>(name: keyof LookupMethods, ask: (lookups: Lookups) => Promise<LookupResult<T>> | undefined): Promise<LookupResult<T>> => {
    let lookups: Lookups;
    try {
      lookups = await loaded();
    } catch (error) {
      return { status: 'unavailable', reason: `${name}: the look-ups could not be loaded: ${reasonOf(error)}` };
    }
    return (await ask(lookups)) ?? { status: 'unavailable', reason: `the look-ups have no ${name}` };
  };
  return {
    s3Object: (bucket, key) => through('s3Object', (lookups) => lookups.s3Object(bucket, key)),
    packageVersionAssets: (ref) => through('packageVersionAssets', (lookups) => lookups.packageVersionAssets(ref)),
    codeBuildProject: (name) => through('codeBuildProject', (lookups) => lookups.codeBuildProject(name)),
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

/** Only these optional look-ups, loaded on first use (to add to Lookups that are already there). */
export function deferredLookupMethods(load: Load, names: readonly OptionalLookupName[]): Partial<Lookups> {
  const all = forwarding(once(load));
  const methods: Partial<Lookups> = {};
  for (const name of names) copy(methods, all, name);
  return methods;
}

/**
 * Lookups answering through the ones `load` gives, loaded on the first look-up. `inAccount` gives a
 * place's look-ups without loading anything yet (the engine asks for them for every event).
 */
export function deferredLookups(load: Load, options: DeferredLookupsOptions): Lookups {
  const loaded = once(load);
  const all = forwarding(loaded);
  const lookups: Lookups = { s3Object: all.s3Object, packageVersionAssets: all.packageVersionAssets, codeBuildProject: all.codeBuildProject };
  for (const name of options.optional) copy(lookups, all, name);
  if (options.inAccount) {
    lookups.inAccount = (account, region) =>
      deferredLookups(async () => {
        const own = await loaded();
        return own.inAccount?.(account, region) ?? own;
      }, { optional: options.optional });
  }
  return lookups;
}
