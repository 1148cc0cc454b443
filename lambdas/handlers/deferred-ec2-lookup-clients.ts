/**
 * The detect function's EC2 look-ups (ec2-lookup-clients.ts) with the EC2 client loaded by the first
 * EC2 look-up of any account and region, not at every cold start (issue #15, goal 4). EC2's client
 * carries its API's schema (about 550 KB minified, the largest part of the detect bundle), and only
 * build.host-access asks EC2. Nothing of EC2 may be imported statically here: only `import()`.
 *
 * The other look-up clients stay imported as usual: esbuild bundles a module reached by `import()`
 * wrapped for evaluation on first use, and in that form it keeps the whole of each client package
 * (their index modules re-export every command), which for the small clients costs more to parse
 * than deferring their evaluation saves (measured with bench/bundle.ts).
 */
import { deferredLookupMethods, type OptionalLookupName } from '../lookups/deferred-lookups.js';
import type { ExtendLookups } from './lookup-clients.js';

/** What withEc2Lookups adds. */
const EC2_LOOKUPS: readonly OptionalLookupName[] = ['ec2Instance', 'launchTemplateDefaultVersion'];

/** withEc2Lookups for this account and region, loaded (once) by its first EC2 look-up. */
export const withDeferredEc2Lookups: ExtendLookups = (lookups, region, credentials) => ({
  ...lookups,
  ...deferredLookupMethods(async () => (await import('./ec2-lookup-clients.js')).withEc2Lookups(lookups, region, credentials), EC2_LOOKUPS),
});
