/**
 * The native `CodeBuild Build State Change` event as the dependency use cases need it (EVENTS.md 4.1):
 * which project, which build (ARN, the `<project>:<uuid>` id CodeBuild's API uses, the uuid, the
 * build number) and how it ended.
 */
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../engine/pipeline-event.js';

export interface BuildInfo {
  readonly project: string;
  /** arn:aws:codebuild:<region>:<account>:build/<project>:<uuid> */
  readonly arn: string;
  /** `<project>:<uuid>`: the id BatchGetBuilds and the console use. */
  readonly buildId?: string;
  readonly buildUuid?: string;
  readonly buildNumber?: number;
  readonly status: string;
  readonly sourceVersion?: string;
  readonly initiator?: string;
}

const BUILD_ARN = /^arn:aws[a-z-]*:codebuild:[^:]*:\d{12}:build\/([^:/]+):([^:/]+)$/;

/** The pattern every dependency use case fed by builds uses: successful builds only. */
export const SUCCEEDED_BUILD_PATTERN = {
  source: ['aws.codebuild'],
  'detail-type': ['CodeBuild Build State Change'],
  detail: { 'build-status': ['SUCCEEDED'] },
} as const;

export function buildOf(event: PipelineEvent): BuildInfo | undefined {
  if (event.source !== 'aws.codebuild' || event.detailType !== 'CodeBuild Build State Change') return undefined;
  const detail = event.detail;
  const arn = stringAt(detail, 'build-id') ?? event.envelope.resources.find((r) => BUILD_ARN.test(r));
  const parsed = arn ? BUILD_ARN.exec(arn) : null;
  const project = stringAt(detail, 'project-name') ?? parsed?.[1];
  if (!project || !arn) return undefined;
  const info = isRecord(detail['additional-information']) ? detail['additional-information'] : {};
  const number = valueAt(info, 'build-number');
  const uuid = parsed?.[2];
  return {
    project,
    arn,
    ...(uuid ? { buildUuid: uuid, buildId: `${parsed?.[1] ?? project}:${uuid}` } : {}),
    ...(typeof number === 'number' && Number.isInteger(number) ? { buildNumber: number } : {}),
    status: stringAt(detail, 'build-status') ?? 'UNKNOWN',
    ...(stringAt(info, 'source-version') ? { sourceVersion: stringAt(info, 'source-version') } : {}),
    ...(stringAt(info, 'initiator') ? { initiator: stringAt(info, 'initiator') } : {}),
  };
}

/** `payments-service-build #455` or `payments-service-build:1f7b…` for summaries. */
export function buildLabel(build: BuildInfo): string {
  if (build.buildNumber !== undefined) return `${build.project} #${build.buildNumber}`;
  return build.buildId ?? build.arn;
}
