/**
 * Build images in the account's ECR: which watched projects build on which repository and tag.
 *
 * A project's image comes from its one owner, the build.project-drift snapshot (environment.image),
 * read through the context's snapshot view; `projectImages` in build.image-change's options names
 * images the snapshots do not know yet (no CreateProject/UpdateProject seen, or all projects watched,
 * which gives no list to read). The ECR use cases share these settings, configured once on build.image-change.
 */
import * as z from 'zod';
import type { BuildwatchConfig } from '../../config/config.js';
import type { Principal } from '../../engine/model.js';
import { stringAt, valueAt, type PipelineEvent } from '../../engine/pipeline-event.js';
import { principalMatches } from '../../engine/principal.js';
import { builtOnFirstUse, type SnapshotReader, type UseCaseContext } from '../../engine/use-case.js';

export const IMAGE_CHANGE_ID = 'build.image-change';
const PROJECT_DRIFT_ID = 'build.project-drift';

/** `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repo>[:<tag>][@sha256:<digest>]` */
const ECR_IMAGE = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9][a-z0-9._/-]*?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$/;

export const buildImageOptionsSchema = builtOnFirstUse(() => z.strictObject({
  /** Principals that build and push the build images (ARN patterns as in automationPrincipals): their retags are attested, not alerted. */
  imageBuilders: z.array(z.string().min(1)).default([]),
  /** project name → ECR image URI, for projects the drift snapshots do not know yet. */
  projectImages: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/, 'a CodeBuild project name'), z.string().regex(ECR_IMAGE, 'an ECR image URI <account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>')).default({}),
}));
export type BuildImageOptions = z.output<typeof buildImageOptionsSchema>;

export interface EcrImage {
  readonly account: string;
  readonly region: string;
  readonly repository: string;
  /** The tag the project follows (`latest` when the URI names neither tag nor digest). */
  readonly tag?: string;
  /** Set when the project pins the image by digest: immune to retagging. */
  readonly digest?: string;
}

export function parseEcrImage(uri: string): EcrImage | undefined {
  const match = ECR_IMAGE.exec(uri.trim());
  if (!match) return undefined;
  const [, account, region, repository, tag, digest] = match as unknown as [string, string, string, string, string | undefined, string | undefined];
  return { account, region, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : tag ? {} : { tag: 'latest' }) };
}

/** The shared settings, from build.image-change's options (defaults when absent or invalid there: the engine reports invalid options). */
export function buildImageSettings(config: BuildwatchConfig): BuildImageOptions {
  const parsed = buildImageOptionsSchema.safeParse(config.useCases[IMAGE_CHANGE_ID]?.options ?? {});
  return parsed.success ? parsed.data : buildImageOptionsSchema.parse({});
}

export function isImageBuilder(config: BuildwatchConfig, principal: Principal | undefined): boolean {
  return Boolean(principal && buildImageSettings(config).imageBuilders.some((entry) => principalMatches(entry, principal)));
}

export interface ImageUser {
  readonly project: string;
  readonly image: EcrImage;
  readonly uri: string;
  /** Where the image is known from: the project's drift snapshot (with its event time) or the configuration. */
  readonly knownFrom: string;
}

/** Every known build image in ECR of a watched project (other registries are out of scope). */
export async function buildImages(ctx: UseCaseContext): Promise<ImageUser[]> {
  return imageUsers(ctx.config, ctx.snapshots);
}

/** buildImages from the configuration and a snapshot reader (the backfill reads the store directly). */
export async function imageUsers(config: BuildwatchConfig, snapshots: SnapshotReader | undefined): Promise<ImageUser[]> {
  const settings = buildImageSettings(config);
  // Keys come from configuration, but a Map keeps them off any prototype all the same.
  const images = new Map<string, { uri: string; knownFrom: string }>();
  for (const [project, uri] of Object.entries(settings.projectImages)) images.set(project, { uri, knownFrom: 'configuration' });
  for (const { name } of config.pipeline.buildProjects) {
    const snapshot = await snapshots?.get(PROJECT_DRIFT_ID, `project/${name}`);
    const uri = stringAt(valueAt(snapshot?.state, 'environment'), 'image');
    // The project's own last known state wins over the configuration's note.
    if (snapshot && uri) images.set(name, { uri, knownFrom: `build.project-drift snapshot of ${snapshot.updatedAt}` });
  }
  const users: ImageUser[] = [];
  for (const [project, { uri, knownFrom }] of images) {
    const image = parseEcrImage(uri);
    if (image) users.push({ project, image, uri, knownFrom });
  }
  return users.sort((a, b) => a.project.localeCompare(b.project));
}

/** Watched projects whose build image lives in this ECR repository. */
export async function projectsOnRepository(ctx: UseCaseContext, where: { account: string; region: string; repository: string }): Promise<ImageUser[]> {
  return (await buildImages(ctx)).filter(({ image }) => image.account === where.account && image.region === where.region && image.repository === where.repository);
}

/** Account and region of an ECR call: the registry named in the request, else the account that logged it. */
export function registryOf(event: PipelineEvent): { account: string; region: string } | undefined {
  const record = event.cloudTrail;
  const account = stringAt(record?.requestParameters, 'registryId') ?? record?.recipientAccountId ?? event.envelope.account;
  const region = record?.awsRegion ?? event.envelope.region;
  return account && region ? { account, region } : undefined;
}

export function describeProjects(users: readonly ImageUser[]): string {
  return users.map((user) => user.project).join(', ');
}
