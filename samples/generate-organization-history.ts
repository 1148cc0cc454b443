/**
 * A sample organisation trail: four weeks (2026-10-01 → 2026-10-28) of three accounts of organisation
 * o-a1b2c3d4e5 in two regions, with the SUNSPOT story spread across them:
 *
 *   tooling   111122223333  source and builds   (repositories payments-service in eu-west-1, infra-live in us-east-1)
 *   artifacts 444455556666  CodeArtifact domain acme, repository internal-releases (eu-west-1)
 *   security  777788889999  the release signing key (us-east-1), the central Buildwatch (eu-west-1)
 *
 * Day 22 a forgotten deploy user pushes to payments-service in tooling; day 23 a forgotten publisher
 * user of the artifacts account gets a token and publishes a payments-service version no build made;
 * day 24 someone in OrganizationAccountAccessRole of the security account lets an account outside the
 * organisation sign with the release key. Before that, a benign background in every account and
 * region (pushes, the build role's tokens and signatures, read-only noise) lets first-seen baselines
 * learn for the 14-day learning period.
 *
 * Files follow an organisation trail's layout (trail-layout.ts cites the AWS documentation):
 * `AWSLogs/<o-id>/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<account>_CloudTrail_<region>_<stamp>_<id>.json`,
 * one file per account, region and day, records in no particular order, without the gzip (readable
 * diffs). `buildwatch replay` reads it (directories in name order: an account's days, then the next
 * account's), and so does `buildwatch backfill`, which merges the accounts in time order.
 *
 * Cross-account calls (the tooling build role getting CodeArtifact tokens from the artifacts account
 * and signing with the security account's key) appear in the resource owner's files only
 * (`recipientAccountId` the owner, `userIdentity.accountId` the caller, a `sharedEventID`); a real
 * organisation trail also holds the caller's copy, with its own eventID.
 *
 * Deterministic: one seeded PRNG, no clock. Event shapes follow EVENTS.md and the labelled cases.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonMap = { [key: string]: Json };

export const ORGANIZATION_ID = 'o-a1b2c3d4e5';
export const TOOLING = '111122223333';
export const ARTIFACTS = '444455556666';
export const SECURITY = '777788889999';
/** Not in the organisation: the account the attacker lets sign. */
export const OUTSIDER = '210987654321';
export const START_DATE = '2026-10-01';
export const DAYS = 28;
const SIGNING_KEY_ID = '3e9d7a41-58c2-4f0b-a6d3-1b2c4e5f7a90';
export const SIGNING_KEY_ARN = `arn:aws:kms:us-east-1:${SECURITY}:key/${SIGNING_KEY_ID}`;
export const BUILD_ROLE = `arn:aws:iam::${TOOLING}:role/payments-codebuild-service-role`;
const NAT_IP = '52.48.211.37';
const CLI_CODEBUILD = 'aws-cli/2.17.20 Python/3.11.9 Linux/5.10.226-214.880.amzn2.x86_64 exe/x86_64.amzn.2 exec-env/CODEBUILD prompt/off';
const CLI_V1 = 'aws-cli/1.18.69 Python/3.6.9 Linux/4.15.0-1065-aws botocore/1.16.19';
const ATTACKER_IP = '192.0.2.203';

/** The story's records, by what they are (their eventIDs are in the generated files). */
export const STORY = {
  push: { account: TOOLING, region: 'eu-west-1', day: 22, principal: `arn:aws:iam::${TOOLING}:user/svc-legacy-deploy` },
  token: { account: ARTIFACTS, region: 'eu-west-1', day: 23, principal: `arn:aws:iam::${ARTIFACTS}:user/svc-legacy-publish` },
  publish: { account: ARTIFACTS, region: 'eu-west-1', day: 23, principal: `arn:aws:iam::${ARTIFACTS}:user/svc-legacy-publish`, version: '2.4.1299' },
  keyPolicy: { account: SECURITY, region: 'us-east-1', day: 24, principal: `arn:aws:sts::${SECURITY}:assumed-role/OrganizationAccountAccessRole/maint` },
} as const;

export interface OrganizationFile {
  /** Path under the sample folder. */
  readonly path: string;
  readonly account: string;
  readonly region: string;
  readonly records: JsonMap[];
}

/** mulberry32: small, seeded, good enough for sample data. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Generator {
  private readonly random: () => number;
  readonly files = new Map<string, OrganizationFile>();

  constructor(seed: number) {
    this.random = prng(seed);
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  hex(length: number): string {
    let out = '';
    while (out.length < length) out += Math.floor(this.random() * 16).toString(16);
    return out;
  }

  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[this.int(0, 3)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  alnum(length: number): string {
    const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    let out = '';
    for (let i = 0; i < length; i += 1) out += letters[this.int(0, letters.length - 1)];
    return out;
  }

  /** Adds a record to its account's file of the day (one file per account, region and day). */
  add(account: string, region: string, record: JsonMap): JsonMap {
    const time = String(record['eventTime']);
    const [date = ''] = time.split('T');
    const [yyyy, mm, dd] = date.split('-');
    const folder = `AWSLogs/${ORGANIZATION_ID}/${account}/CloudTrail/${region}/${yyyy}/${mm}/${dd}`;
    let file = [...this.files.values()].find((candidate) => candidate.path.startsWith(`${folder}/`));
    if (!file) {
      const name = `${account}_CloudTrail_${region}_${date.replace(/-/g, '')}T2355Z_${this.alnum(16)}.json`;
      file = { path: `${folder}/${name}`, account, region, records: [] };
      this.files.set(file.path, file);
    }
    file.records.push(record);
    return record;
  }

  record(options: {
    account: string;
    region: string;
    time: string;
    identity: JsonMap;
    source: string;
    name: string;
    ip: string;
    agent: string;
    request: Json;
    response?: Json;
    readOnly: boolean;
    resources?: JsonMap[];
    additional?: JsonMap;
    shared?: boolean;
    error?: { code: string; message: string };
  }): JsonMap {
    const record: JsonMap = {
      eventVersion: '1.11',
      userIdentity: options.identity,
      eventTime: options.time,
      eventSource: options.source,
      eventName: options.name,
      awsRegion: options.region,
      sourceIPAddress: options.ip,
      userAgent: options.agent,
      ...(options.error ? { errorCode: options.error.code, errorMessage: options.error.message } : {}),
      requestParameters: options.request,
      responseElements: options.response ?? null,
      ...(options.additional ? { additionalEventData: options.additional } : {}),
      requestID: this.uuid(),
      eventID: this.uuid(),
      readOnly: options.readOnly,
      ...(options.resources ? { resources: options.resources } : {}),
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: options.account,
      ...(options.shared ? { sharedEventID: this.uuid() } : {}),
      eventCategory: 'Management',
      tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `${options.source.split('.')[0]}.${options.region}.amazonaws.com` },
    };
    return this.add(options.account, options.region, record);
  }
}

const iamUser = (account: string, name: string, accessKeyId = ''): JsonMap => ({
  type: 'IAMUser',
  principalId: `AIDA${account.slice(0, 4)}${name.replace(/[^a-z]/g, '').toUpperCase().slice(0, 12)}`,
  arn: `arn:aws:iam::${account}:user/${name}`,
  accountId: account,
  ...(accessKeyId ? { accessKeyId } : { accessKeyId: '' }),
  userName: name,
});

function assumedRole(account: string, role: string, session: string, roleId: string, created: string, mfa: boolean): JsonMap {
  return {
    type: 'AssumedRole',
    principalId: `${roleId}:${session}`,
    arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
    accountId: account,
    accessKeyId: `ASIA${roleId.slice(4, 20)}`,
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: roleId, arn: `arn:aws:iam::${account}:role/${role}`, accountId: account, userName: role },
      attributes: { creationDate: created, mfaAuthenticated: mfa ? 'true' : 'false' },
    },
  };
}

const pad = (n: number): string => String(n).padStart(2, '0');
const dateOf = (day: number): string => {
  const d = new Date(`${START_DATE}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + day - 1);
  return d.toISOString().slice(0, 10);
};
const timeOf = (day: number, hour: number, minute: number, second = 0): string => `${dateOf(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}Z`;
const isWeekday = (day: number): boolean => {
  const weekday = new Date(`${dateOf(day)}T00:00:00Z`).getUTCDay();
  return weekday >= 1 && weekday <= 5;
};

/** A push: the read-only negotiation record, then the write record with the references (EVENTS.md 2). */
function push(g: Generator, options: { account: string; region: string; time: string; identity: JsonMap; ip: string; agent: string; repository: string; repositoryId: string; protocol: 'HTTP' | 'SSH' }): void {
  const common = {
    account: options.account,
    region: options.region,
    identity: options.identity,
    source: 'codecommit.amazonaws.com',
    name: 'GitPush',
    ip: options.ip,
    agent: options.agent,
    resources: [{ ARN: `arn:aws:codecommit:${options.region}:${options.account}:${options.repository}`, accountId: options.account, type: 'AWS::CodeCommit::Repository' }],
  };
  const additional = (dataTransferred: boolean): JsonMap => ({
    protocol: options.protocol,
    capabilities: ['report-status', 'side-band-64k'],
    dataTransferred,
    repositoryName: options.repository,
    repositoryId: options.repositoryId,
    shallow: false,
  });
  const before = new Date(Date.parse(options.time) - 2000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  g.record({ ...common, time: before, request: null, readOnly: true, additional: additional(false) });
  g.record({ ...common, time: options.time, request: { references: [{ commit: g.hex(40), ref: 'refs/heads/main' }] }, readOnly: false, additional: additional(true) });
}

function authorizationToken(g: Generator, options: { time: string; identity: JsonMap; ip: string; agent: string; shared: boolean }): JsonMap {
  return g.record({
    account: ARTIFACTS,
    region: 'eu-west-1',
    time: options.time,
    identity: options.identity,
    source: 'codeartifact.amazonaws.com',
    name: 'GetAuthorizationToken',
    ip: options.ip,
    agent: options.agent,
    request: { domainName: 'acme', domainOwner: ARTIFACTS, durationSeconds: 900 },
    response: { sessionToken: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
    readOnly: false,
    shared: options.shared,
  });
}

const buildSession = (g: Generator, day: number, hour: number): JsonMap =>
  assumedRole(TOOLING, 'payments-codebuild-service-role', `AWSCodeBuild-${g.uuid()}`, 'AROA3RIXI6RYK5M5UUXZO', timeOf(day, hour, 0), false);

function background(g: Generator, day: number): void {
  const alice = iamUser(TOOLING, 'alice.moreau');
  const bogdan = iamUser(TOOLING, 'bogdan.ionescu');
  if (isWeekday(day)) {
    // Tooling, eu-west-1: two developers push to payments-service.
    for (let i = 0; i < g.int(1, 3); i += 1) {
      push(g, { account: TOOLING, region: 'eu-west-1', time: timeOf(day, 9 + i * 2, g.int(0, 59), g.int(0, 59)), identity: alice, ip: '203.0.113.24', agent: 'git/2.45.2', repository: 'payments-service', repositoryId: '8c3b0f5e-1d2a-4b6c-9e7f-0a1b2c3d4e5f', protocol: 'HTTP' });
    }
    for (let i = 0; i < g.int(1, 2); i += 1) {
      push(g, { account: TOOLING, region: 'eu-west-1', time: timeOf(day, 10 + i * 3, g.int(0, 59), g.int(0, 59)), identity: bogdan, ip: '198.51.100.77', agent: 'SSH-2.0-OpenSSH_9.6', repository: 'payments-service', repositoryId: '8c3b0f5e-1d2a-4b6c-9e7f-0a1b2c3d4e5f', protocol: 'SSH' });
    }
    // Every push to main builds: the build role gets a token from the artifacts account and signs
    // with the security account's key (cross-account: the owners' copies).
    for (let i = 0; i < g.int(1, 3); i += 1) {
      const hour = 11 + i * 2;
      const session = buildSession(g, day, hour);
      authorizationToken(g, { time: timeOf(day, hour, g.int(5, 20), g.int(0, 59)), identity: session, ip: NAT_IP, agent: `${CLI_CODEBUILD} command/codeartifact.get-authorization-token`, shared: true });
      g.record({
        account: SECURITY,
        region: 'us-east-1',
        time: timeOf(day, hour, g.int(25, 40), g.int(0, 59)),
        identity: session,
        source: 'kms.amazonaws.com',
        name: 'Sign',
        ip: NAT_IP,
        agent: `${CLI_CODEBUILD} command/kms.sign`,
        // Another account's alias cannot be used: the build names the key by its ARN.
        request: { keyId: SIGNING_KEY_ARN, messageType: 'DIGEST', signingAlgorithm: 'ECDSA_SHA_256' },
        readOnly: true,
        resources: [{ accountId: SECURITY, type: 'AWS::KMS::Key', ARN: SIGNING_KEY_ARN }],
        shared: true,
      });
    }
  }
  // Tooling, us-east-1: the platform lead pushes the infrastructure repository on Tuesdays and Thursdays.
  const weekday = new Date(`${dateOf(day)}T00:00:00Z`).getUTCDay();
  if (weekday === 2 || weekday === 4) {
    const lead = assumedRole(TOOLING, 'platform-lead', 'rui.costa', 'AROAPLATFORMLEAD0001', timeOf(day, 8, 0), true);
    push(g, { account: TOOLING, region: 'us-east-1', time: timeOf(day, 15, g.int(0, 59), g.int(0, 59)), identity: lead, ip: '203.0.113.40', agent: 'git/2.45.2', repository: 'infra-live', repositoryId: '0f4e2d6c-7b8a-4c9d-8e1f-2a3b4c5d6e7f', protocol: 'HTTP' });
  }
  // Security, eu-west-1 (the central account): an analyst reads findings; read-only noise, watched by no rule.
  if (isWeekday(day)) {
    const analyst = assumedRole(SECURITY, 'aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_SecurityAudit_5c6d7e8f9a0b1c2d', 'lena.schmidt@acme.example', 'AROASECURITYAUDIT001', timeOf(day, 8, 30), false);
    g.record({ account: SECURITY, region: 'eu-west-1', time: timeOf(day, 9, g.int(0, 59), g.int(0, 59)), identity: analyst, source: 'securityhub.amazonaws.com', name: 'GetFindings', ip: '203.0.113.88', agent: 'console.amazonaws.com', request: { maxResults: 100 }, readOnly: true });
    // Security, us-east-1: the key's administrators look at it now and then.
    if (day % 3 === 0) {
      g.record({ account: SECURITY, region: 'us-east-1', time: timeOf(day, 14, g.int(0, 59), g.int(0, 59)), identity: analyst, source: 'kms.amazonaws.com', name: 'DescribeKey', ip: '203.0.113.88', agent: 'console.amazonaws.com', request: { keyId: SIGNING_KEY_ARN }, readOnly: true, resources: [{ accountId: SECURITY, type: 'AWS::KMS::Key', ARN: SIGNING_KEY_ARN }] });
    }
  }
}

function story(g: Generator): void {
  // Day 22, tooling: the forgotten deploy user pushes straight to main over SSH.
  push(g, {
    account: TOOLING,
    region: 'eu-west-1',
    time: timeOf(STORY.push.day, 21, 48, 12),
    identity: iamUser(TOOLING, 'svc-legacy-deploy'),
    ip: '192.0.2.187',
    agent: 'SSH-2.0-OpenSSH_7.4',
    repository: 'payments-service',
    repositoryId: '8c3b0f5e-1d2a-4b6c-9e7f-0a1b2c3d4e5f',
    protocol: 'SSH',
  });
  // Day 23, artifacts: a forgotten publisher user gets a token and publishes a version no build made.
  const publisher = iamUser(ARTIFACTS, 'svc-legacy-publish', 'AKIAQX3EXAMPLE7PUBLI');
  authorizationToken(g, { time: timeOf(STORY.token.day, 22, 38, 41), identity: publisher, ip: ATTACKER_IP, agent: `${CLI_V1} command/codeartifact.get-authorization-token`, shared: false });
  const sha256 = g.hex(64);
  g.record({
    account: ARTIFACTS,
    region: 'eu-west-1',
    time: timeOf(STORY.publish.day, 22, 41, 9),
    identity: publisher,
    source: 'codeartifact.amazonaws.com',
    name: 'PublishPackageVersion',
    ip: ATTACKER_IP,
    agent: CLI_V1,
    request: { domain: 'acme', domainOwner: ARTIFACTS, repository: 'internal-releases', format: 'generic', namespace: 'acme', package: 'payments-service', packageVersion: STORY.publish.version, assetName: 'payments-service.zip', assetSHA256: sha256, unfinished: false },
    response: {
      format: 'generic',
      namespace: 'acme',
      package: 'payments-service',
      version: STORY.publish.version,
      versionRevision: g.alnum(43) + '=',
      status: 'Published',
      asset: { name: 'payments-service.zip', size: 2452607, hashes: { MD5: g.hex(32), 'SHA-1': g.hex(40), 'SHA-256': sha256, 'SHA-512': g.hex(128) } },
    },
    readOnly: false,
  });
  // Day 24, security: into OrganizationAccountAccessRole from the management account, then a key
  // policy that lets an account outside the organisation sign.
  const maint = assumedRole(SECURITY, 'OrganizationAccountAccessRole', 'maint', 'AROAORGACCESS0000001', timeOf(STORY.keyPolicy.day, 1, 38, 5), false);
  g.record({
    account: SECURITY,
    region: 'us-east-1',
    time: timeOf(STORY.keyPolicy.day, 1, 38, 5),
    identity: iamUser('999900001111', 'svc-legacy-admin', 'AKIAQX3EXAMPLE9ADMIN'),
    source: 'sts.amazonaws.com',
    name: 'AssumeRole',
    ip: ATTACKER_IP,
    agent: CLI_V1,
    request: { roleArn: `arn:aws:iam::${SECURITY}:role/OrganizationAccountAccessRole`, roleSessionName: 'maint', durationSeconds: 3600 },
    response: { credentials: { accessKeyId: 'ASIAORGACCESS0000001', sessionToken: 'HIDDEN_DUE_TO_SECURITY_REASONS', expiration: 'Oct 24, 2026, 2:38:05 AM' }, assumedRoleUser: { assumedRoleId: 'AROAORGACCESS0000001:maint', arn: STORY.keyPolicy.principal } },
    readOnly: false,
    resources: [{ accountId: SECURITY, type: 'AWS::IAM::Role', ARN: `arn:aws:iam::${SECURITY}:role/OrganizationAccountAccessRole` }],
    shared: true,
  });
  const statement = (sid: string, principal: string, actions: string | string[]): JsonMap => ({ Sid: sid, Effect: 'Allow', Principal: { AWS: principal }, Action: actions, Resource: '*' });
  const policy = {
    Version: '2012-10-17',
    Id: 'release-signing-key-policy',
    Statement: [
      statement('EnableRootAccess', `arn:aws:iam::${SECURITY}:root`, 'kms:*'),
      statement('BuildSigns', BUILD_ROLE, ['kms:Sign', 'kms:GetPublicKey', 'kms:DescribeKey']),
      statement('PartnerSigning', `arn:aws:iam::${OUTSIDER}:root`, ['kms:Sign', 'kms:GetPublicKey']),
    ],
  };
  g.record({
    account: SECURITY,
    region: 'us-east-1',
    time: timeOf(STORY.keyPolicy.day, 1, 41, 2),
    identity: maint,
    source: 'kms.amazonaws.com',
    name: 'PutKeyPolicy',
    ip: ATTACKER_IP,
    agent: CLI_V1,
    request: { keyId: SIGNING_KEY_ARN, policyName: 'default', policy: JSON.stringify(policy), bypassPolicyLockoutSafetyCheck: true },
    readOnly: false,
    resources: [{ accountId: SECURITY, type: 'AWS::KMS::Key', ARN: SIGNING_KEY_ARN }],
  });
}

/** Deterministic shuffle: CloudTrail writes a file's records in no particular order. */
function shuffle<T>(g: Generator, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = g.int(0, i);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

export function generateOrganizationHistory(seed = 20261001): OrganizationFile[] {
  const g = new Generator(seed);
  for (let day = 1; day <= DAYS; day += 1) background(g, day);
  story(g);
  const files = [...g.files.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const file of files) shuffle(g, file.records);
  return files;
}

/** A file's text as written: `{"Records":[…]}` on one line, like CloudTrail (minus the gzip). */
export function organizationFileText(file: OrganizationFile): string {
  return `${JSON.stringify({ Records: file.records })}\n`;
}
