/**
 * A benign month of a ~30-person organisation's build platform (account 111122223333, eu-west-1),
 * for measuring noise: nothing in it is an attack, so every medium-or-higher alert after the
 * learning period is a false one, except the documented first sighting of a new colleague.
 *
 * What happens: 24 developers, 4 platform leads and 2 release managers; 12 build projects, each with
 * its own CodeBuild service role, built by the pipeline several times a weekday (StartBuild, the
 * native state changes, a CodeArtifact token and package reads, publishes, KMS Sign for the signing
 * projects); developers installing packages; weekly CloudFormation deploys that bump build images
 * (and create a new project with a new build role mid-month); the signing alias re-pointed to the
 * next listed key (a planned rotation); automatic rotation of the data key; two signing
 * certificates imported, then renewed by re-import (one by automation, one by a person); two new
 * developers joining, one after the learning period; known developers reaching a repository of the
 * domain for the first time. Not covered: CodeCommit pushes and SBOMs.
 *
 * Deterministic: one seeded PRNG, no clock. The shapes follow EVENTS.md and the labelled cases.
 */
import type { JsonMap } from './generate-history.js';
import type { GeneratedDay } from './generate-history.js';

export interface OrganisationMonthOptions {
  readonly startDate: string;
  readonly days: number;
  readonly seed: number;
  /** Builds per project per weekday (default 4). */
  readonly buildsPerWeekday?: number;
  /** Package reads per build (default 6-10) and per developer's day (default 2-5): fewer for a quick test. */
  readonly readsPerBuild?: number;
  readonly readsPerDeveloperDay?: number;
}

export interface OrganisationMonth {
  readonly config: JsonMap;
  readonly days: GeneratedDay[];
  /** The documented, expected alerts: a new colleague's first day on the artifact domain after learning. */
  readonly expectedFirstSightings: readonly string[];
  /** Each project as BatchGetProjects would answer at the end of the month (recorded look-ups). */
  readonly projectsAtEnd: readonly JsonMap[];
}

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const DOMAIN = 'acme';
const RELEASES = 'internal-releases';
const NPM = 'npm-store';
const SIGNING_ALIAS = 'alias/release-signing';
const SIGNING_KEYS = ['7f3c1a52-9d4e-4b1a-8c39-2f6b0e4d9a11', 'c41e9b07-2d6a-4f3e-8b15-9a0d7e6c5b42'] as const;
const DATA_KEY = '0b7e2c94-61d3-4a8f-9e57-3c2d1b0a9f86';
const CERTIFICATES = {
  release: `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/2b5c7d1e-8f3a-4c6b-9d0e-1f2a3b4c5d6e`,
  mobile: `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/5d1e7a3c-2b9f-4e60-8c4d-7f3a9b2e1c05`,
} as const;
const SSO_DEVELOPER = 'AWSReservedSSO_Developer_0a1b2c3d4e5f6a7b';
const NAT_IP = '52.48.211.37';
const CLI_CODEBUILD = 'aws-cli/2.17.20 Python/3.11.9 Linux/5.10.226-214.880.amzn2.x86_64 exe/x86_64.amzn.2 exec-env/CODEBUILD prompt/off';
const CLI_MAC = 'aws-cli/2.17.37 Python/3.11.9 Darwin/23.6.0 exe/arm64 prompt/off';
const NPM_AGENT = 'npm/10.8.2 node/v20.17.0 linux x64 workspaces/false ci/custom';
const NPM_PACKAGES = ['react', 'lodash', 'express', 'typescript', 'zod', 'vitest', 'aws-cdk-lib', 'axios', 'date-fns', 'pino', 'fastify', 'esbuild'];
const FIRST_NAMES = ['ana', 'bruno', 'carla', 'diogo', 'eva', 'filipe', 'gina', 'hugo', 'ines', 'joao', 'kara', 'luis', 'marta', 'nuno', 'olga', 'pedro', 'quinn', 'rita', 'sara', 'tiago', 'ursula', 'vasco', 'wen', 'xavier'];

/** The projects: name, whether it signs its output, whether it publishes to internal-releases. */
const PROJECTS = [
  'payments-service', 'web-frontend', 'mobile-app', 'search-api', 'billing-worker', 'notifications',
  'identity-service', 'reporting', 'infra-tools', 'data-pipeline', 'docs-site', 'shared-libs',
].map((name, index) => ({ name: `${name}-build`, signs: index % 4 === 0, publishes: index % 3 === 0 }));
const NEW_PROJECT = { name: 'search-indexer-build', signs: false, publishes: true };

type Rng = () => number;
function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Identity {
  readonly json: JsonMap;
  readonly ip: string;
  readonly agent: string;
}

class Month {
  private readonly records: JsonMap[][] = [];
  private readonly native: JsonMap[][] = [];
  readonly images = new Map<string, string>();

  constructor(
    private readonly rng: Rng,
    readonly start: number,
    days: number,
  ) {
    for (let d = 0; d < days; d += 1) {
      this.records.push([]);
      this.native.push([]);
    }
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rng() * items.length)] as T;
  }

  /** Up to half an hour, so things do not happen on the minute. */
  jitter(): number {
    return this.rng() * 30;
  }

  chance(p: number): boolean {
    return this.rng() < p;
  }

  uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.rng() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  time(day: number, minutes: number): string {
    return new Date(this.start + day * 86_400_000 + Math.round(minutes * 60_000)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private dayOf(time: string): number {
    return Math.floor((Date.parse(time) - this.start) / 86_400_000);
  }

  cloudTrail(time: string, who: Identity, source: string, name: string, request: JsonMap | null, response: JsonMap | null, extra: JsonMap = {}): void {
    this.records[this.dayOf(time)]?.push({
      eventVersion: '1.10',
      userIdentity: who.json,
      eventTime: time,
      eventSource: `${source}.amazonaws.com`,
      eventName: name,
      awsRegion: REGION,
      sourceIPAddress: who.ip,
      userAgent: who.agent,
      requestParameters: request,
      responseElements: response,
      requestID: this.uuid(),
      eventID: this.uuid(),
      readOnly: ['ReadFromRepository', 'GetPackageVersionAsset', 'Sign'].includes(name),
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: ACCOUNT,
      eventCategory: 'Management',
      ...extra,
    });
  }

  nativeEvent(time: string, source: string, detailType: string, resources: string[], detail: JsonMap): void {
    this.native[this.dayOf(time)]?.push({ version: '0', id: this.uuid(), 'detail-type': detailType, source, account: ACCOUNT, time, region: REGION, resources, detail });
  }

  output(): GeneratedDay[] {
    return this.records.map((records, day) => ({
      date: new Date(this.start + day * 86_400_000).toISOString().slice(0, 10),
      cloudTrail: { Records: [...records].sort((a, b) => String(a['eventTime']).localeCompare(String(b['eventTime']))) },
      eventBridge: [...(this.native[day] ?? [])].sort((a, b) => String(a['time']).localeCompare(String(b['time']))),
    }));
  }
}

function assumedRole(role: string, session: string, roleId: string, extra: { mfa?: boolean; invokedBy?: string; path?: string } = {}): JsonMap {
  return {
    type: 'AssumedRole',
    principalId: `${roleId}:${session}`,
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`,
    accountId: ACCOUNT,
    accessKeyId: `ASIA${roleId.slice(4, 20).padEnd(16, 'X')}`,
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: roleId, arn: `arn:aws:iam::${ACCOUNT}:role/${extra.path ?? ''}${role}`, accountId: ACCOUNT, userName: role },
      attributes: { creationDate: '2026-10-01T07:00:00Z', mfaAuthenticated: extra.mfa ? 'true' : 'false' },
    },
    ...(extra.invokedBy ? { invokedBy: extra.invokedBy } : {}),
  };
}

const roleIdOf = (name: string): string => `AROA${Buffer.from(name).toString('hex').toUpperCase().slice(0, 17)}`;

function person(role: 'developer' | 'platform-lead' | 'release-manager', name: string): Identity {
  const session = `${name}@acme.example`;
  const json =
    role === 'developer'
      ? assumedRole(SSO_DEVELOPER, session, roleIdOf(SSO_DEVELOPER), { path: `aws-reserved/sso.amazonaws.com/${REGION}/` })
      : assumedRole(role, session, roleIdOf(role), { mfa: true });
  return { json, ip: `198.51.100.${10 + (name.length * 7) % 200}`, agent: role === 'developer' ? NPM_AGENT : CLI_MAC };
}

function buildRole(project: string, buildUuid: string): Identity {
  const role = `${project.replace(/-build$/, '')}-codebuild-service-role`;
  return { json: assumedRole(role, `AWSCodeBuild-${buildUuid}`, roleIdOf(role)), ip: NAT_IP, agent: CLI_CODEBUILD };
}

const PIPELINE: Identity = { json: assumedRole('release-orchestrator-role', 'codepipeline-5e0b2a44c9f1d3a7', roleIdOf('release-orchestrator-role'), { invokedBy: 'codepipeline.amazonaws.com' }), ip: 'codepipeline.amazonaws.com', agent: 'codepipeline.amazonaws.com' };
const CLOUDFORMATION: Identity = { json: assumedRole('cfn-exec-role', 'AWSCloudFormation', roleIdOf('cfn-exec-role'), { invokedBy: 'cloudformation.amazonaws.com' }), ip: 'cloudformation.amazonaws.com', agent: 'cloudformation.amazonaws.com' };
const CERT_RENEWAL: Identity = { json: assumedRole('certificate-renewal-role', 'renew-certificates', roleIdOf('certificate-renewal-role')), ip: NAT_IP, agent: CLI_CODEBUILD };

function projectState(name: string, image: string): JsonMap {
  return {
    name,
    arn: `arn:aws:codebuild:${REGION}:${ACCOUNT}:project/${name}`,
    source: { type: 'CODECOMMIT', location: `https://git-codecommit.${REGION}.amazonaws.com/v1/repos/${name.replace(/-build$/, '')}`, buildspec: 'buildspec.yml', gitCloneDepth: 1, insecureSsl: false },
    artifacts: { type: 'S3', location: 'acme-artifacts', name: `${name}.zip`, packaging: 'ZIP' },
    environment: { type: 'LINUX_CONTAINER', image, computeType: 'BUILD_GENERAL1_MEDIUM', privilegedMode: false, imagePullCredentialsType: 'CODEBUILD', environmentVariables: [{ name: 'NODE_ENV', value: 'production', type: 'PLAINTEXT' }] },
    serviceRole: `arn:aws:iam::${ACCOUNT}:role/${name.replace(/-build$/, '')}-codebuild-service-role`,
    timeoutInMinutes: 30,
    logsConfig: { cloudWatchLogs: { status: 'ENABLED' } },
  };
}

function build(month: Month, project: { name: string; signs: boolean; publishes: boolean }, day: number, minute: number, signingKey: string, readsPerBuild: number | undefined): void {
  const buildUuid = month.uuid();
  const image = month.images.get(project.name) ?? 'aws/codebuild/standard:6.0';
  const buildArn = `arn:aws:codebuild:${REGION}:${ACCOUNT}:build/${project.name}:${buildUuid}`;
  const start = month.time(day, minute);
  const sourceVersion = Array.from({ length: 40 }, () => month.pick('0123456789abcdef'.split(''))).join('');
  month.cloudTrail(start, PIPELINE, 'codebuild', 'StartBuild', { projectName: project.name, sourceVersion }, {
    build: { id: `${project.name}:${buildUuid}`, arn: buildArn, projectName: project.name, sourceVersion, buildStatus: 'IN_PROGRESS', currentPhase: 'QUEUED', environment: { type: 'LINUX_CONTAINER', image, computeType: 'BUILD_GENERAL1_MEDIUM', privilegedMode: false, imagePullCredentialsType: 'CODEBUILD', environmentVariables: [{ name: 'NODE_ENV', value: 'production', type: 'PLAINTEXT' }] } },
  });
  const info = (complete: boolean): JsonMap => ({
    'build-complete': complete,
    initiator: 'codepipeline/release',
    'source-version': sourceVersion,
    source: { type: 'CODECOMMIT', location: `https://git-codecommit.${REGION}.amazonaws.com/v1/repos/${project.name.replace(/-build$/, '')}`, buildspec: 'buildspec.yml', 'git-clone-depth': 1, 'insecure-ssl': false },
    environment: { image, 'privileged-mode': false, 'image-pull-credentials-type': 'CODEBUILD', 'compute-type': 'BUILD_GENERAL1_MEDIUM', type: 'LINUX_CONTAINER', 'environment-variables': [{ name: 'NODE_ENV', type: 'PLAINTEXT', value: 'production' }] },
    'timeout-in-minutes': 30,
  });
  month.nativeEvent(month.time(day, minute + 0.5), 'aws.codebuild', 'CodeBuild Build State Change', [buildArn], { 'build-status': 'IN_PROGRESS', 'project-name': project.name, 'build-id': buildArn, 'additional-information': info(false) });
  const worker = buildRole(project.name, buildUuid);
  month.cloudTrail(month.time(day, minute + 1), worker, 'codeartifact', 'GetAuthorizationToken', { domain: DOMAIN, domainOwner: ACCOUNT, durationSeconds: 900 }, { sessionToken: 'HIDDEN_DUE_TO_SECURITY_REASONS' });
  const reads = readsPerBuild ?? 6 + (month.chance(0.5) ? 4 : 0);
  for (let r = 0; r < reads; r += 1) {
    const pkg = month.pick(NPM_PACKAGES);
    month.cloudTrail(month.time(day, minute + 1.2 + r * 0.05), { ...worker, agent: NPM_AGENT }, 'codeartifact', 'ReadFromRepository', { domainName: DOMAIN, domainOwner: ACCOUNT, repositoryName: NPM, packageName: pkg, packageFormat: 'npm', packageVersion: '1.0.0' }, null, { additionalEventData: { httpMethod: 'GET', requestUri: `/npm/${pkg}/-/${pkg}-1.0.0.tgz` } });
  }
  if (project.signs) {
    month.cloudTrail(month.time(day, minute + 4), worker, 'kms', 'Sign', { keyId: SIGNING_ALIAS, messageType: 'DIGEST', signingAlgorithm: 'RSASSA_PSS_SHA_256' }, null, { resources: [{ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${signingKey}` }] });
  }
  if (project.publishes) {
    const version = `1.${day}.${Math.floor(minute)}`;
    const sha = Array.from({ length: 64 }, () => month.pick('0123456789abcdef'.split(''))).join('');
    month.cloudTrail(month.time(day, minute + 4.5), worker, 'codeartifact', 'PublishPackageVersion', { domain: DOMAIN, domainOwner: ACCOUNT, repository: RELEASES, format: 'generic', namespace: 'acme', package: project.name.replace(/-build$/, ''), packageVersion: version, assetName: `${project.name}.zip`, assetSHA256: sha, unfinished: false }, { format: 'generic', namespace: 'acme', package: project.name.replace(/-build$/, ''), version, status: 'Published', asset: { name: `${project.name}.zip`, size: 2_000_000, hashes: { 'SHA-256': sha } } });
  }
  month.nativeEvent(month.time(day, minute + 5), 'aws.codebuild', 'CodeBuild Build State Change', [buildArn], { 'build-status': 'SUCCEEDED', 'project-name': project.name, 'build-id': buildArn, 'additional-information': info(true) });
}

function developerDay(month: Month, who: Identity, day: number, minute: number, alsoReleases: boolean, readsPerDay: number | undefined): void {
  month.cloudTrail(month.time(day, minute), { ...who, agent: `${CLI_MAC} command/codeartifact.login` }, 'codeartifact', 'GetAuthorizationToken', { domain: DOMAIN, domainOwner: ACCOUNT, durationSeconds: 43200 }, { sessionToken: 'HIDDEN_DUE_TO_SECURITY_REASONS' });
  const reads = readsPerDay ?? 2 + (month.chance(0.5) ? 3 : 0);
  for (let r = 0; r < reads; r += 1) {
    const pkg = month.pick(NPM_PACKAGES);
    month.cloudTrail(month.time(day, minute + 0.5 + r * 0.1), who, 'codeartifact', 'ReadFromRepository', { domainName: DOMAIN, domainOwner: ACCOUNT, repositoryName: NPM, packageName: pkg, packageFormat: 'npm', packageVersion: '1.0.0' }, null, { additionalEventData: { httpMethod: 'GET', requestUri: `/npm/${pkg}/-/${pkg}-1.0.0.tgz` } });
  }
  if (alsoReleases) {
    month.cloudTrail(month.time(day, minute + 2), { ...who, agent: `${CLI_MAC} command/codeartifact.get-package-version-asset` }, 'codeartifact', 'GetPackageVersionAsset', { domain: DOMAIN, domainOwner: ACCOUNT, repository: RELEASES, format: 'generic', namespace: 'acme', package: 'payments-service', packageVersion: '1.0.0', asset: 'payments-service-build.zip' }, null);
  }
}

function importCertificate(month: Month, who: Identity, time: string, arn: string, pem: string, reimport: boolean): void {
  month.cloudTrail(time, who, 'acm', 'ImportCertificate', { ...(reimport ? { certificateArn: arn } : {}), certificate: pem, privateKey: 'HIDDEN_DUE_TO_SECURITY_REASONS' }, { certificateArn: arn });
}

/** The certificates the renewals import: PEMs of the release and mobile signing certificates, before and after renewal. */
export interface MonthCertificates {
  readonly releaseSigning2026: string;
  readonly releaseSigningRenewal: string;
  readonly mobileSigning2026: string;
  readonly mobileSigningRenewal: string;
}

export function generateOrganisationMonth(options: OrganisationMonthOptions, certificates: MonthCertificates): OrganisationMonth {
  const start = Date.parse(`${options.startDate}T00:00:00Z`);
  if (Number.isNaN(start)) throw new Error(`startDate must be YYYY-MM-DD, got ${JSON.stringify(options.startDate)}`);
  const month = new Month(mulberry32(options.seed), start, options.days);
  const perWeekday = options.buildsPerWeekday ?? 4;
  const developers = FIRST_NAMES.map((name) => person('developer', name));
  const leads = ['rui.costa', 'mei.tan', 'olu.adeyemi', 'klara.nowak'].map((name) => person('platform-lead', name));
  const releaseManagers = ['sofia.reis', 'tomas.vidal'].map((name) => person('release-manager', name));
  const joiners = [
    { who: person('developer', 'yara'), from: Math.min(8, options.days - 1) },
    { who: person('developer', 'zeca'), from: Math.min(19, options.days - 1) },
  ];
  const projects = [...PROJECTS];
  const rotationDay = Math.min(15, options.days - 1);
  const bumps = new Map<number, string[]>([
    [3, PROJECTS.slice(0, 3).map((p) => p.name)],
    [10, PROJECTS.slice(3, 6).map((p) => p.name)],
    [17, PROJECTS.slice(6, 9).map((p) => p.name)],
    [24, PROJECTS.slice(9, 12).map((p) => p.name)],
  ]);
  // Developers who start using internal-releases only after the learning period (defect: per-repository floods).
  const lateReleaseReaders = new Set(developers.slice(0, 8));

  for (let day = 0; day < options.days; day += 1) {
    const weekday = new Date(start + day * 86_400_000).getUTCDay() % 6 !== 0;
    // CloudFormation deploys: image bumps (recorded by project-drift), a new project with its own build role.
    for (const name of bumps.get(day) ?? []) {
      month.images.set(name, 'aws/codebuild/standard:7.0');
      const state = projectState(name, 'aws/codebuild/standard:7.0');
      month.cloudTrail(month.time(day, 9 * 60 + 5), CLOUDFORMATION, 'codebuild', 'UpdateProject', { name, environment: state['environment'] ?? null }, { project: state });
    }
    if (day === 16) {
      month.images.set(NEW_PROJECT.name, 'aws/codebuild/standard:7.0');
      month.cloudTrail(month.time(day, 9 * 60 + 10), CLOUDFORMATION, 'codebuild', 'CreateProject', projectState(NEW_PROJECT.name, 'aws/codebuild/standard:7.0'), { project: projectState(NEW_PROJECT.name, 'aws/codebuild/standard:7.0') });
      projects.push(NEW_PROJECT);
    }
    // Signing material: certificates imported early, the alias moved to the next listed key, renewals.
    if (day === 1) {
      importCertificate(month, releaseManagers[0] as Identity, month.time(day, 10 * 60), CERTIFICATES.release, certificates.releaseSigning2026, false);
      importCertificate(month, releaseManagers[1] as Identity, month.time(day, 10 * 60 + 30), CERTIFICATES.mobile, certificates.mobileSigning2026, false);
    }
    if (day === rotationDay) {
      month.cloudTrail(month.time(day, 11 * 60), releaseManagers[0] as Identity, 'kms', 'UpdateAlias', { aliasName: SIGNING_ALIAS, targetKeyId: SIGNING_KEYS[1] }, { keyId: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${SIGNING_KEYS[1]}` }, {
        resources: [
          { accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${REGION}:${ACCOUNT}:${SIGNING_ALIAS}` },
          { accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${SIGNING_KEYS[0]}` },
        ],
      });
    }
    if (day === 20) importCertificate(month, CERT_RENEWAL, month.time(day, 3 * 60), CERTIFICATES.mobile, certificates.mobileSigningRenewal, true);
    if (day === 23) importCertificate(month, releaseManagers[1] as Identity, month.time(day, 14 * 60), CERTIFICATES.release, certificates.releaseSigningRenewal, true);
    if (day % 7 === 6) {
      month.nativeEvent(month.time(day, 2 * 60), 'aws.kms', 'KMS CMK Rotation', [`arn:aws:kms:${REGION}:${ACCOUNT}:key/${DATA_KEY}`], { 'key-id': DATA_KEY, 'key-origin': 'AWS_KMS', 'rotation-type': 'AUTOMATIC' });
    }
    // Builds: several per weekday, a nightly one at weekends.
    const signingKey = day >= rotationDay ? SIGNING_KEYS[1] : SIGNING_KEYS[0];
    for (const project of projects) {
      const count = weekday ? perWeekday : 1;
      for (let b = 0; b < count; b += 1) build(month, project, day, (weekday ? 8 * 60 : 2 * 60) + b * (9 * 60 / count) + month.jitter(), signingKey, options.readsPerBuild);
    }
    // People: developers install packages on weekdays; leads and release managers now and then.
    if (!weekday) continue;
    // Everyone already on the platform works on the first day, so the baseline knows the whole staff.
    const active = (p: number): boolean => day === 0 || month.chance(p);
    for (const dev of developers) {
      if (active(0.45)) developerDay(month, dev, day, 9 * 60 + month.jitter() * 8, lateReleaseReaders.has(dev) ? day >= 16 && month.chance(0.5) : month.chance(0.2), options.readsPerDeveloperDay);
    }
    for (const joiner of joiners) if (day >= joiner.from) developerDay(month, joiner.who, day, 10 * 60 + month.jitter(), false, options.readsPerDeveloperDay);
    for (const lead of [...leads, ...releaseManagers]) if (active(0.25)) developerDay(month, lead, day, 13 * 60 + month.jitter() * 4, month.chance(0.5), options.readsPerDeveloperDay);
  }

  const config: JsonMap = {
    pipeline: {
      buildProjects: [...PROJECTS, NEW_PROJECT].map((p) => ({ name: p.name })),
      signing: {
        kmsKeys: [...SIGNING_KEYS.map((id) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`), SIGNING_ALIAS],
        certificates: [CERTIFICATES.release, CERTIFICATES.mobile],
      },
      artifacts: [{ domain: DOMAIN, repository: RELEASES }],
    },
    automationPrincipals: [
      `arn:aws:iam::${ACCOUNT}:role/*-codebuild-service-role`,
      `arn:aws:iam::${ACCOUNT}:role/release-orchestrator-role`,
      `arn:aws:iam::${ACCOUNT}:role/certificate-renewal-role`,
    ],
  };
  const lateJoiners = joiners.filter((j) => j.from >= 14).map((j) => String(j.who.json['arn']));
  const projectsAtEnd = projects.map((p) => projectState(p.name, month.images.get(p.name) ?? 'aws/codebuild/standard:6.0'));
  return { config, days: month.output(), expectedFirstSightings: lateJoiners, projectsAtEnd };
}
