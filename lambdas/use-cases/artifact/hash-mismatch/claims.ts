/**
 * The claims of artifact.hash-mismatch: a configured package version and its asset hashes, from the
 * native CodeArtifact event (assets listed with ListPackageVersionAssets) or from the
 * PublishPackageVersion record (which carries the hash and who published). Stored with a pending
 * check, so parsed again with `claimDataSchema` whenever it is judged.
 */
import * as z from 'zod';
import { isAutomationPrincipal } from '../../../engine/policy.js';
import { sessionNameOf } from '../../../engine/principal.js';
import { stringAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { builtOnFirstUse, type CorrelationClaim, type JsonObject, type UseCaseContext } from '../../../engine/use-case.js';
import { noLookups, type PackageVersionRef } from '../../../lookups/lookups.js';
import { buildProjectAccount, configuredPackage, normaliseNamespace, packageVersionSubject, refFromCall, refFromNativeEvent } from '../codeartifact.js';

/** Keys a pending check lists as wanted, at most (each a hash or a build id: small). */
const MAX_WANTED = 64;

/** Package version states a consumer can fetch; Unfinished, Archived and Disposed versions are not releases. */
const FETCHABLE_STATES = new Set(['Published', 'Unlisted']);

/**
 * The CodeBuild session a build's own calls run under: `AWSCodeBuild-<build uuid>`, in the caller's
 * copy (`…/assumed-role/<role>/AWSCodeBuild-…`) and in the repository owner's copy of a
 * cross-account publish (`AWSAccount`, principal id `AROA…:AWSCodeBuild-…`) alike.
 */
const CODEBUILD_SESSION = /^AWSCodeBuild-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** Parts of claimDataSchema, built with it. */
const refSchema = () => z.object({
  domain: z.string(),
  domainOwner: z.string().optional(),
  repository: z.string(),
  format: z.string(),
  namespace: z.string().optional(),
  package: z.string(),
  version: z.string(),
});
const assetSchema = () => z.object({ name: z.string(), sha256: z.string().optional() });
export type Asset = z.infer<ReturnType<typeof assetSchema>>;
const publisherSchema = () => z.object({ principal: z.string(), automation: z.boolean(), buildUuid: z.string().optional() });
/** A claim's data as stored with a pending check: parsed again at every judgement (a boundary). */
export const claimDataSchema = builtOnFirstUse(() => z.object({
  ref: refSchema(),
  /** null: the asset listing was unavailable; judged again later. */
  assets: z.array(assetSchema()).nullable(),
  via: z.string(),
  publisher: publisherSchema().optional(),
}));
export type ClaimData = z.infer<typeof claimDataSchema>;

function refJson(ref: PackageVersionRef): JsonObject {
  const namespace = normaliseNamespace(ref.namespace);
  return {
    domain: ref.domain,
    ...(ref.domainOwner ? { domainOwner: ref.domainOwner } : {}),
    repository: ref.repository,
    format: ref.format,
    ...(namespace ? { namespace } : {}),
    package: ref.package,
    version: ref.version,
  };
}

function assetsJson(assets: readonly Asset[]): JsonObject[] {
  return assets.map((asset) => ({ name: asset.name, ...(asset.sha256 ? { sha256: asset.sha256.toLowerCase() } : {}) }));
}

/**
 * What can settle the claim before its deadline: a build with one of its asset hashes, or the build
 * it was published from (its `build:<uuid>` name). Without a listing (retried at each judgement) any
 * build of the project may be the moment the listing works: every one judges it again.
 */
function wantedBy(assets: readonly JsonObject[] | null, buildUuid: string | undefined): string[] | undefined {
  if (assets === null) return undefined;
  const wants = new Set<string>();
  for (const asset of assets) if (typeof asset['sha256'] === 'string') wants.add(asset['sha256']);
  if (buildUuid) wants.add(`build:${buildUuid}`);
  // Kept with the pending check: a version with more assets than that is judged again by any build.
  return wants.size <= MAX_WANTED ? [...wants] : undefined;
}

function claim(ctx: UseCaseContext, ref: PackageVersionRef, join: string, data: Omit<JsonObject, 'ref'>, wants: string[] | undefined): CorrelationClaim {
  // Organisation: the build project may run in another account (tooling) than the package (artifacts).
  const buildAccount = buildProjectAccount(ctx.config, join);
  return {
    join,
    subject: packageVersionSubject(ref),
    data: { ref: refJson(ref), ...data },
    ...(buildAccount ? { joinLocation: { account: buildAccount } } : {}),
    ...(wants ? { wants } : {}),
  };
}

/** The asset a PublishPackageVersion call uploaded, with its hash: from the response (hashes) or the request (assetSHA256). */
function publishedAsset(event: PipelineEvent): Asset | undefined {
  const record = event.cloudTrail;
  const name = stringAt(record?.responseElements, 'asset', 'name') ?? stringAt(record?.requestParameters, 'assetName');
  if (!name) return undefined;
  const sha256 = stringAt(record?.responseElements, 'asset', 'hashes', 'SHA-256') ?? stringAt(record?.requestParameters, 'assetSHA256');
  // Without its hash the record says nothing comparable: list the version's assets instead.
  return sha256 ? { name, sha256 } : undefined;
}

export async function nativeClaim(event: PipelineEvent, ctx: UseCaseContext): Promise<CorrelationClaim | undefined> {
  const ref = refFromNativeEvent(event);
  if (!ref || stringAt(event.detail, 'operationType') === 'Deleted') return undefined;
  if (!FETCHABLE_STATES.has(stringAt(event.detail, 'packageVersionState') ?? '')) return undefined;
  // Only configured packages are pipeline outputs; upstream and other packages never alert.
  const pkg = configuredPackage(ctx.config, ref);
  if (!pkg) return undefined;
  // A version fetched through an external connection is a cached public package, not a pipeline output.
  const origin = await ctx.lookups.packageVersionOrigin?.(ref);
  if (origin?.status === 'found' && origin.value.originType === 'EXTERNAL') return undefined;
  const listing = await ctx.lookups.packageVersionAssets(ref);
  if (listing.status === 'missing') return undefined;
  // Offline without a recorded directory the listing can never come: nothing to wait for (the
  // PublishPackageVersion record, when there is one, carries the hash itself).
  if (listing.status === 'unavailable' && ctx.lookups === noLookups) return undefined;
  const assets =
    listing.status === 'found'
      ? assetsJson(listing.value.assets.map((asset) => ({ name: asset.name, ...(asset.hashes['SHA-256'] ? { sha256: asset.hashes['SHA-256'] } : {}) })))
      : null;
  return claim(ctx, ref, pkg.buildProject, { assets, via: 'CodeArtifact Package Version State Change' }, wantedBy(assets, undefined));
}

export function publishClaim(event: PipelineEvent, ctx: UseCaseContext): CorrelationClaim | undefined {
  const ref = refFromCall(event);
  if (!ref) return undefined;
  const pkg = configuredPackage(ctx.config, ref);
  if (!pkg) return undefined;
  const asset = publishedAsset(event);
  const principal = event.principal;
  const buildUuid = CODEBUILD_SESSION.exec(sessionNameOf(event.cloudTrail?.userIdentity) ?? '')?.[1]?.toLowerCase();
  const publisher: JsonObject = {
    principal: principal?.arn ?? principal?.key ?? 'unknown',
    automation: isAutomationPrincipal(ctx.config, principal),
    ...(buildUuid ? { buildUuid } : {}),
  };
  const assets = asset ? assetsJson([asset]) : null;
  return claim(ctx, ref, pkg.buildProject, { assets, via: 'PublishPackageVersion', publisher }, wantedBy(assets, buildUuid));
}
