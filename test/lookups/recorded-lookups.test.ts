import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecordedLookups } from '../../lambdas/lookups/recorded-lookups.js';
import type { Lookups, PackageVersionRef } from '../../lambdas/lookups/lookups.js';

let dir: string;
let lookups: Lookups;

async function put(path: string, content: string | Uint8Array): Promise<void> {
  const file = join(dir, path);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
}

const assetsPath = 'codeartifact/ListPackageVersionAssets/acme/releases/npm';

const listing = {
  format: 'npm',
  package: 'left-pad',
  version: '1.3.0',
  versionRevision: 'rev1',
  assets: [{ name: 'package.tgz', size: 1234, hashes: { MD5: 'm', 'SHA-1': 's1', 'SHA-256': 'abc', 'SHA-512': 's5' } }],
};

const ref = (over: Partial<PackageVersionRef> = {}): PackageVersionRef => ({
  domain: 'acme',
  repository: 'releases',
  format: 'npm',
  package: 'left-pad',
  version: '1.3.0',
  ...over,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'buildwatch-recorded-'));
  lookups = createRecordedLookups(dir);
  await put('s3/sboms/builds/42/sbom.json', '{"bomFormat":"CycloneDX"}');
  await put('s3/sboms/dir-only/child', 'x');
  await put(`${assetsPath}/_/left-pad/1.3.0.json`, JSON.stringify(listing));
  await put(
    `${assetsPath}/myscope/widget/2.0.0.json`,
    JSON.stringify({ ...listing, namespace: 'myscope', package: 'widget', version: '2.0.0', extra: true }),
  );
  await put(`${assetsPath}/_/broken/1.0.0.json`, '{"assets": [');
  await put(`${assetsPath}/_/wrong-shape/1.0.0.json`, JSON.stringify({ assets: [{ size: 1 }] }));
  await put(
    'codebuild/BatchGetProjects/app-build.json',
    JSON.stringify({
      projects: [{ name: 'app-build', arn: 'arn:aws:codebuild:eu-west-1:111122223333:project/app-build', serviceRole: 'r' }],
      projectsNotFound: [],
    }),
  );
  await put('codebuild/BatchGetProjects/bare.json', JSON.stringify({ name: 'bare', serviceRole: 'role-b' }));
  await put('codebuild/BatchGetProjects/gone.json', JSON.stringify({ projects: [], projectsNotFound: ['gone'] }));
  await put('codebuild/BatchGetProjects/other.json', JSON.stringify({ projects: [{ name: 'not-other' }] }));
  await put('codebuild/BatchGetProjects/bad.json', JSON.stringify({ projects: 'nope' }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createRecordedLookups: s3Object', () => {
  it('returns the recorded bytes as a plain Uint8Array', async () => {
    const result = await lookups.s3Object('sboms', 'builds/42/sbom.json');
    expect(result.status).toBe('found');
    if (result.status !== 'found') return;
    expect(result.value.constructor).toBe(Uint8Array);
    expect(new TextDecoder().decode(result.value)).toBe('{"bomFormat":"CycloneDX"}');
  });

  it('is missing when no file was recorded, or only a directory exists at that key', async () => {
    expect(await lookups.s3Object('sboms', 'builds/43/sbom.json')).toEqual({ status: 'missing' });
    expect(await lookups.s3Object('other-bucket', 'x')).toEqual({ status: 'missing' });
    expect(await lookups.s3Object('sboms', 'dir-only')).toEqual({ status: 'missing' });
    // A path component that is a file, not a directory.
    expect(await lookups.s3Object('sboms', 'builds/42/sbom.json/more')).toEqual({ status: 'missing' });
  });

  it.each([
    ['..', 'x'],
    ['sboms', '../../etc/passwd'],
    ['sboms', 'a/../../b'],
    ['sboms', '/etc/passwd'],
    ['/etc', 'passwd'],
    ['a/b', 'c'],
    ['sboms', 'a\\..\\b'],
    ['sboms', 'a//b'],
    ['sboms', ''],
  ])('refuses bucket %j key %j as unavailable', async (bucket, key) => {
    const result = await lookups.s3Object(bucket, key);
    expect(result.status).toBe('unavailable');
  });

  it('is unavailable (not missing) when the recorded directory does not exist', async () => {
    const result = await createRecordedLookups(join(dir, 'no-such-dir')).s3Object('sboms', 'x');
    expect(result).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('does not exist') });
  });
});

describe('createRecordedLookups: packageVersionAssets', () => {
  it('reads the `_` namespace directory for a null, empty or absent namespace', async () => {
    for (const namespace of [undefined, null, '']) {
      const result = await lookups.packageVersionAssets(ref({ namespace }));
      expect(result).toEqual({ status: 'found', value: listing });
    }
  });

  it('reads a named namespace and keeps the API hash keys', async () => {
    const result = await lookups.packageVersionAssets(ref({ namespace: 'myscope', package: 'widget', version: '2.0.0' }));
    expect(result.status).toBe('found');
    if (result.status !== 'found') return;
    expect(result.value.namespace).toBe('myscope');
    expect(result.value.assets[0]?.hashes['SHA-256']).toBe('abc');
  });

  it('is missing when no file was recorded', async () => {
    expect(await lookups.packageVersionAssets(ref({ version: '9.9.9' }))).toEqual({ status: 'missing' });
  });

  it('is unavailable, naming the file, for invalid JSON or a wrong shape', async () => {
    for (const pkg of ['broken', 'wrong-shape']) {
      const result = await lookups.packageVersionAssets(ref({ package: pkg, version: '1.0.0' }));
      expect(result).toMatchObject({
        status: 'unavailable',
        reason: expect.stringContaining(join(dir, assetsPath, '_', pkg, '1.0.0.json')),
      });
    }
  });

  it('refuses traversal in any path part', async () => {
    for (const over of [{ domain: '..' }, { namespace: '../..' }, { package: 'a/b' }, { version: '../../x' }]) {
      expect((await lookups.packageVersionAssets(ref(over))).status).toBe('unavailable');
    }
  });
});

describe('createRecordedLookups: codeBuildProject', () => {
  it('finds the project in a BatchGetProjects response, by name or by ARN', async () => {
    const byName = await lookups.codeBuildProject('app-build');
    expect(byName).toMatchObject({ status: 'found', value: { name: 'app-build', serviceRole: 'r' } });
    const byArn = await lookups.codeBuildProject('arn:aws:codebuild:eu-west-1:111122223333:project/app-build');
    expect(byArn).toEqual(byName);
  });

  it('accepts a file holding just the project object', async () => {
    expect(await lookups.codeBuildProject('bare')).toEqual({
      status: 'found',
      value: { name: 'bare', serviceRole: 'role-b' },
    });
  });

  it('is missing when the file is absent, lists it as not found, or holds another project', async () => {
    for (const name of ['nope', 'gone', 'other']) {
      expect(await lookups.codeBuildProject(name)).toEqual({ status: 'missing' });
    }
  });

  it('is unavailable for a malformed file or a traversing name', async () => {
    expect(await lookups.codeBuildProject('bad')).toMatchObject({
      status: 'unavailable',
      reason: expect.stringContaining('bad.json'),
    });
    expect((await lookups.codeBuildProject('../../s3/sboms/x')).status).toBe('unavailable');
    expect((await lookups.codeBuildProject('..')).status).toBe('unavailable');
  });
});

describe('createRecordedLookups: trails (DescribeTrails)', () => {
  it('reads the describe-trails output; a missing file is missing, a wrong shape unavailable', async () => {
    const own = await mkdtemp(join(tmpdir(), 'buildwatch-recorded-trails-'));
    try {
      const trails = createRecordedLookups(own);
      expect(await trails.trails?.()).toEqual({ status: 'missing' });
      await mkdir(join(own, 'cloudtrail'), { recursive: true });
      await writeFile(join(own, 'cloudtrail', 'DescribeTrails.json'), JSON.stringify({ trailList: [{ Name: 'org-audit', S3BucketName: 'acme-logs', KmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k', IsMultiRegionTrail: true }] }));
      expect(await trails.trails?.()).toEqual({ status: 'found', value: [{ name: 'org-audit', s3BucketName: 'acme-logs', kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k' }] });
      await writeFile(join(own, 'cloudtrail', 'DescribeTrails.json'), JSON.stringify({ trails: [] }));
      expect(await trails.trails?.()).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('not a DescribeTrails response') });
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
});

describe('createRecordedLookups: organizationAccounts (ListAccounts)', () => {
  it('reads the list-accounts output; no recording is unavailable (an organisation always has accounts), a wrong shape too', async () => {
    const own = await mkdtemp(join(tmpdir(), 'buildwatch-recorded-accounts-'));
    try {
      const recorded = createRecordedLookups(own);
      expect(await recorded.organizationAccounts?.()).toEqual({ status: 'unavailable', reason: 'no recorded organizations/ListAccounts.json' });
      await mkdir(join(own, 'organizations'), { recursive: true });
      await writeFile(join(own, 'organizations', 'ListAccounts.json'), JSON.stringify({ Accounts: [{ Id: '111122223333', Name: 'tooling', State: 'ACTIVE', Email: 'x@acme.example' }, { Id: '222233334444', Status: 'SUSPENDED' }] }));
      expect(await recorded.organizationAccounts?.()).toEqual({ status: 'found', value: [{ id: '111122223333', name: 'tooling', status: 'ACTIVE' }, { id: '222233334444', status: 'SUSPENDED' }] });
      await writeFile(join(own, 'organizations', 'ListAccounts.json'), JSON.stringify({ Accounts: [{ Id: 'not-an-id' }] }));
      expect(await recorded.organizationAccounts?.()).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('not a ListAccounts response') });
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
});

describe('createRecordedLookups: inAccount (organisation replays)', () => {
  it('answers from accounts/<account>/<region>/, else accounts/<account>/, else the root; the organisation\'s accounts from the root', async () => {
    const own = await mkdtemp(join(tmpdir(), 'buildwatch-recorded-places-'));
    try {
      const write = async (path: string, json: unknown) => {
        await mkdir(dirname(join(own, path)), { recursive: true });
        await writeFile(join(own, path), JSON.stringify(json));
      };
      await write('codebuild/BatchGetProjects/payments-build.json', { name: 'payments-build', description: 'root' });
      await write('accounts/111122223333/codebuild/BatchGetProjects/payments-build.json', { name: 'payments-build', description: 'tooling' });
      await write('accounts/111122223333/us-east-1/codebuild/BatchGetProjects/payments-build.json', { name: 'payments-build', description: 'tooling us-east-1' });
      await write('organizations/ListAccounts.json', { Accounts: [{ Id: '111122223333', Name: 'tooling' }] });
      const recorded = createRecordedLookups(own);
      const description = async (lookups: Lookups | undefined) => {
        const result = await lookups?.codeBuildProject('payments-build');
        return result?.status === 'found' ? result.value['description'] : result?.status;
      };
      expect(await description(recorded.inAccount?.('111122223333', 'us-east-1'))).toBe('tooling us-east-1');
      expect(await description(recorded.inAccount?.('111122223333', 'eu-west-1'))).toBe('tooling');
      expect(await description(recorded.inAccount?.('222233334444', 'eu-west-1'))).toBe('root');
      expect(await recorded.inAccount?.('111122223333', 'eu-west-1').organizationAccounts?.()).toEqual({ status: 'found', value: [{ id: '111122223333', name: 'tooling' }] });
      // A path-like account id never leaves the directory: the root answers.
      expect(await description(recorded.inAccount?.('..', 'eu-west-1'))).toBe('root');
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
});
