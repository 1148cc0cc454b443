/**
 * The dependency use cases through the real engine and DynamoDB API (dynalite): big SBOMs fit the
 * state table, and one build event asks S3 once however many use cases read its SBOM.
 */
import { describe, expect, it } from 'vitest';
import { toPipelineEvent } from '../../../lambdas/engine/pipeline-event.js';
import type { LookupResult, Lookups } from '../../../lambdas/lookups/lookups.js';
import compromisedPackage from '../../../lambdas/use-cases/dependencies/compromised-package/use-case.js';
import libraryChange from '../../../lambdas/use-cases/dependencies/library-change/use-case.js';
import sbomUseCase from '../../../lambdas/use-cases/dependencies/sbom/use-case.js';
import { useLocalDynamo } from '../../support/local-dynamo.js';

const dynamo = useLocalDynamo();
const config = { pipeline: { buildProjects: [{ name: 'web-frontend-build', sbom: ['s3://acme-artifacts/sbom/{buildUuid}.json'] }] } };

function buildEvent(uuid: string, number: number, time: string) {
  const arn = `arn:aws:codebuild:eu-west-1:111122223333:build/web-frontend-build:${uuid}`;
  return toPipelineEvent({
    version: '0',
    id: `00000000-0000-4000-8000-${String(number).padStart(12, '0')}`,
    'detail-type': 'CodeBuild Build State Change',
    source: 'aws.codebuild',
    account: '111122223333',
    time,
    region: 'eu-west-1',
    resources: [arn],
    detail: { 'build-status': 'SUCCEEDED', 'project-name': 'web-frontend-build', 'build-id': arn, 'additional-information': { 'build-number': number } },
  });
}

function cyclonedx(names: string[]): Uint8Array {
  const components = names.map((name, i) => ({ type: 'library', group: '@a-rather-long-scope-name', name, version: `${i % 9}.${i % 31}.${i % 101}`, purl: `pkg:npm/%40a-rather-long-scope-name/${name}@${i % 9}.${i % 31}.${i % 101}` }));
  return new TextEncoder().encode(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components }));
}

function lookupsFor(objects: Record<string, Uint8Array>): Lookups & { calls: number } {
  const unavailable = async (): Promise<LookupResult<never>> => ({ status: 'unavailable', reason: 'not in this test' });
  const lookups = {
    calls: 0,
    s3Object: async (_bucket: string, key: string): Promise<LookupResult<Uint8Array>> => {
      lookups.calls += 1;
      const value = objects[key];
      return value ? { status: 'found', value } : { status: 'missing' };
    },
    packageVersionAssets: unavailable,
    codeBuildProject: unavailable,
  };
  return lookups;
}

describe('dependency use cases on the engine', () => {
  it('keeps the inventory of SBOMs with thousands of packages within a DynamoDB item', async () => {
    const first = Array.from({ length: 5000 }, (_, i) => `package-number-${i}`);
    const second = [...first, ...Array.from({ length: 2000 }, (_, i) => `addition-${i}`)];
    const lookups = lookupsFor({ 'sbom/u1.json': cyclonedx(first), 'sbom/u2.json': cyclonedx(second) });
    const { engine } = await dynamo.freshEngine(config, lookups);
    expect(await engine.evaluate(libraryChange, buildEvent('u1', 1, '2026-10-05T10:00:00Z'))).toEqual([{ status: 'skipped', useCase: 'dependencies.library-change', reason: 'nothing observed' }]);
    const [outcome] = await engine.evaluate(libraryChange, buildEvent('u2', 2, '2026-10-26T10:00:00Z'));
    expect(outcome?.status).toBe("finding");
    if (outcome?.status !== 'finding') return;
    expect(outcome.finding.severity).toBe('high');
    expect(outcome.finding.summary).toContain('component count 5000 → 7000 (+40%)');
    // Beyond 3000 packages new ones are found on a hash sample (here about half of them).
    expect(outcome.finding.summary).toMatch(/\d{3,4} libraries never seen in this project: npm\/@a-rather-long-scope-name\/addition-/);
    expect(JSON.stringify(outcome.finding.evidence).length).toBeLessThan(64 * 1024);
  });

  it('survives full churn of very large SBOMs within and across forget-after periods', async () => {
    const generationOf = (prefix: string) => Array.from({ length: 8000 }, (_, i) => `${prefix}-dependency-with-a-long-name-${i}`);
    const lookups = lookupsFor({ 'sbom/w1.json': cyclonedx(generationOf('alpha')), 'sbom/w2.json': cyclonedx(generationOf('beta')), 'sbom/w3.json': cyclonedx(generationOf('gamma')) });
    const { engine } = await dynamo.freshEngine({ ...config, useCases: { 'dependencies.library-change': { learningDays: 0 } } }, lookups);
    await engine.evaluate(libraryChange, buildEvent('w1', 11, '2026-10-05T10:00:00Z'));
    const [second] = await engine.evaluate(libraryChange, buildEvent('w2', 12, '2026-10-06T10:00:00Z'));
    const [third] = await engine.evaluate(libraryChange, buildEvent('w3', 13, '2027-01-20T10:00:00Z'));
    expect([second?.status, third?.status]).toEqual(['finding', 'finding']);
  });

  it('reads one SBOM once for all the use cases a build event reaches', async () => {
    const lookups = lookupsFor({ 'sbom/u3.json': cyclonedx(['left-pad']) });
    const { engine } = await dynamo.freshEngine(config, lookups);
    const event = buildEvent('u3', 3, '2026-10-07T10:00:00Z');
    for (const useCase of [sbomUseCase, libraryChange, compromisedPackage]) await engine.evaluate(useCase, event);
    expect(lookups.calls).toBe(1);
  });
});
