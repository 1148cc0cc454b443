/**
 * source.protection-change: what protects a watched repository's code changed or went away. A
 * protected branch deleted (API or `git push --delete`), the default branch moved, repository
 * triggers replaced or removed, the repository deleted or renamed, its encryption key changed.
 *
 * Which branches are protected is configuration (`protectedBranches`, default main and master, globs
 * allowed): a stateless rule cannot know a default branch it never saw set, and deleting a feature
 * branch is routine. CodeCommit refuses to delete the current default branch, so a successful
 * deletion of `main` means the default was moved first, which is reported too.
 *
 * A branch deleted through the API logs DeleteBranch and also sends a native referenceDeleted event;
 * both carry the deleted commit, so repository|branch|commit makes them one finding. A branch deleted
 * by `git push --delete` shows only in the native event (the GitPush record has no old commit).
 */
import * as z from 'zod';
import { isRecord, stringAt, valueAt, type PipelineEvent } from '../../../engine/pipeline-event.js';
import { builtOnFirstUse, defineUseCase, optionsOf, type Observation, type UseCaseContext } from '../../../engine/use-case.js';
import { observationOf, type Change } from '../change.js';
import { branchName, isWatchedRepository, matchesBranch } from '../codecommit.js';

const optionsSchema = builtOnFirstUse(() => z.strictObject({
  /** Branch names (globs allowed, e.g. release/*) whose deletion, or loss of default status, matters. */
  protectedBranches: z.array(z.string().min(1)).default(['main', 'master']),
}));

const KMS_KEY_ACCOUNT = /^arn:aws[a-z-]*:kms:[^:]*:(\d{12}):/;

function branchDeleted(repository: string, branch: string, commit: string | undefined, event: PipelineEvent, via: string): Change {
  const subject = `protected branch ${branch} of ${repository}`;
  return {
    severity: 'high',
    title: 'Protected branch deleted',
    did: `deleted ${subject}`,
    attempt: `delete ${subject}`,
    detail: commit ? `it pointed at ${commit}; restore it with CreateBranch from that commit` : undefined,
    resource: repository,
    ...(commit && event.succeeded ? { incidentKey: `${repository}|branch-deleted|${branch}|${commit}` } : {}),
    evidence: { repository, branch, commit: commit ?? null, via },
  };
}

function triggersChange(repository: string, triggers: unknown): Change {
  const list = Array.isArray(triggers) ? triggers.filter(isRecord) : [];
  if (list.length === 0) {
    return {
      severity: 'high',
      title: 'Repository triggers removed',
      did: `removed every trigger of ${repository}`,
      attempt: `remove every trigger of ${repository}`,
      detail: 'pushes no longer notify the trigger targets (scanners, notifications)',
      resource: repository,
      evidence: { repository, triggers: [] },
    };
  }
  const described = list.map((t) => `${stringAt(t, 'name') ?? '(unnamed)'} → ${stringAt(t, 'destinationArn') ?? '(no destination)'}`);
  return {
    severity: 'medium',
    title: 'Repository triggers replaced',
    did: `replaced the triggers of ${repository}`,
    attempt: `replace the triggers of ${repository}`,
    detail: `now ${described.join('; ')}`,
    resource: repository,
    evidence: {
      repository,
      triggers: list.map((t) => ({ name: t['name'] ?? null, destinationArn: t['destinationArn'] ?? null, events: t['events'] ?? null, branches: t['branches'] ?? null })),
    },
  };
}

function cloudTrailChange(event: PipelineEvent, ctx: UseCaseContext, protectedBranches: readonly string[]): Change | undefined {
  const record = event.cloudTrail;
  if (!record) return undefined;
  const params = record.requestParameters ?? {};
  const response = record.responseElements ?? {};
  const repository = stringAt(params, 'repositoryName') ?? stringAt(params, 'oldName');
  if (!isWatchedRepository(ctx.config, repository) && !isWatchedRepository(ctx.config, stringAt(params, 'newName'))) return undefined;
  const name = repository ?? stringAt(params, 'newName') ?? '(unknown repository)';
  switch (record.eventName) {
    case 'DeleteBranch': {
      const branch = stringAt(params, 'branchName');
      if (!branch || !matchesBranch(protectedBranches, branch)) return undefined;
      return branchDeleted(name, branchName(branch), stringAt(response, 'deletedBranch', 'commitId'), event, 'CloudTrail DeleteBranch');
    }
    case 'UpdateDefaultBranch': {
      const branch = stringAt(params, 'defaultBranchName') ?? '(unnamed)';
      const unprotected = !matchesBranch(protectedBranches, branch);
      return {
        severity: unprotected ? 'high' : 'medium',
        title: 'Default branch changed',
        did: `made ${branch} the default branch of ${name}`,
        attempt: `make ${branch} the default branch of ${name}`,
        detail: unprotected ? `${branch} is not a protected branch (${protectedBranches.join(', ')}), and the previous default can now be deleted` : 'the previous default branch can now be deleted',
        resource: name,
        evidence: { repository: name, defaultBranch: branch, protectedBranch: !unprotected },
      };
    }
    case 'PutRepositoryTriggers':
      return triggersChange(name, valueAt(params, 'triggers'));
    case 'DeleteRepository':
      return { severity: 'high', title: 'Repository deleted', did: `deleted repository ${name}`, attempt: `delete repository ${name}`, resource: name, evidence: { repository: name, repositoryId: stringAt(response, 'repositoryId') ?? null } };
    case 'UpdateRepositoryName': {
      const newName = stringAt(params, 'newName') ?? '(unknown)';
      return {
        severity: 'medium',
        title: 'Repository renamed',
        did: `renamed repository ${name} to ${newName}`,
        attempt: `rename repository ${name} to ${newName}`,
        detail: 'pipelines, triggers and monitoring that name the repository stop seeing it',
        resource: name,
        evidence: { repository: name, newName },
      };
    }
    case 'UpdateRepositoryEncryptionKey': {
      const key = stringAt(params, 'kmsKeyId') ?? '(unknown key)';
      const keyAccount = KMS_KEY_ACCOUNT.exec(key)?.[1];
      const account = record.recipientAccountId ?? event.envelope.account;
      const foreign = keyAccount !== undefined && account !== '' && keyAccount !== account;
      return {
        severity: foreign ? 'high' : 'medium',
        title: 'Repository encryption key changed',
        did: `changed the encryption key of ${name} to ${key}`,
        attempt: `change the encryption key of ${name} to ${key}`,
        detail: foreign ? `the key belongs to account ${keyAccount}, so that account now controls who can read the code` : `whoever controls this key controls who can read the code${stringAt(response, 'originalKmsKeyId') ? ` (was ${stringAt(response, 'originalKmsKeyId')})` : ''}`,
        resource: name,
        evidence: { repository: name, kmsKeyId: key, originalKmsKeyId: stringAt(response, 'originalKmsKeyId') ?? null, keyAccount: keyAccount ?? null },
      };
    }
    default:
      return undefined;
  }
}

function nativeChange(event: PipelineEvent, ctx: UseCaseContext, protectedBranches: readonly string[]): Change | undefined {
  const detail = event.detail;
  if (stringAt(detail, 'event') !== 'referenceDeleted' || stringAt(detail, 'referenceType') !== 'branch') return undefined;
  const repository = stringAt(detail, 'repositoryName');
  const branch = stringAt(detail, 'referenceName') ?? branchName(stringAt(detail, 'referenceFullName') ?? '');
  if (!isWatchedRepository(ctx.config, repository) || !branch || !matchesBranch(protectedBranches, branch)) return undefined;
  return branchDeleted(repository, branch, stringAt(detail, 'oldCommitId'), event, 'CodeCommit Repository State Change');
}

function evaluate(event: PipelineEvent, ctx: UseCaseContext): Observation | undefined {
  const { protectedBranches } = optionsOf(optionsSchema, ctx);
  const change = event.cloudTrail ? cloudTrailChange(event, ctx, protectedBranches) : nativeChange(event, ctx, protectedBranches);
  return change ? observationOf(change, event) : undefined;
}

export default defineUseCase({
  metadata: {
    id: 'source.protection-change',
    answers: 'source.protection-change',
    title: 'Repository protection changed or removed',
    stage: 'source',
    description:
      'A protected branch deleted, the default branch moved (high when to an unprotected branch), every trigger removed, the repository deleted (high); triggers replaced, the repository renamed or its encryption key changed (medium, high for a key of another account). Refused attempts are low; changes made through CloudFormation are one step lower.',
    severity: 'high',
    defaultMode: 'alert',
    riskReduction: 3,
    effort: 1,
    mitre: ['T1485', 'T1562.001', 'T1195.002'],
    falsePositives: [
      'Renaming master to main: the default branch moves, then master is deleted.',
      'Planned trigger maintenance or repository retirement: suppress with an expiry for the change window.',
    ],
    runbook:
      'Confirm with the repository\'s owners that the change was planned. A deleted branch can be recreated from the commit in the evidence (CreateBranch); restore triggers from infrastructure code; check the new encryption key\'s policy and owner account.',
    references: ['https://docs.aws.amazon.com/codecommit/latest/userguide/integ-cloudtrail.html', 'https://docs.aws.amazon.com/codecommit/latest/userguide/monitoring-events.html'],
    includeFailedCalls: true,
  },
  pattern: {
    $or: [
      {
        source: ['aws.codecommit'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['codecommit.amazonaws.com'],
          eventName: ['DeleteBranch', 'UpdateDefaultBranch', 'PutRepositoryTriggers', 'DeleteRepository', 'UpdateRepositoryName', 'UpdateRepositoryEncryptionKey'],
        },
      },
      {
        source: ['aws.codecommit'],
        'detail-type': ['CodeCommit Repository State Change'],
        detail: { event: ['referenceDeleted'], referenceType: ['branch'] },
      },
    ],
  },
  logic: { kind: 'match', evaluate },
  optionsSchema,
});
