/**
 * Look-ups answered by the AWS SDK (ARCHITECTURE.md, "AWS look-ups"). "Does not exist" becomes
 * `missing`; any other failure (throttling, access denied, network) becomes `unavailable` so the
 * caller can retry or report it. Nothing here throws.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  DescribePackageVersionCommand,
  ListPackageVersionAssetsCommand,
  type CodeartifactClient,
  type ListPackageVersionAssetsCommandOutput,
  type PackageFormat,
} from '@aws-sdk/client-codeartifact';
import { DescribeTrailsCommand, type CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { BatchGetFleetsCommand, BatchGetProjectsCommand, type CodeBuildClient } from '@aws-sdk/client-codebuild';
import type {
  CodeBuildFleet,
  CodeBuildProject,
  LookupResult,
  Lookups,
  PackageVersionAsset,
  PackageVersionAssets,
  PackageVersionOrigin,
  PackageVersionRef,
  TrailInfo,
} from './lookups.js';
import { errorName, unavailable } from './lookup-failure.js';

export interface AwsLookupClients {
  readonly s3: S3Client;
  readonly codeartifact: CodeartifactClient;
  readonly codebuild: CodeBuildClient;
  /** For the trail look-up; without it the look-up is unavailable. */
  readonly cloudtrail?: CloudTrailClient;
}

/** SBOMs and manifests are small; a larger object is more likely a mistake than worth the memory. */
export const MAX_S3_OBJECT_BYTES = 10 * 1024 * 1024;

/** A package version has a handful of assets; this only stops a token loop from running forever. */
const MAX_ASSET_PAGES = 100;

/** Releases the HTTP connection of a body we decided not to read (Node streams only). */
function discard(body: unknown): void {
  if (typeof body === 'object' && body !== null && 'destroy' in body && typeof body.destroy === 'function') {
    body.destroy();
  }
}

export function createAwsLookups(clients: AwsLookupClients): Lookups {
  return {
    async trails(): Promise<LookupResult<readonly TrailInfo[]>> {
      if (!clients.cloudtrail) return { status: 'unavailable', reason: 'no CloudTrail client' };
      try {
        const output = await clients.cloudtrail.send(new DescribeTrailsCommand({ includeShadowTrails: true }));
        return {
          status: 'found',
          value: (output.trailList ?? []).flatMap((trail) =>
            trail.Name
              ? [{
                  name: trail.Name,
                  ...(trail.TrailARN ? { trailArn: trail.TrailARN } : {}),
                  ...(trail.S3BucketName ? { s3BucketName: trail.S3BucketName } : {}),
                  ...(trail.S3KeyPrefix ? { s3KeyPrefix: trail.S3KeyPrefix } : {}),
                  ...(trail.KmsKeyId ? { kmsKeyId: trail.KmsKeyId } : {}),
                }]
              : [],
          ),
        };
      } catch (error) {
        return unavailable(error);
      }
    },

    async s3Object(bucket: string, key: string): Promise<LookupResult<Uint8Array>> {
      const tooLarge = (size: number): LookupResult<Uint8Array> => ({
        status: 'unavailable',
        reason: `s3://${bucket}/${key} is ${size} bytes, over the ${MAX_S3_OBJECT_BYTES}-byte limit`,
      });
      try {
        const output = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if (output.ContentLength !== undefined && output.ContentLength > MAX_S3_OBJECT_BYTES) {
          discard(output.Body);
          return tooLarge(output.ContentLength);
        }
        if (output.Body === undefined) return { status: 'unavailable', reason: `s3://${bucket}/${key}: response had no body` };
        const bytes = await output.Body.transformToByteArray();
        // ContentLength can be absent (e.g. chunked responses), so check what actually arrived too.
        if (bytes.byteLength > MAX_S3_OBJECT_BYTES) return tooLarge(bytes.byteLength);
        return { status: 'found', value: bytes };
      } catch (error) {
        const name = errorName(error);
        if (name === 'NoSuchKey' || name === 'NotFound') return { status: 'missing' };
        return unavailable(error);
      }
    },

    async packageVersionAssets(ref: PackageVersionRef): Promise<LookupResult<PackageVersionAssets>> {
      try {
        const pages: ListPackageVersionAssetsCommandOutput[] = [];
        let nextToken: string | undefined;
        do {
          if (pages.length >= MAX_ASSET_PAGES) {
            return { status: 'unavailable', reason: `ListPackageVersionAssets returned more than ${MAX_ASSET_PAGES} pages` };
          }
          const page = await clients.codeartifact.send(
            new ListPackageVersionAssetsCommand({
              ...packageVersionInput(ref),
              ...(nextToken !== undefined ? { nextToken } : {}),
            }),
          );
          pages.push(page);
          nextToken = page.nextToken || undefined;
        } while (nextToken !== undefined);

        const first = pages[0];
        const assets: PackageVersionAsset[] = pages.flatMap((page) =>
          (page.assets ?? []).flatMap((asset) =>
            // The API always names assets; the SDK types it optional, so skip rather than invent one.
            asset.name === undefined
              ? []
              : [
                  {
                    name: asset.name,
                    size: asset.size,
                    // Keys stay as the API sends them ("SHA-256"); drop the SDK's optional undefineds.
                    hashes: Object.fromEntries(
                      Object.entries(asset.hashes ?? {}).filter(
                        (entry): entry is [string, string] => typeof entry[1] === 'string',
                      ),
                    ),
                  },
                ],
          ),
        );
        return {
          status: 'found',
          value: {
            format: first?.format,
            namespace: first?.namespace || undefined,
            package: first?.package,
            version: first?.version,
            versionRevision: first?.versionRevision,
            assets,
          },
        };
      } catch (error) {
        if (errorName(error) === 'ResourceNotFoundException') return { status: 'missing' };
        return unavailable(error);
      }
    },

    async packageVersionOrigin(ref: PackageVersionRef): Promise<LookupResult<PackageVersionOrigin>> {
      try {
        const output = await clients.codeartifact.send(
          new DescribePackageVersionCommand(packageVersionInput(ref)),
        );
        const description = output.packageVersion;
        if (description === undefined) return { status: 'unavailable', reason: 'DescribePackageVersion returned no packageVersion' };
        const entry = description.origin?.domainEntryPoint;
        return {
          status: 'found',
          value: {
            // Versions published before origins were tracked have none: UNKNOWN, as the API says.
            originType: description.origin?.originType ?? 'UNKNOWN',
            ...(entry?.externalConnectionName ? { externalConnectionName: entry.externalConnectionName } : {}),
            ...(entry?.repositoryName ? { repositoryName: entry.repositoryName } : {}),
            ...(description.status ? { status: description.status } : {}),
          },
        };
      } catch (error) {
        if (errorName(error) === 'ResourceNotFoundException') return { status: 'missing' };
        return unavailable(error);
      }
    },

    async codeBuildFleet(nameOrArn: string): Promise<LookupResult<CodeBuildFleet>> {
      try {
        const output = await clients.codebuild.send(new BatchGetFleetsCommand({ names: [nameOrArn] }));
        // BatchGetFleets takes names or ARNs; anything else returned is not what we asked for.
        const fleet = (output.fleets ?? []).find((f) => f.name === nameOrArn || f.arn === nameOrArn);
        if (fleet === undefined) return { status: 'missing' };
        // Plain JSON (Dates become ISO strings) so it matches a recorded response and can be stored.
        return { status: 'found', value: JSON.parse(JSON.stringify(fleet)) as CodeBuildFleet };
      } catch (error) {
        return unavailable(error);
      }
    },

    async codeBuildProject(name: string): Promise<LookupResult<CodeBuildProject>> {
      try {
        const output = await clients.codebuild.send(new BatchGetProjectsCommand({ names: [name] }));
        // BatchGetProjects accepts a name or an ARN; anything else returned is not what we asked for.
        const project = (output.projects ?? []).find((p) => p.name === name || p.arn === name);
        if (project === undefined) return { status: 'missing' };
        // Plain JSON (Dates become ISO strings) so it matches a recorded response and can be stored.
        return { status: 'found', value: JSON.parse(JSON.stringify(project)) as CodeBuildProject };
      } catch (error) {
        return unavailable(error);
      }
    },
  };
}

/** The package-version parameters both CodeArtifact look-ups take. */
function packageVersionInput(ref: PackageVersionRef) {
  return {
    domain: ref.domain,
    ...(ref.domainOwner ? { domainOwner: ref.domainOwner } : {}),
    repository: ref.repository,
    // The SDK's enum is a closed union; pass through whatever format the event named.
    format: ref.format as PackageFormat,
    // The API rejects an empty namespace; npm without a scope has none.
    ...(ref.namespace ? { namespace: ref.namespace } : {}),
    package: ref.package,
    packageVersion: ref.version,
  };
}
