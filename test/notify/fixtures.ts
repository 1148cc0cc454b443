/** A realistic finding for the notify tests; override what a test is about. */
import type { Finding } from '../../lambdas/engine/model.js';

export const NPM_TOKEN = 'npm_Zq8vX3mPq7LrT2yW9kB4nC6dF1gH5jK0sA';

export function finding(overrides: Partial<Finding> = {}): Finding {
  return {
    id: '5f0c3a9e2b7d4c1e8a6f0b3d9c2e7a41',
    useCase: 'source.new-pusher',
    answers: 'source.new-contributor',
    stage: 'source',
    severity: 'high',
    mode: 'alert',
    title: 'New principal pushed to payments-service',
    summary: 'alice pushed refs/heads/main to payments-service for the first time',
    eventId: '7e4b0e43-1d5c-4c8e-9a53-2f6a7d1b9c10',
    eventTime: '2026-03-02T09:14:27Z',
    day: '2026-03-02',
    principal: 'arn:aws:iam::111122223333:user/alice',
    account: '111122223333',
    region: 'eu-west-1',
    resource: 'arn:aws:codecommit:eu-west-1:111122223333:payments-service',
    sourceIp: '198.51.100.23',
    userAgent: 'git/2.43.0',
    dedupKey: 'payments-service#arn:aws:iam::111122223333:user/alice',
    evidence: { repository: 'payments-service', references: [{ ref: 'refs/heads/main', commit: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b' }] },
    runbook: 'Confirm with the repository owner that alice should push here.\nIf not, revoke her Git credentials.',
    team: 'payments',
    recordedAt: '2026-03-02T09:15:02Z',
    contentHash: '0'.repeat(64),
    ...overrides,
  };
}

/** Evidence shaped like a CodeBuild Build State Change with a PLAINTEXT secret, as if stored unredacted. */
export function codeBuildEvidence(): Record<string, unknown> {
  return {
    'build-status': 'IN_PROGRESS',
    'project-name': 'payments-service-build',
    'additional-information': {
      environment: {
        image: 'aws/codebuild/standard:7.0',
        'environment-variables': [
          { name: 'NPM_TOKEN', type: 'PLAINTEXT', value: NPM_TOKEN },
          { name: 'DB_PASSWORD', type: 'PARAMETER_STORE', value: '/payments/db-password' },
        ],
      },
    },
  };
}
