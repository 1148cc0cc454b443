/** CodeCommit accessors shared by the source-stage use cases (CloudTrail and native events). */
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../engine/pipeline-event.js';
import type { BuildwatchConfig } from '../../config/config.js';

/** The repository an event is about, from CloudTrail (additionalEventData / requestParameters / resources) or the native event. */
export function repositoryOf(event: PipelineEvent): string | undefined {
  const record = event.cloudTrail;
  if (record) {
    return (
      stringAt(record.additionalEventData, 'repositoryName') ??
      stringAt(record.requestParameters, 'repositoryName') ??
      record.resources?.map((r) => r.ARN).find((arn): arn is string => Boolean(arn?.includes(':codecommit:')))?.split(':').pop()
    );
  }
  return stringAt(event.detail, 'repositoryName') ?? event.envelope.resources.find((arn) => arn.includes(':codecommit:'))?.split(':').pop();
}

/** Refs a push updated: CloudTrail's references[], or the native event's single reference. */
export function pushedRefs(event: PipelineEvent): string[] {
  const references = valueAt(event.cloudTrail?.requestParameters, 'references');
  if (Array.isArray(references)) return references.filter(isRecord).map((ref) => String(ref['ref'] ?? '')).filter(Boolean);
  const native = stringAt(event.detail, 'referenceFullName') ?? stringAt(event.detail, 'referenceName');
  return native ? [native] : [];
}

/** Whether the configuration watches this repository (an empty list watches all). */
export function isWatchedRepository(config: BuildwatchConfig, repository: string | undefined): repository is string {
  if (!repository) return false;
  return config.pipeline.repositories.length === 0 || config.pipeline.repositories.includes(repository);
}
