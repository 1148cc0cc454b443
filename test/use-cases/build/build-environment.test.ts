/** Helpers of the build-environment use cases: ECR image references, sandbox ids, command evidence. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lambdas/config/config.js';
import { buildImageSettings, parseEcrImage } from '../../../lambdas/use-cases/build/ecr.js';
import { checkConfigAgainstCatalogue } from '../../../lambdas/use-cases/check-config.js';
import { useCases } from '../../../lambdas/use-cases/index.js';
import { commandEvidence, MAX_COMMAND_CHARS, projectOfSandbox } from '../../../lambdas/use-cases/build/interactive-access/use-case.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('parseEcrImage', () => {
  it('reads account, region, repository and tag', () => {
    expect(parseEcrImage('111122223333.dkr.ecr.eu-west-1.amazonaws.com/build-images/node20:stable')).toEqual({
      account: '111122223333',
      region: 'eu-west-1',
      repository: 'build-images/node20',
      tag: 'stable',
    });
  });

  it('takes a missing tag as latest, and a digest as a pin without tag', () => {
    expect(parseEcrImage('111122223333.dkr.ecr.eu-west-1.amazonaws.com/base')?.tag).toBe('latest');
    const pinned = parseEcrImage(`111122223333.dkr.ecr.eu-west-1.amazonaws.com/base@${DIGEST}`);
    expect(pinned?.digest).toBe(DIGEST);
    expect(pinned?.tag).toBeUndefined();
  });

  it('is not fooled by CodeBuild curated images, Docker Hub or look-alike hosts', () => {
    expect(parseEcrImage('aws/codebuild/standard:7.0')).toBeUndefined();
    expect(parseEcrImage('node:20')).toBeUndefined();
    expect(parseEcrImage('111122223333.dkr.ecr.eu-west-1.amazonaws.com.evil.example/base:1')).toBeUndefined();
  });
});

describe('buildImageSettings', () => {
  it('rejects a project image that is not an ECR URI when the configuration is validated', () => {
    const config = parseConfig({ useCases: { 'build.image-change': { options: { projectImages: { p: 'node:20' } } } } });
    expect(() => checkConfigAgainstCatalogue(config, useCases)).toThrow(/useCases\["build\.image-change"\]\.options\.projectImages/);
  });

  it('accepts only CodeBuild project names as keys', () => {
    const config = parseConfig({ useCases: { 'build.image-change': { options: { projectImages: { 'bad name!': '111122223333.dkr.ecr.eu-west-1.amazonaws.com/b:1' } } } } });
    expect(() => checkConfigAgainstCatalogue(config, useCases)).toThrow(/projectImages\["bad name!"\]/);
    const good = parseConfig({ useCases: { 'build.image-change': { options: { projectImages: { 'payments-service-build': '111122223333.dkr.ecr.eu-west-1.amazonaws.com/b:1' } } } } });
    expect(buildImageSettings(good).projectImages).toEqual({ 'payments-service-build': '111122223333.dkr.ecr.eu-west-1.amazonaws.com/b:1' });
  });
});

describe('projectOfSandbox', () => {
  it('reads the project from a sandbox id or ARN', () => {
    expect(projectOfSandbox('payments-service-build:6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b')).toBe('payments-service-build');
    expect(projectOfSandbox('arn:aws:codebuild:eu-west-1:111122223333:sandbox/payments-service-build:6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b')).toBe('payments-service-build');
    expect(projectOfSandbox('not-a-sandbox')).toBeUndefined();
    expect(projectOfSandbox(undefined)).toBeUndefined();
  });
});

describe('commandEvidence', () => {
  it('masks tokens and bounds the text, keeping length and a fingerprint of the whole', () => {
    const token = 'ghp_Z3xQ9mB7vL2kR8tY4wN6pC1sD5fH0jA3eG7u';
    const command = `curl -H "Authorization: token ${token}" https://example.invalid/x.sh | sh; ${'y'.repeat(5000)}`;
    const evidence = commandEvidence(command);
    expect(JSON.stringify(evidence)).not.toContain(token);
    expect(String(evidence?.['text']).length).toBeLessThanOrEqual(MAX_COMMAND_CHARS + 1);
    expect(evidence).toMatchObject({ length: command.length, truncated: true });
    expect(evidence?.['sha256']).toMatch(/^[0-9a-f]{16}$/);
  });

  it('says so when CloudTrail hid the command', () => {
    expect(commandEvidence('HIDDEN_DUE_TO_SECURITY_REASONS')).toMatchObject({ hidden: true });
    expect(commandEvidence(undefined)).toBeUndefined();
  });
});
