/**
 * The ECR image look-up answered by the AWS SDK (the backfill seeds build.image-change's digests with
 * it). A module of its own so that only the backfill bundles the ECR client: the detect and sweep
 * functions never ask ECR (their roles may not). As in aws-lookups.ts, nothing here throws.
 */
import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { errorName, unavailable } from './lookup-failure.js';
import type { EcrImageDetail, EcrImageRef, LookupResult, Lookups } from './lookups.js';

/** `ecrFor`: the client of a region (an image URI names its region). */
export function createAwsEcrLookups(ecrFor: (region: string) => ECRClient): Required<Pick<Lookups, 'ecrImage'>> {
  return {
    async ecrImage(ref: EcrImageRef): Promise<LookupResult<EcrImageDetail>> {
      try {
        const output = await ecrFor(ref.region).send(
          new DescribeImagesCommand({ registryId: ref.registryId, repositoryName: ref.repository, imageIds: [{ imageTag: ref.tag }] }),
        );
        const detail = (output.imageDetails ?? []).find((image) => image.imageTags?.includes(ref.tag));
        if (detail?.imageDigest === undefined) return { status: 'missing' };
        return {
          status: 'found',
          value: {
            digest: detail.imageDigest,
            tags: [...(detail.imageTags ?? [])],
            ...(detail.imagePushedAt ? { pushedAt: detail.imagePushedAt.toISOString() } : {}),
          },
        };
      } catch (error) {
        const name = errorName(error);
        if (name === 'ImageNotFoundException' || name === 'RepositoryNotFoundException') return { status: 'missing' };
        return unavailable(error);
      }
    },
  };
}
