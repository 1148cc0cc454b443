/**
 * A deterministic, realistic history of a small team's build pipeline on AWS (eu-west-1, account
 * 111122223333), with a SUNSPOT-style pipeline compromise woven into days 23-26.
 *
 * Output per day: the CloudTrail S3 log file (`{"Records": [...]}`, records shuffled like real files)
 * and the native EventBridge events (CodeCommit, CodeBuild, CodeArtifact, KMS). CloudTrail-relayed
 * events are deliberately absent from the EventBridge list: the replay wraps CloudTrail records itself.
 *
 * Shapes follow the AWS documentation examples summarised in /work/shared/design/EVENTS.md. Pure:
 * seeded PRNGs (sfc32), no clock, no Math.random, so the same options always give the same bytes.
 * The original history draws from one stream; the story lines added later (approval rules,
 * triggers, package origins, repository and key policies, the monitor's own resources) draw from a
 * second one and join each day's file after its shuffle, so adding them changed no earlier byte.
 * See samples/README.md for the story.
 */

import { createHash } from 'node:crypto';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonMap = { [key: string]: Json };

export interface HistoryOptions {
  /** First day, `YYYY-MM-DD` (UTC). */
  readonly startDate: string;
  readonly days: number;
  readonly seed: number;
  /** How many developers push code (1-5); the roster order keeps the mix of identity types. */
  readonly developers?: number;
  /** Multiplies daily developer activity (pushes, pulls), e.g. 20 for benchmarks. */
  readonly scale?: number;
  /** Weave in the attack of days 23-26 (default true). */
  readonly attack?: boolean;
  /**
   * Weave in the story lines added later (approval rules, triggers, package origins, repository
   * policy, signing-key policy, the monitor's own resources; default true). They draw from their own
   * seeded stream, so `storyLines: false` gives the original history byte for byte.
   */
  readonly storyLines?: boolean;
}

export interface GeneratedDay {
  readonly date: string;
  readonly cloudTrail: { readonly Records: JsonMap[] };
  readonly eventBridge: JsonMap[];
}

export const DEFAULT_HISTORY_OPTIONS: Required<HistoryOptions> = {
  startDate: '2026-10-01',
  days: 28,
  seed: 42,
  developers: 5,
  scale: 1,
  attack: true,
  storyLines: true,
};

/** The CloudTrail S3 log file: one line, like the files CloudTrail delivers (minus the gzip). */
export function cloudTrailFileText(day: GeneratedDay): string {
  return JSON.stringify(day.cloudTrail);
}

/** Native EventBridge events, one JSON document per line. */
export function eventBridgeFileText(day: GeneratedDay): string {
  return day.eventBridge.map((event) => `${JSON.stringify(event)}\n`).join('');
}

/**
 * The files of one day folder, as write-samples writes them and the test compares them. A day
 * without native events gets no eventbridge.jsonl: the replay reports an empty JSON Lines file
 * as an input problem (and exits non-zero), whereas `{"Records":[]}` is a valid, empty log file.
 */
export function sampleFiles(day: GeneratedDay): { name: 'cloudtrail.json' | 'eventbridge.jsonl'; text: string }[] {
  const files: { name: 'cloudtrail.json' | 'eventbridge.jsonl'; text: string }[] = [{ name: 'cloudtrail.json', text: cloudTrailFileText(day) }];
  if (day.eventBridge.length > 0) files.push({ name: 'eventbridge.jsonl', text: eventBridgeFileText(day) });
  return files;
}

export function generateHistory(options: HistoryOptions): GeneratedDay[] {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(options.startDate) || Number.isNaN(Date.parse(`${options.startDate}T00:00:00Z`))) {
    throw new Error(`startDate must be YYYY-MM-DD, got ${JSON.stringify(options.startDate)}`);
  }
  if (!Number.isInteger(options.days) || options.days < 1) throw new Error(`days must be a positive integer, got ${options.days}`);
  const scale = options.scale ?? 1;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new Error(`scale must be a positive number, got ${scale}`);
  const developers = Math.min(ROSTER.length, Math.max(1, Math.round(options.developers ?? ROSTER.length)));
  return new Simulator(options.seed, developers, scale, options.attack ?? true, options.storyLines ?? true).run(options.startDate, options.days);
}

// ---------------------------------------------------------------------------------------------
// Fixed names (buildwatch.config.json) and constants
// ---------------------------------------------------------------------------------------------

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const SIGNING_KEY_ID = '7f3c1a52-9d4e-4b1a-8c39-2f6b0e4d9a11';
const SIGNING_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${SIGNING_KEY_ID}`;
const TRAIL_NAME = 'org-trail';
const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${TRAIL_NAME}`;
const ARTIFACT_BUCKET = 'acme-artifacts';
const CA_DOMAIN = 'acme';
const CA_RELEASES = 'internal-releases';
const CA_NPM = 'npm-store';
const PKG_NAMESPACE = 'acme';
const PKG_NAME = 'payments-service';
const PKG_ARN = `arn:aws:codeartifact:${REGION}:${ACCOUNT}:package/${CA_DOMAIN}/${CA_RELEASES}/generic/${PKG_NAMESPACE}/${PKG_NAME}`;
const ORCHESTRATOR_ROLE = 'release-orchestrator-role';
const PAYMENTS_BUILD_ROLE = 'payments-codebuild-service-role';
const WEB_BUILD_ROLE = 'web-frontend-codebuild-service-role';
const ATTACKER_USER = 'svc-legacy-deploy';
const ATTACKER_ROLE = 'OrganizationAccountAccessRole';
const ATTACKER_SESSION = 'maint';
const ATTACKER_IP_SSH = '192.0.2.187';
const ATTACKER_IP_API = '192.0.2.203';
const CODEBUILD_NAT_IP = '52.48.211.37';
const MALICIOUS_URL = 'https://updates.build-telemetry.example/v2/agent.sh';

/** Attack and scenario days, as 0-based offsets from startDate (day 23 of the brief = offset 22). */
const DAY = {
  createWebProject: 1,
  leadUpdatesProject: 4,
  deniedUpdateProject: 8,
  keyRotation: 11,
  deniedAuthToken: 14,
  attackPush: 22,
  attackBuild: 23,
  attackTamper: 24,
  remediation: 25,
} as const;

const REPOSITORIES = ['payments-service', 'web-frontend'] as const;
type RepoName = (typeof REPOSITORIES)[number];
const PROJECT_OF: Record<RepoName, string> = { 'payments-service': 'payments-service-build', 'web-frontend': 'web-frontend-build' };
const PIPELINE_OF: Record<RepoName, string> = { 'payments-service': 'payments-release', 'web-frontend': 'web-frontend-release' };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY_MS = 24 * HOUR;

const EVENT_VERSION: Record<string, string> = {
  'codecommit.amazonaws.com': '1.10',
  'codebuild.amazonaws.com': '1.10',
  'codeartifact.amazonaws.com': '1.10',
  'kms.amazonaws.com': '1.11',
  'cloudtrail.amazonaws.com': '1.11',
  'cloudformation.amazonaws.com': '1.11',
  'sts.amazonaws.com': '1.08',
  'iam.amazonaws.com': '1.10',
  'codepipeline.amazonaws.com': '1.10',
  'events.amazonaws.com': '1.10',
  'sqs.amazonaws.com': '1.09',
  'lambda.amazonaws.com': '1.09',
};

const CLI_MAC = 'aws-cli/2.17.37 Python/3.11.9 Darwin/23.6.0 exe/arm64 prompt/off';
const CLI_LINUX = 'aws-cli/2.15.58 Python/3.11.8 Linux/6.8.0-45-generic exe/x86_64.ubuntu.24 prompt/off';
const CLI_CODEBUILD = 'aws-cli/2.17.20 Python/3.11.9 Linux/5.10.226-214.880.amzn2.x86_64 exe/x86_64.amzn.2 exec-env/CODEBUILD prompt/off';
// An old CLI v1 on a Linux VPS: one of the things that makes the attacker stand out.
const CLI_ATTACKER = 'aws-cli/1.29.85 Python/3.8.10 Linux/5.15.0-88-generic botocore/1.31.85';
const BROWSER_FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0';
const BROWSER_CHROME = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36';

// ---------------------------------------------------------------------------------------------
// Seeded PRNG
// ---------------------------------------------------------------------------------------------

/** sfc32 seeded through splitmix32: 128 bits of state, so thousands of uuids never collide. */
class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const split = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split();
    for (let i = 0; i < 15; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (((this.c << 21) | (this.c >>> 11)) + t) >>> 0;
    return t;
  }

  float(): number {
    return this.u32() / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.float() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  chars(alphabet: string, length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet.charAt(Math.floor(this.float() * alphabet.length));
    return out;
  }

  hex(length: number): string {
    return this.chars('0123456789abcdef', length);
  }

  /** Version-4-shaped uuid (CloudTrail eventID/requestID, build ids). */
  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${this.pick(['8', '9', 'a', 'b'])}${this.hex(3)}-${this.hex(12)}`;
  }

  /** EventBridge event ids are uuid-shaped but not always version 4. */
  eventId(): string {
    return `${this.hex(8)}-${this.hex(4)}-${this.hex(4)}-${this.hex(4)}-${this.hex(12)}`;
  }

  base64(bytes: number): string {
    const body = this.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', Math.ceil((bytes * 4) / 3));
    return body.padEnd(Math.ceil(bytes / 3) * 4, '=');
  }

  /** IAM unique ids (AIDA…, AROA…: 21 chars) and access key ids (AKIA…, ASIA…: 20 chars). */
  awsId(prefix: 'AIDA' | 'AROA' | 'AKIA' | 'ASIA'): string {
    return prefix + this.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', prefix === 'AKIA' || prefix === 'ASIA' ? 16 : 17);
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }
}

// ---------------------------------------------------------------------------------------------
// Time formats (EVENTS.md 9.8: they vary by service)
// ---------------------------------------------------------------------------------------------

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const pad2 = (n: number): string => String(n).padStart(2, '0');

/** CloudTrail eventTime and EventBridge time: ISO-8601 UTC, whole seconds. */
function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** CodeBuild and API response dates: "Oct 1, 2026 9:12:29 AM". */
function awsTime(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()} ${h % 12 === 0 ? 12 : h % 12}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

/** CodeCommit pull-request events: Java's Date.toString(), "Thu Oct 01 09:12:29 UTC 2026". */
function javaTime(ms: number): string {
  const d = new Date(ms);
  return `${WEEKDAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

const seconds = (n: number): number => n * 1000;

// ---------------------------------------------------------------------------------------------
// The cast
// ---------------------------------------------------------------------------------------------

type DevKind = 'iam-https' | 'iam-ssh' | 'sso' | 'mfa-role';

interface DevProfile {
  readonly key: string;
  readonly kind: DevKind;
  /** IAM user name, or the role session name (email for Identity Center). */
  readonly login: string;
  readonly ips: readonly string[];
  readonly gitAgent: string;
  readonly browser: string;
  readonly cli: string;
  /** Working hours, UTC, as fractional hours. */
  readonly hours: readonly [number, number];
  readonly primaryRepo: RepoName;
}

/** Order matters: `developers: N` takes the first N, and the first three already mix every identity type. */
const ROSTER: readonly DevProfile[] = [
  { key: 'alice', kind: 'iam-https', login: 'alice.moreau', ips: ['203.0.113.24', '203.0.113.25'], gitAgent: 'git/2.45.2', browser: BROWSER_CHROME, cli: CLI_MAC, hours: [7.5, 16.5], primaryRepo: 'payments-service' },
  { key: 'chloe', kind: 'sso', login: 'chloe.dubois@acme.example', ips: ['203.0.113.24', '198.51.100.23'], gitAgent: 'git/2.43.0', browser: BROWSER_FIREFOX, cli: CLI_LINUX, hours: [7, 15.5], primaryRepo: 'web-frontend' },
  { key: 'rui', kind: 'mfa-role', login: 'rui.costa', ips: ['198.51.100.140', '203.0.113.24'], gitAgent: 'git/2.46.1', browser: BROWSER_CHROME, cli: CLI_MAC, hours: [6.5, 17], primaryRepo: 'payments-service' },
  { key: 'bogdan', kind: 'iam-ssh', login: 'bogdan.ionescu', ips: ['198.51.100.77'], gitAgent: 'SSH-2.0-OpenSSH_9.6', browser: BROWSER_FIREFOX, cli: CLI_LINUX, hours: [6, 14.5], primaryRepo: 'payments-service' },
  { key: 'daniel', kind: 'sso', login: 'daniel.okafor@acme.example', ips: ['203.0.113.25', '198.51.100.191'], gitAgent: 'git/2.47.0', browser: BROWSER_CHROME, cli: CLI_MAC, hours: [8, 17.5], primaryRepo: 'web-frontend' },
];

interface Role {
  readonly name: string;
  readonly arn: string;
  readonly roleId: string;
}

interface IamUser {
  readonly userName: string;
  readonly arn: string;
  readonly principalId: string;
  /** Long-term access key used by the CLI (absent for users who only use Git credentials). */
  readonly accessKeyId: string;
}

interface Repo {
  readonly name: RepoName;
  readonly id: string;
  readonly arn: string;
  readonly cloneUrl: string;
  /** Branch name → head commit. */
  readonly branches: Map<string, string>;
}

interface EnvVar {
  readonly name: string;
  readonly type: 'PLAINTEXT' | 'PARAMETER_STORE';
  readonly value: string;
}

interface ProjectConfig {
  readonly name: string;
  readonly repo: RepoName;
  description: string;
  buildspec: string;
  image: string;
  computeType: string;
  privilegedMode: boolean;
  envVars: EnvVar[];
  readonly serviceRole: string;
  timeoutInMinutes: number;
  readonly artifactName: string;
  exists: boolean;
  buildNumber: number;
  created: number;
  lastModified: number;
}

type RoleKey = 'developer' | 'admin' | 'lead' | 'orchestrator' | 'paymentsBuild' | 'webBuild' | 'attacker';

interface World {
  readonly repos: Record<RepoName, Repo>;
  readonly users: Record<string, IamUser>;
  readonly roles: Record<RoleKey, Role>;
  readonly codecommitKeyArn: string;
  readonly artifactsKeyId: string;
  readonly npmToken: string;
  readonly attackerKey: string;
  readonly stackId: string;
}

function makeWorld(rng: Rng): World {
  const repos = {} as Record<RepoName, Repo>;
  for (const name of REPOSITORIES) {
    repos[name] = {
      name,
      id: rng.uuid(),
      arn: `arn:aws:codecommit:${REGION}:${ACCOUNT}:${name}`,
      cloneUrl: `https://git-codecommit.${REGION}.amazonaws.com/v1/repos/${name}`,
      branches: new Map([['main', rng.hex(40)]]),
    };
  }
  const user = (userName: string, withKey: boolean): IamUser => ({
    userName,
    arn: `arn:aws:iam::${ACCOUNT}:user/${userName}`,
    principalId: rng.awsId('AIDA'),
    accessKeyId: withKey ? rng.awsId('AKIA') : '',
  });
  const role = (name: string, path = '/'): Role => ({ name, arn: `arn:aws:iam::${ACCOUNT}:role${path}${name}`, roleId: rng.awsId('AROA') });
  const ssoPath = `/aws-reserved/sso.amazonaws.com/${REGION}/`;
  const developerSet = `AWSReservedSSO_Developer_${rng.hex(16)}`;
  const adminSet = `AWSReservedSSO_AdministratorAccess_${rng.hex(16)}`;
  return {
    repos,
    users: {
      alice: user('alice.moreau', true),
      bogdan: user('bogdan.ionescu', false),
      [ATTACKER_USER]: user(ATTACKER_USER, true),
    },
    roles: {
      developer: role(developerSet, ssoPath),
      admin: role(adminSet, ssoPath),
      lead: role('platform-lead'),
      orchestrator: role(ORCHESTRATOR_ROLE),
      paymentsBuild: role(PAYMENTS_BUILD_ROLE),
      webBuild: role(WEB_BUILD_ROLE),
      attacker: role(ATTACKER_ROLE),
    },
    codecommitKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${rng.uuid()}`,
    artifactsKeyId: rng.uuid(),
    // Plaintext on purpose: the native build events carry it verbatim, which the masking must catch.
    npmToken: `npm_${rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 36)}`,
    attackerKey: `tk_live_${rng.hex(32)}`,
    stackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/web-frontend-ci/${rng.uuid()}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Story lines added later (approval rules, triggers, signing key, package origins, repository
// policy, the monitor's own resources): fixed names, and ids drawn from their own stream
// ---------------------------------------------------------------------------------------------

/** Seeds the story-line stream; any value other than 0 keeps it apart from the main stream. */
const STORY_SEED_SALT = 0x5f3759df;
const PARTNER_ACCOUNT = '444455556666';
const PARTNER_ROLE = 'partner-ci';
const PARTNER_SESSION = 'build-7781';
const PARTNER_IP = '192.0.2.61';
const APPROVAL_TEMPLATE = 'main-needs-lead-approval';
const SCANNER_FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:secret-scanner`;
const MONITOR_STACK = 'Buildwatch';
const MONITOR_ALIAS = 'alias/buildwatch-key';
const MONITOR_RULE = 'buildwatch-source-new-pusher';
const MONITOR_FUNCTION = 'buildwatch-detect';
const MONITOR_QUEUE_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/buildwatch-detect`;
const CDK_QUALIFIER = 'hnb659fds';
const CDK_ASSETS_BUCKET = `cdk-${CDK_QUALIFIER}-assets-${ACCOUNT}-${REGION}`;
const PIPELINE_STACK = 'payments-release-pipeline';
const INTERNAL_NPM_PACKAGE = { namespace: 'acme', name: 'payments-client' } as const;
const CDK_CLI = 'aws-sdk-js/3.654.0 ua/2.1 os/darwin#23.6.0 lang/js md/nodejs#20.17.0 api/cloudformation#3.654.0 aws-cdk/2.160.0';
/** The rule the stack creates for source.new-pusher (the use case's pattern; it receives read-only events). */
const NEW_PUSHER_PATTERN = JSON.stringify({
  $or: [
    {
      source: ['aws.codecommit'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['codecommit.amazonaws.com'],
        eventName: ['GitPush', 'CreateBranch', 'MergeBranchesByFastForward', 'MergeBranchesBySquash', 'MergeBranchesByThreeWay', 'MergePullRequestByFastForward', 'MergePullRequestBySquash', 'MergePullRequestByThreeWay', 'PutFile', 'CreateCommit', 'DeleteFile'],
      },
    },
    { source: ['aws.codecommit'], 'detail-type': ['CodeCommit Repository State Change'], detail: { event: ['referenceCreated', 'referenceUpdated'] } },
    { source: ['aws.codecommit'], 'detail-type': ['CodeCommit Pull Request State Change'], detail: { event: ['pullRequestMergeStatusUpdated'], isMerged: ['True'] } },
  ],
});

/** Story days, as 0-based offsets from startDate like DAY (day 16 of the story = offset 15). */
const STORY_DAY = {
  setupMonitorAndReview: 0,
  scannerTrigger: 1,
  releasesPolicy: 2,
  pipelineStack: 11,
  deniedOverride: 15,
  // With the attack only:
  dependencyConfusion: 23,
  monitorTamper: 24,
  restore: 25,
  partnerToken: 26,
} as const;

/**
 * The build-environment story line (issue #17): the image pipeline pushes the build image weekly and
 * patches the self-hosted GitLab runners on Sundays; on day 20 a developer's laptop retags the build
 * image and opens a Session Manager session onto a runner. Its own seeded stream and record list, so
 * every earlier story line's ids and positions stay as they were.
 */
const BUILD_ENV_SEED_SALT = 0x2545f491;
const BUILD_IMAGE_REPOSITORY = 'build-images/node20';
const BUILD_IMAGE_TAG = 'stable';
const IMAGE_PIPELINE_ROLE = 'build-image-pipeline';
const PATCH_ROLE = 'ssm-maintenance-window-role';
const RUNNER_ASG = 'gitlab-runner-asg';
/** A runner the Auto Scaling group launched: no configuration lists its id (DescribeInstances ties it to the group). */
const RUNNER_INSTANCE = 'i-0b5e7a11c0ffee123';
const DOCKER_LINUX = 'docker/27.3.1 go/go1.22.7 git-commit/41ca978 kernel/6.8.0-1016-aws os/linux arch/amd64 UpstreamClient(Docker-Client/27.3.1 \\(linux\\))';
const DOCKER_MAC = 'docker/27.3.1 go/go1.22.7 git-commit/41ca978 kernel/6.10.11-linuxkit os/linux arch/arm64 UpstreamClient(Docker-Client/27.3.1 \\(darwin\\))';
/** Days of the build-environment story line (0-based offsets, like STORY_DAY). */
const BUILD_ENV_DAY = {
  patchRunners: [3, 10, 17],
  pushBuildImage: [4, 11, 18],
  laptopRetagAndSession: 19,
} as const;

interface StoryWorld {
  readonly cfnExecRole: Role;
  readonly cdkDeployRole: Role;
  readonly partnerRoleId: string;
  readonly monitorKeyId: string;
  readonly monitorStackId: string;
  readonly pipelineStackId: string;
  readonly approvalTemplateId: string;
  readonly detectRoleName: string;
}

function makeStoryWorld(rng: Rng): StoryWorld {
  const role = (name: string): Role => ({ name, arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, roleId: rng.awsId('AROA') });
  return {
    cfnExecRole: role(`cdk-${CDK_QUALIFIER}-cfn-exec-role-${ACCOUNT}-${REGION}`),
    cdkDeployRole: role(`cdk-${CDK_QUALIFIER}-deploy-role-${ACCOUNT}-${REGION}`),
    partnerRoleId: rng.awsId('AROA'),
    monitorKeyId: rng.uuid(),
    monitorStackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${MONITOR_STACK}/${rng.uuid()}`,
    pipelineStackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${PIPELINE_STACK}/${rng.uuid()}`,
    approvalTemplateId: rng.uuid(),
    detectRoleName: `${MONITOR_STACK}-DetectorFunctionServiceRole${rng.chars('0123456789ABCDEF', 8)}-${rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 12)}`,
  };
}

const PAYMENTS_BUILDSPEC_INLINE = (url: string): string =>
  [
    'version: 0.2',
    'phases:',
    '  install:',
    '    runtime-versions:',
    '      nodejs: 20',
    '    commands:',
    `      - curl -fsSL ${url} -o /tmp/agent.sh`,
    '      - bash /tmp/agent.sh --key "$BUILD_TELEMETRY_KEY" >/dev/null 2>&1 &',
    '  build:',
    '    commands:',
    '      - npm ci',
    '      - npm run build',
    '      - npm test',
    '  post_build:',
    '    commands:',
    '      - bash scripts/publish.sh',
    'artifacts:',
    '  files:',
    '    - payments-service.zip',
    '',
  ].join('\n');

// ---------------------------------------------------------------------------------------------
// The simulation
// ---------------------------------------------------------------------------------------------

interface Intent {
  readonly t: number;
  readonly seq: number;
  readonly run: (t: number) => void;
}

interface Session {
  readonly creation: number;
  readonly accessKeyId: string;
}

interface WorkBranch {
  readonly name: string;
  readonly topic: string;
  readonly base: string;
  pushes: number;
}

interface PullRequest {
  readonly id: number;
  readonly repo: RepoName;
  readonly author: DevProfile;
  readonly branch: string;
  readonly title: string;
  readonly description: string;
  readonly base: string;
  readonly sourceCommit: string;
  readonly destinationCommit: string;
  readonly created: number;
  readonly revisionId: string;
  readonly clientRequestToken: string;
  scheduled: boolean;
}

interface RefUpdate {
  readonly ref: string;
  readonly commit: string;
  /** Absent when the reference is created. */
  readonly old?: string;
}

interface BuildRequest {
  readonly project: ProjectConfig;
  readonly start: number;
  readonly initiator: string;
  readonly sourceVersion: string;
  readonly buildspecOverride?: string;
  readonly forceSuccess?: boolean;
}

const PR_TOPICS: Record<RepoName, readonly string[]> = {
  'payments-service': [
    'Add idempotency keys to the refund endpoint',
    'Retry ledger writes with jittered backoff',
    'Fix currency rounding in invoice totals',
    'Add OpenTelemetry spans to the capture flow',
    'Validate IBAN checksum before payout',
    'Bump @aws-sdk/client-dynamodb',
    'Split settlement job into smaller batches',
    'Fix flaky webhook signature test',
    'Expose payout status in the admin API',
    'Drop the legacy 3DS v1 fallback',
  ],
  'web-frontend': [
    'Lazy-load the analytics bundle',
    'Migrate checkout form to react-hook-form',
    'Fix focus trap in the payment modal',
    'Tighten the Content-Security-Policy',
    'Add skeleton loaders to the invoices page',
    'Upgrade Next.js to the latest patch',
    'Localise date formats on receipts',
    'Fix layout shift on the pricing page',
    'Add e2e test for saved cards',
    'Remove unused polyfills',
  ],
};

const BRANCH_PREFIXES = ['feature', 'fix', 'chore'] as const;

class Simulator {
  private readonly rng: Rng;
  private readonly world: World;
  private readonly devs: readonly DevProfile[];
  private readonly projects: Record<RepoName, ProjectConfig>;
  private readonly openPrs: PullRequest[] = [];
  private readonly workBranches = new Map<string, WorkBranch>();
  private nextPrId = 137;
  private packageSequence = 14;
  private tagCounter = 0;
  private seq = 0;
  private queue: Intent[] = [];
  private sessions = new Map<string, Session>();
  private ct: JsonMap[] = [];
  private eb: { t: number; seq: number; event: JsonMap }[] = [];
  private dayStart = 0;
  private dayIndex = 0;
  /**
   * The story lines added after the original history (see "Story lines" below) draw every random
   * value from this second stream, and their records go to `storyCt`, which joins the day's file
   * after the main shuffle: the original events, their ids and their order stay byte-identical.
   */
  private readonly story: Rng;
  private readonly storyWorld: StoryWorld;
  private storyCt: JsonMap[] = [];
  private storySessions = new Map<string, Session>();
  /** The build-environment story line's stream and records (see BUILD_ENV_SEED_SALT). */
  private readonly buildEnv: Rng;
  private readonly buildEnvRoles: { readonly pipeline: Role; readonly patch: Role };
  private buildEnvCt: JsonMap[] = [];
  private buildEnvSessions = new Map<string, Session>();
  /** The attacker's `maint` session of day 25 (set by attackTamper, reused by the story lines). */
  private maintSession: Session | undefined;
  /** The repository policy revision the day-24 rewrite replaces. */
  private releasesPolicyRevision: string | undefined;

  constructor(
    seed: number,
    developers: number,
    private readonly scale: number,
    private readonly attack: boolean,
    private readonly storyLines: boolean,
  ) {
    this.rng = new Rng(seed);
    this.world = makeWorld(this.rng);
    this.story = new Rng((seed ^ STORY_SEED_SALT) >>> 0);
    this.storyWorld = makeStoryWorld(this.story);
    this.buildEnv = new Rng((seed ^ BUILD_ENV_SEED_SALT) >>> 0);
    const buildEnvRole = (name: string): Role => ({ name, arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, roleId: this.buildEnv.awsId('AROA') });
    this.buildEnvRoles = { pipeline: buildEnvRole(IMAGE_PIPELINE_ROLE), patch: buildEnvRole(PATCH_ROLE) };
    this.devs = ROSTER.slice(0, developers);
    const role = (name: string): string => `arn:aws:iam::${ACCOUNT}:role/${name}`;
    this.projects = {
      'payments-service': {
        name: 'payments-service-build',
        repo: 'payments-service',
        description: 'Builds, tests and packages payments-service',
        buildspec: 'buildspec.yml',
        image: 'aws/codebuild/amazonlinux2-x86_64-standard:5.0',
        computeType: 'BUILD_GENERAL1_MEDIUM',
        privilegedMode: false,
        envVars: [
          { name: 'NODE_ENV', type: 'PLAINTEXT', value: 'production' },
          { name: 'NPM_TOKEN', type: 'PLAINTEXT', value: this.world.npmToken },
          { name: 'SIGNING_KEY_ID', type: 'PLAINTEXT', value: 'alias/release-signing' },
          { name: 'CODEARTIFACT_DOMAIN', type: 'PLAINTEXT', value: CA_DOMAIN },
          { name: 'SONAR_TOKEN', type: 'PARAMETER_STORE', value: '/ci/payments/sonar-token' },
        ],
        serviceRole: role(PAYMENTS_BUILD_ROLE),
        timeoutInMinutes: 30,
        artifactName: 'payments-service.zip',
        exists: true,
        buildNumber: 411,
        created: Date.parse('2025-03-12T10:04:51Z'),
        lastModified: Date.parse('2026-08-27T14:22:09Z'),
      },
      'web-frontend': {
        name: 'web-frontend-build',
        repo: 'web-frontend',
        description: 'Builds the web-frontend static bundle',
        buildspec: 'buildspec.yml',
        image: 'aws/codebuild/standard:7.0',
        computeType: 'BUILD_GENERAL1_SMALL',
        privilegedMode: false,
        envVars: [
          { name: 'NODE_ENV', type: 'PLAINTEXT', value: 'production' },
          { name: 'NEXT_PUBLIC_API_URL', type: 'PLAINTEXT', value: 'https://api.acme.example' },
        ],
        serviceRole: role(WEB_BUILD_ROLE),
        timeoutInMinutes: 20,
        artifactName: 'web-frontend.zip',
        // Created by CloudFormation on day 2; pushes before that build nothing.
        exists: false,
        buildNumber: 0,
        created: 0,
        lastModified: 0,
      },
    };
  }

  run(startDate: string, days: number): GeneratedDay[] {
    const first = Date.parse(`${startDate}T00:00:00Z`);
    const out: GeneratedDay[] = [];
    for (let index = 0; index < days; index++) {
      this.dayIndex = index;
      this.dayStart = first + index * DAY_MS;
      this.ct = [];
      this.storyCt = [];
      this.storySessions = new Map();
      this.buildEnvCt = [];
      this.buildEnvSessions = new Map();
      this.eb = [];
      this.sessions = new Map();
      this.planDay();
      this.drain();
      this.eb.sort((x, y) => x.t - y.t || x.seq - y.seq);
      out.push({
        date: iso(this.dayStart).slice(0, 10),
        // Real S3 log files are not ordered (CodeCommit/CodeBuild CloudTrail docs).
        cloudTrail: { Records: this.withBuildEnvRecords(this.withStoryRecords(this.rng.shuffle(this.ct))) },
        eventBridge: this.eb.map((entry) => entry.event),
      });
    }
    return out;
  }

  // ---- scheduling -------------------------------------------------------------------------

  private at(t: number, run: (t: number) => void): void {
    const intent: Intent = { t: Math.round(t), seq: this.seq++, run };
    // Binary heap keyed by (t, seq), so large `scale` values stay fast.
    const heap = this.queue;
    heap.push(intent);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as Intent, heap[parent] as Intent)) break;
      [heap[i], heap[parent]] = [heap[parent] as Intent, heap[i] as Intent];
      i = parent;
    }
  }

  private drain(): void {
    const heap = this.queue;
    while (heap.length > 0) {
      const top = heap[0] as Intent;
      const last = heap.pop() as Intent;
      if (heap.length > 0) {
        heap[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < heap.length && before(heap[l] as Intent, heap[m] as Intent)) m = l;
          if (r < heap.length && before(heap[r] as Intent, heap[m] as Intent)) m = r;
          if (m === i) break;
          [heap[i], heap[m]] = [heap[m] as Intent, heap[i] as Intent];
          i = m;
        }
      }
      top.run(top.t);
    }
  }

  private hour(h: number): number {
    return this.dayStart + h * HOUR;
  }

  private isWeekday(): boolean {
    const dow = new Date(this.dayStart).getUTCDay();
    return dow !== 0 && dow !== 6;
  }

  private scaled(n: number): number {
    return Math.max(0, Math.round(n * this.scale));
  }

  private planDay(): void {
    if (this.isWeekday()) {
      for (const dev of this.devs) {
        const [from, to] = dev.hours;
        // Late starts and early finishes, so days do not all look alike.
        const start = from + this.rng.float() * 0.75;
        const end = to - this.rng.float() * 0.75;
        for (let i = this.scaled(this.rng.int(1, 4)); i > 0; i--) this.at(this.hour(start + this.rng.float() * (end - start)), (t) => this.devPush(dev, t));
        for (let i = this.scaled(this.rng.chance(0.4) ? 1 : 0); i > 0; i--) this.at(this.hour(start + this.rng.float() * (end - start)), (t) => this.devPull(dev, t));
      }
      for (const pr of this.openPrs) {
        if (!pr.scheduled) this.scheduleMerge(pr, this.hour(7.5 + this.rng.float() * 3));
      }
    } else if (this.rng.chance(0.35) && !(this.attack && this.dayIndex >= DAY.attackPush && this.dayIndex <= DAY.remediation)) {
      // The odd weekend push to a feature branch.
      const dev = this.rng.pick(this.devs);
      for (let i = this.rng.int(1, 2); i > 0; i--) this.at(this.hour(13 + this.rng.float() * 5), (t) => this.devPush(dev, t, 'feature'));
    }
    this.planScenario();
    if (this.storyLines) this.planStoryLines();
    if (this.storyLines) this.planBuildEnvironment();
  }

  private planScenario(): void {
    const j = (minutes: number): number => this.rng.int(0, minutes * 60) * 1000;
    switch (this.dayIndex) {
      case DAY.createWebProject:
        this.at(this.hour(7.7) + j(5), (t) => this.createWebProject(t));
        break;
      case DAY.leadUpdatesProject:
        this.at(this.hour(9.2) + j(20), (t) => this.leadUpdatesProject(t));
        break;
      case DAY.deniedUpdateProject:
        if (this.devs.some((d) => d.key === 'daniel')) this.at(this.hour(14.3) + j(20), (t) => this.deniedUpdateProject(t));
        break;
      case DAY.keyRotation:
        this.at(this.hour(3.28) + j(3), (t) => this.keyRotation(t));
        break;
      case DAY.deniedAuthToken:
        this.at(this.hour(10.6) + j(20), (t) => this.deniedAuthToken(t));
        break;
      default:
        break;
    }
    if (!this.attack) return;
    switch (this.dayIndex) {
      case DAY.attackPush:
        this.at(this.hour(21.78) + j(2), (t) => this.attackPush(t));
        break;
      case DAY.attackBuild:
        this.at(this.hour(1.03) + j(2), (t) => this.attackBuild(t));
        break;
      case DAY.attackTamper:
        this.at(this.hour(2.52) + j(2), (t) => this.attackTamper(t));
        break;
      case DAY.remediation:
        // A normal pipeline run on the still-tampered project before anyone reacts (step 4 of the story).
        this.at(this.hour(8.2) + j(10), (t) => this.devPush(ROSTER[0] as DevProfile, t, 'main', 'payments-service'));
        this.at(this.hour(9.68) + j(3), (t) => this.remediate(t));
        break;
      default:
        break;
    }
  }

  // ---- output helpers -----------------------------------------------------------------------

  private record(input: {
    t: number;
    source: string;
    name: string;
    identity: JsonMap;
    ip: string;
    agent: string;
    request: JsonMap | null;
    response?: JsonMap | null;
    additional?: JsonMap;
    readOnly: boolean;
    resources?: JsonMap[];
    eventType?: 'AwsApiCall' | 'AwsServiceEvent';
    error?: { code: string; message: string };
    region?: string;
    tlsHost?: string;
    fromConsole?: boolean;
    serviceEventDetails?: JsonMap;
    /** A story line's record: ids from the story stream, kept apart until the day's file is assembled. */
    story?: boolean;
    /** The build-environment story line's record: ids from its own stream, joined last. */
    buildEnv?: boolean;
  }): JsonMap {
    // Key order as CloudTrail writes it, so the files read like the real thing.
    const rec: JsonMap = {
      eventVersion: EVENT_VERSION[input.source] ?? '1.11',
      userIdentity: input.identity,
      eventTime: iso(input.t),
      eventSource: input.source,
      eventName: input.name,
      awsRegion: input.region ?? REGION,
      sourceIPAddress: input.ip,
      userAgent: input.agent,
    };
    if (input.error) {
      rec.errorCode = input.error.code;
      rec.errorMessage = input.error.message;
    }
    rec.requestParameters = input.request;
    rec.responseElements = input.error ? null : (input.response ?? null);
    if (input.additional) rec.additionalEventData = input.additional;
    const ids = input.buildEnv ? this.buildEnv : input.story ? this.story : this.rng;
    rec.requestID = ids.uuid();
    rec.eventID = ids.uuid();
    rec.readOnly = input.readOnly;
    if (input.resources) rec.resources = input.resources;
    rec.eventType = input.eventType ?? 'AwsApiCall';
    rec.managementEvent = true;
    rec.recipientAccountId = ACCOUNT;
    if (input.serviceEventDetails) rec.serviceEventDetails = input.serviceEventDetails;
    rec.eventCategory = 'Management';
    if (input.tlsHost) rec.tlsDetails = { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: input.tlsHost };
    if (input.fromConsole) rec.sessionCredentialFromConsole = 'true';
    (input.buildEnv ? this.buildEnvCt : input.story ? this.storyCt : this.ct).push(rec);
    return rec;
  }

  private native(t: number, detailType: string, source: string, resources: string[], detail: JsonMap): JsonMap {
    const event: JsonMap = {
      version: '0',
      id: this.rng.eventId(),
      'detail-type': detailType,
      source,
      account: ACCOUNT,
      time: iso(t),
      region: REGION,
      resources,
      detail,
    };
    this.eb.push({ t, seq: this.seq++, event });
    return event;
  }

  // ---- identities ---------------------------------------------------------------------------

  private session(key: string, t: number, maxAgeMinutes: number): Session {
    let s = this.sessions.get(key);
    if (!s) {
      s = { creation: t - this.rng.int(1, maxAgeMinutes) * MINUTE, accessKeyId: this.rng.awsId('ASIA') };
      this.sessions.set(key, s);
    }
    return s;
  }

  private roleIdentity(role: Role, sessionName: string, s: Session, mfa: boolean, invokedBy?: string): JsonMap {
    const identity: JsonMap = {
      type: 'AssumedRole',
      principalId: `${role.roleId}:${sessionName}`,
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role.name}/${sessionName}`,
      accountId: ACCOUNT,
      accessKeyId: s.accessKeyId,
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: role.roleId, arn: role.arn, accountId: ACCOUNT, userName: role.name },
        attributes: { creationDate: iso(s.creation), mfaAuthenticated: mfa ? 'true' : 'false' },
      },
    };
    if (invokedBy) identity.invokedBy = invokedBy;
    return identity;
  }

  private userIdentity(user: IamUser, accessKeyId: string | undefined): JsonMap {
    const identity: JsonMap = { type: 'IAMUser', principalId: user.principalId, arn: user.arn, accountId: ACCOUNT };
    if (accessKeyId !== undefined) identity.accessKeyId = accessKeyId;
    identity.userName = user.userName;
    return identity;
  }

  /** The identity a developer's calls carry. `git`: Git credentials/SSH for IAM users (no access key). */
  private devIdentity(dev: DevProfile, t: number, via: 'git' | 'api', invokedBy?: string): JsonMap {
    switch (dev.kind) {
      case 'iam-https':
      case 'iam-ssh': {
        const user = this.world.users[dev.key];
        if (!user) throw new Error(`no IAM user for ${dev.key}`);
        if (via === 'git') return this.userIdentity(user, dev.kind === 'iam-https' ? '' : undefined);
        return this.userIdentity(user, user.accessKeyId);
      }
      case 'sso':
        return this.roleIdentity(this.world.roles.developer, dev.login, this.session(dev.key, t, 40), false, invokedBy);
      case 'mfa-role':
        return this.roleIdentity(this.world.roles.lead, dev.login, this.session(dev.key, t, 50), true, invokedBy);
    }
  }

  /** What native events put in callerUserArn: the user ARN, or the STS assumed-role ARN. */
  private callerArn(dev: DevProfile): string {
    if (dev.kind === 'iam-https' || dev.kind === 'iam-ssh') return (this.world.users[dev.key] as IamUser).arn;
    const role = dev.kind === 'sso' ? this.world.roles.developer : this.world.roles.lead;
    return `arn:aws:sts::${ACCOUNT}:assumed-role/${role.name}/${dev.login}`;
  }

  private devIp(dev: DevProfile): string {
    return this.rng.chance(0.85) ? (dev.ips[0] as string) : this.rng.pick(dev.ips);
  }

  // ---- CodeCommit ---------------------------------------------------------------------------

  private repoResource(repo: Repo): JsonMap[] {
    return [{ ARN: repo.arn, accountId: ACCOUNT, type: 'AWS::CodeCommit::Repository' }];
  }

  /** One Git push: two GitPush records (EVENTS.md 2), a KMS call by CodeCommit, a native event per ref. */
  private gitPush(identity: JsonMap, callerUserArn: string, ip: string, agent: string, protocol: 'HTTP' | 'SSH', repo: Repo, updates: readonly RefUpdate[], t: number): { advert: JsonMap; push: JsonMap; natives: JsonMap[] } {
    const capabilities = protocol === 'SSH' ? ['report-status', 'side-band-64k', 'ofs-delta'] : ['report-status', 'side-band-64k', 'atomic'];
    const common = { ip, agent, resources: this.repoResource(repo), source: 'codecommit.amazonaws.com', name: 'GitPush' };
    const advert = this.record({
      ...common,
      t,
      identity,
      request: null,
      additional: { protocol, capabilities, dataTransferred: false, repositoryName: repo.name, repositoryId: repo.id, shallow: false },
      readOnly: true,
    });
    const t2 = t + seconds(this.rng.int(1, 4));
    const push = this.record({
      ...common,
      t: t2,
      identity,
      request: { references: updates.map((u) => ({ commit: u.commit, ref: u.ref })) },
      additional: { protocol, capabilities, dataTransferred: true, repositoryName: repo.name, repositoryId: repo.id, shallow: false },
      readOnly: false,
    });
    // CodeCommit caches data keys, so only some pushes reach KMS.
    if (this.rng.chance(0.2)) this.codecommitKms(repo, 'GenerateDataKey', t2 + seconds(this.rng.int(0, 1)));
    const natives = updates.map((u) => this.referenceEvent(repo, u, callerUserArn, t2 + seconds(this.rng.int(0, 2))));
    for (const u of updates) {
      const branch = u.ref.replace(/^refs\/heads\//, '');
      if (u.ref.startsWith('refs/heads/')) repo.branches.set(branch, u.commit);
    }
    return { advert, push, natives };
  }

  private referenceEvent(repo: Repo, u: RefUpdate, callerUserArn: string, t: number, merge?: JsonMap): JsonMap {
    const isTag = u.ref.startsWith('refs/tags/');
    const detail: JsonMap = {
      event: u.old === undefined ? 'referenceCreated' : 'referenceUpdated',
      repositoryName: repo.name,
      repositoryId: repo.id,
      referenceType: isTag ? 'tag' : 'branch',
      referenceName: u.ref.replace(/^refs\/(heads|tags)\//, ''),
      referenceFullName: u.ref,
      commitId: u.commit,
    };
    if (u.old !== undefined) detail.oldCommitId = u.old;
    if (merge) Object.assign(detail, merge);
    detail.callerUserArn = callerUserArn;
    return this.native(t, 'CodeCommit Repository State Change', 'aws.codecommit', [repo.arn], detail);
  }

  /** CodeCommit encrypts and decrypts repository data with KMS as an AWS service (noise for the engine to drop). */
  private codecommitKms(repo: Repo, name: 'Decrypt' | 'GenerateDataKey', t: number): void {
    const request: JsonMap = { encryptionContext: { 'aws:codecommit:id': repo.id } };
    if (name === 'Decrypt') request.encryptionAlgorithm = 'SYMMETRIC_DEFAULT';
    else {
      request.keyId = this.world.codecommitKeyArn;
      request.keySpec = 'AES_256';
    }
    this.record({
      t,
      source: 'kms.amazonaws.com',
      name,
      identity: { type: 'AWSService', invokedBy: 'codecommit.amazonaws.com' },
      ip: 'codecommit.amazonaws.com',
      agent: 'codecommit.amazonaws.com',
      request,
      readOnly: true,
      resources: [{ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: this.world.codecommitKeyArn }],
    });
  }

  private devPull(dev: DevProfile, t: number): void {
    const repo = this.world.repos[this.rng.chance(0.7) ? dev.primaryRepo : otherRepo(dev.primaryRepo)];
    const protocol = dev.kind === 'iam-ssh' ? 'SSH' : 'HTTP';
    const transferred = this.rng.chance(0.65);
    this.record({
      t,
      source: 'codecommit.amazonaws.com',
      name: 'GitPull',
      identity: this.devIdentity(dev, t, 'git'),
      ip: this.devIp(dev),
      agent: dev.gitAgent,
      request: null,
      additional: transferred
        ? { protocol, capabilities: ['multi_ack_detailed', 'side-band-64k', 'thin-pack', 'no-progress', 'include-tag', 'ofs-delta'], dataTransferred: true, repositoryName: repo.name, repositoryId: repo.id, shallow: false }
        : { protocol, dataTransferred: false, repositoryName: repo.name, repositoryId: repo.id },
      readOnly: true,
      resources: this.repoResource(repo),
    });
    if (transferred && this.rng.chance(0.5)) this.codecommitKms(repo, 'Decrypt', t + seconds(this.rng.int(0, 1)));
  }

  private devPush(dev: DevProfile, t: number, forced?: 'main' | 'feature', forcedRepo?: RepoName): void {
    const repoName = forcedRepo ?? (this.rng.chance(0.75) ? dev.primaryRepo : otherRepo(dev.primaryRepo));
    const repo = this.world.repos[repoName];
    const mainShare = dev.kind === 'sso' ? 0 : dev.kind === 'mfa-role' ? 0.2 : 0.35;
    const toMain = forced ? forced === 'main' : this.rng.chance(mainShare);
    const updates: RefUpdate[] = [];
    let work: WorkBranch | undefined;
    if (toMain) {
      const old = repo.branches.get('main') as string;
      updates.push({ ref: 'refs/heads/main', commit: this.rng.hex(40), old });
      if (dev.kind === 'mfa-role' && repoName === 'payments-service' && this.rng.chance(0.25)) {
        this.tagCounter += 1;
        updates.push({ ref: `refs/tags/v2.3.${this.projects[repoName].buildNumber + 1}-rc${this.tagCounter}`, commit: (updates[0] as RefUpdate).commit });
      }
    } else {
      const workKey = `${dev.key}/${repoName}`;
      work = this.workBranches.get(workKey);
      if (!work) {
        const topic = this.rng.pick(PR_TOPICS[repoName]);
        work = { name: this.newBranchName(repo, topic), topic, base: repo.branches.get('main') as string, pushes: 0 };
        this.workBranches.set(workKey, work);
      }
      const old = repo.branches.get(work.name);
      updates.push(old === undefined ? { ref: `refs/heads/${work.name}`, commit: this.rng.hex(40) } : { ref: `refs/heads/${work.name}`, commit: this.rng.hex(40), old });
      work.pushes += 1;
    }
    this.gitPush(this.devIdentity(dev, t, 'git'), this.callerArn(dev), this.devIp(dev), dev.gitAgent, dev.kind === 'iam-ssh' ? 'SSH' : 'HTTP', repo, updates, t);
    if (toMain) this.pipeline(repo, (updates[0] as RefUpdate).commit, t + seconds(this.rng.int(5, 20)));
    // Identity Center users and the lead open a pull request once a branch has a push or two.
    if (work && (dev.kind === 'sso' || dev.kind === 'mfa-role') && this.isWeekday() && (work.pushes >= 3 || (work.pushes === 2 && this.rng.chance(0.5)))) {
      const branch = work;
      this.workBranches.delete(`${dev.key}/${repoName}`);
      this.at(t + this.rng.int(2, 25) * MINUTE, (tt) => this.createPullRequest(dev, repo, branch, tt));
    }
  }

  private newBranchName(repo: Repo, topic: string): string {
    for (;;) {
      const slug = topic.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').split('-').slice(0, 4).join('-');
      const name = `${this.rng.pick(BRANCH_PREFIXES)}/${slug}-${this.rng.int(100, 999)}`;
      if (!repo.branches.has(name)) return name;
    }
  }

  private createPullRequest(dev: DevProfile, repo: Repo, work: WorkBranch, t: number): void {
    const head = repo.branches.get(work.name);
    if (head === undefined) return;
    const title = work.topic;
    const pr: PullRequest = {
      id: this.nextPrId++,
      repo: repo.name,
      author: dev,
      branch: work.name,
      title,
      description: `${title}. Tested locally; see the linked ticket.`,
      base: work.base,
      sourceCommit: head,
      destinationCommit: repo.branches.get('main') as string,
      created: t,
      revisionId: this.rng.hex(64),
      clientRequestToken: this.rng.uuid(),
      scheduled: false,
    };
    this.record({
      t,
      source: 'codecommit.amazonaws.com',
      name: 'CreatePullRequest',
      identity: this.devIdentity(dev, t, 'api'),
      ip: this.devIp(dev),
      agent: dev.browser,
      request: {
        title: pr.title,
        description: pr.description,
        targets: [{ repositoryName: repo.name, sourceReference: pr.branch, destinationReference: 'main' }],
        clientRequestToken: pr.clientRequestToken,
      },
      response: { pullRequest: this.pullRequestObject(pr, t) },
      readOnly: false,
      resources: this.repoResource(repo),
      tlsHost: `codecommit.${REGION}.amazonaws.com`,
      fromConsole: true,
    });
    this.pullRequestEvent(pr, 'pullRequestCreated', this.callerArn(dev), t + seconds(this.rng.int(0, 2)), `Event: Created. The pull request was created with the following information: Pull Request ID as ${pr.id} and title as ${pr.title}.`);
    this.openPrs.push(pr);
    const mergeAt = t + this.rng.int(40, 240) * MINUTE;
    if (this.isWeekday() && mergeAt < this.hour(17.25)) this.scheduleMerge(pr, mergeAt);
  }

  private scheduleMerge(pr: PullRequest, t: number): void {
    pr.scheduled = true;
    this.at(t, (tt) => this.mergePullRequest(pr, tt));
  }

  private pullRequestObject(pr: PullRequest, t: number, merged?: { by: string; option: string; commit: string }): JsonMap {
    return {
      pullRequestId: String(pr.id),
      title: pr.title,
      description: pr.description,
      lastActivityDate: awsTime(t),
      creationDate: awsTime(pr.created),
      pullRequestStatus: merged ? 'CLOSED' : 'OPEN',
      authorArn: this.callerArn(pr.author),
      pullRequestTargets: [
        {
          repositoryName: pr.repo,
          sourceReference: `refs/heads/${pr.branch}`,
          destinationReference: 'refs/heads/main',
          destinationCommit: pr.destinationCommit,
          sourceCommit: pr.sourceCommit,
          mergeBase: pr.base,
          mergeMetadata: merged ? { isMerged: true, mergedBy: merged.by, mergeCommitId: merged.commit, mergeOption: merged.option } : { isMerged: false },
        },
      ],
      clientRequestToken: pr.clientRequestToken,
      revisionId: pr.revisionId,
      approvalRules: [],
    };
  }

  private pullRequestEvent(pr: PullRequest, event: string, caller: string, t: number, what: string, extra?: JsonMap): void {
    const merged = event === 'pullRequestMergeStatusUpdated';
    const detail: JsonMap = {
      author: this.callerArn(pr.author),
      callerUserArn: caller,
      creationDate: javaTime(pr.created),
      description: pr.description,
      destinationCommit: pr.destinationCommit,
      destinationReference: 'refs/heads/main',
      event,
      isMerged: merged ? 'True' : 'False',
      lastModifiedDate: javaTime(t),
      notificationBody: `A pull request event occurred in the following AWS CodeCommit repository: ${pr.repo}. User: ${caller}. ${what}`,
      pullRequestId: String(pr.id),
      pullRequestStatus: merged ? 'Closed' : 'Open',
      repositoryNames: [pr.repo],
      revisionId: pr.revisionId,
      sourceCommit: pr.sourceCommit,
      sourceReference: `refs/heads/${pr.branch}`,
      title: pr.title,
    };
    if (extra) Object.assign(detail, extra);
    this.native(t, 'CodeCommit Pull Request State Change', 'aws.codecommit', [this.world.repos[pr.repo].arn], detail);
  }

  private mergePullRequest(pr: PullRequest, tm: number): void {
    const index = this.openPrs.indexOf(pr);
    if (index < 0) return;
    this.openPrs.splice(index, 1);
    const repo = this.world.repos[pr.repo];
    const reviewers = this.devs.filter((d) => d !== pr.author && (d.kind === 'sso' || d.kind === 'mfa-role'));
    const reviewer = reviewers.length > 0 ? this.rng.pick(reviewers) : pr.author;
    const caller = this.callerArn(reviewer);
    const ip = this.devIp(reviewer);
    const common = { source: 'codecommit.amazonaws.com', ip, agent: reviewer.browser, resources: this.repoResource(repo), tlsHost: `codecommit.${REGION}.amazonaws.com`, fromConsole: true };

    const oldMain = repo.branches.get('main') as string;
    const fastForward = oldMain === pr.base;
    const newMain = fastForward ? pr.sourceCommit : this.rng.hex(40);
    const option = fastForward ? 'FAST_FORWARD_MERGE' : 'THREE_WAY_MERGE';
    const merged = { by: caller, option, commit: newMain };
    this.record({
      ...common,
      t: tm,
      name: fastForward ? 'MergePullRequestByFastForward' : 'MergePullRequestByThreeWay',
      identity: this.devIdentity(reviewer, tm, 'api'),
      request: fastForward
        ? { pullRequestId: String(pr.id), repositoryName: repo.name, sourceCommitId: pr.sourceCommit }
        : { pullRequestId: String(pr.id), repositoryName: repo.name, sourceCommitId: pr.sourceCommit, conflictDetailLevel: 'LINE_LEVEL', conflictResolutionStrategy: 'AUTOMERGE', commitMessage: `Merge pull request #${pr.id}: ${pr.title}`, keepEmptyFolders: false },
      response: { pullRequest: this.pullRequestObject(pr, tm, merged) },
      readOnly: false,
    });
    const te = tm + seconds(this.rng.int(1, 3));
    const mergeFields: JsonMap | undefined = fastForward
      ? undefined
      : { baseCommitId: pr.base, sourceCommitId: pr.sourceCommit, destinationCommitId: oldMain, mergeOption: option, conflictDetailsLevel: 'LINE_LEVEL', conflictResolutionStrategy: 'AUTOMERGE' };
    repo.branches.set('main', newMain);
    this.referenceEvent(repo, { ref: 'refs/heads/main', commit: newMain, old: oldMain }, caller, te, mergeFields);
    this.pullRequestEvent(pr, 'pullRequestMergeStatusUpdated', caller, te + seconds(1), 'Event: Updated. The pull request merge status has been updated. The status is merged.', { mergeOption: option });
    this.pipeline(repo, newMain, te + seconds(this.rng.int(5, 20)));

    // Merged branches get deleted now and then.
    if (this.rng.chance(0.3)) {
      const td = te + seconds(this.rng.int(10, 90));
      const head = repo.branches.get(pr.branch) ?? pr.sourceCommit;
      this.record({ ...common, t: td, name: 'DeleteBranch', identity: this.devIdentity(reviewer, td, 'api'), request: { repositoryName: repo.name, branchName: pr.branch }, response: { deletedBranch: { branchName: pr.branch, commitId: head } }, readOnly: false });
      repo.branches.delete(pr.branch);
      const detail: JsonMap = { event: 'referenceDeleted', repositoryName: repo.name, repositoryId: repo.id, referenceType: 'branch', referenceName: pr.branch, referenceFullName: `refs/heads/${pr.branch}`, oldCommitId: head, callerUserArn: caller };
      this.native(td + seconds(1), 'CodeCommit Repository State Change', 'aws.codecommit', [repo.arn], detail);
    }
  }

  // ---- CI: CodePipeline → CodeBuild → CodeArtifact ------------------------------------------

  /** What the pipeline does on every change to main: start the build, then poll it. */
  private pipeline(repo: Repo, commit: string, t: number): void {
    const project = this.projects[repo.name];
    if (!project.exists) return;
    const sessionName = `codepipeline-${this.rng.hex(16)}`;
    const identity = this.roleIdentity(this.world.roles.orchestrator, sessionName, { creation: t, accessKeyId: this.rng.awsId('ASIA') }, false, 'codepipeline.amazonaws.com');
    const svc = { ip: 'codepipeline.amazonaws.com', agent: 'codepipeline.amazonaws.com', identity };
    const start = t + seconds(this.rng.int(15, 45));
    const build = this.runBuild({ project, start, initiator: `codepipeline/${PIPELINE_OF[repo.name]}`, sourceVersion: commit });
    this.record({ ...svc, t: start, source: 'codebuild.amazonaws.com', name: 'StartBuild', request: { projectName: project.name, sourceVersion: commit }, response: build.startResponse, readOnly: false });
    // CodePipeline polls the build; one read-only record stands for the polling.
    if (this.rng.chance(0.3)) this.record({ ...svc, t: build.end + seconds(this.rng.int(5, 30)), source: 'codebuild.amazonaws.com', name: 'BatchGetBuilds', request: { ids: [build.id] }, readOnly: true });
  }

  private runBuild(req: BuildRequest): { id: string; end: number; startResponse: JsonMap } {
    const { project, start } = req;
    const uuid = this.rng.uuid();
    const id = `${project.name}:${uuid}`;
    const arn = `arn:aws:codebuild:${REGION}:${ACCOUNT}:build/${id}`;
    project.buildNumber += 1;
    const number = project.buildNumber;
    const tampered = req.buildspecOverride !== undefined || project.buildspec !== 'buildspec.yml';
    const status = req.forceSuccess || tampered || !this.rng.chance(0.08) ? 'SUCCEEDED' : 'FAILED';
    const isPayments = project.repo === 'payments-service';
    const buildspec = req.buildspecOverride ?? project.buildspec;
    const artifactLocation = `arn:aws:s3:::${ARTIFACT_BUCKET}/${project.name}/${uuid}/${project.artifactName}`;
    const env = { image: project.image, privileged: project.privilegedMode, compute: project.computeType, vars: project.envVars.map((v) => ({ ...v })) };

    // Phase durations in seconds; the build fails in BUILD when it fails.
    const plan: [string, number][] = [
      ['SUBMITTED', 0],
      ['QUEUED', this.rng.int(0, 3)],
      ['PROVISIONING', this.rng.int(18, 45)],
      ['DOWNLOAD_SOURCE', this.rng.int(3, 11)],
      ['INSTALL', this.rng.int(20, 70)],
      ['PRE_BUILD', this.rng.int(4, 20)],
      ['BUILD', this.rng.int(isPayments ? 120 : 80, isPayments ? 340 : 220)],
      ['POST_BUILD', this.rng.int(isPayments ? 25 : 2, isPayments ? 50 : 8)],
      ['UPLOAD_ARTIFACTS', this.rng.int(1, 6)],
      ['FINALIZING', this.rng.int(2, 6)],
    ];
    const phases: JsonMap[] = [];
    const phaseStart = new Map<string, number>();
    let clock = start;
    for (const [type, duration] of plan) {
      phaseStart.set(type, clock);
      const failed = status === 'FAILED' && type === 'BUILD';
      phases.push({
        'phase-context': type === 'SUBMITTED' || type === 'QUEUED' ? [] : failed ? ['COMMAND_EXECUTION_ERROR: Error while executing command: npm test. Reason: exit status 1'] : [': '],
        'start-time': awsTime(clock),
        'end-time': awsTime(clock + seconds(duration)),
        'duration-in-seconds': duration,
        'phase-type': type,
        'phase-status': failed ? 'FAILED' : 'SUCCEEDED',
      });
      clock += seconds(duration);
    }
    const end = clock;
    phases.push({ 'start-time': awsTime(end), 'phase-type': 'COMPLETED' });

    const source: JsonMap = { buildspec, 'git-clone-depth': 1, 'insecure-ssl': false, location: this.world.repos[project.repo].cloneUrl, type: 'CODECOMMIT' };
    const environment: JsonMap = {
      image: env.image,
      'privileged-mode': env.privileged,
      'image-pull-credentials-type': 'CODEBUILD',
      'compute-type': env.compute,
      type: 'LINUX_CONTAINER',
      'environment-variables': env.vars.map((v) => ({ name: v.name, type: v.type, value: v.value })),
    };
    const md5 = this.rng.hex(32);
    const sha256 = this.rng.hex(64);
    const info = (done: boolean): JsonMap => {
      const ai: JsonMap = {
        cache: { type: 'NO_CACHE' },
        'build-number': number,
        'timeout-in-minutes': project.timeoutInMinutes,
        'build-complete': done,
        initiator: req.initiator,
        'build-start-time': awsTime(start),
        source,
        'source-version': req.sourceVersion,
        // Hashes only once a ZIP has been uploaded (EVENTS.md 4.1).
        artifact: done && status === 'SUCCEEDED' ? { md5sum: md5, sha256sum: sha256, location: artifactLocation } : { location: artifactLocation },
        environment,
        logs: done
          ? { 'group-name': `/aws/codebuild/${project.name}`, 'stream-name': uuid, 'deep-link': `https://console.aws.amazon.com/cloudwatch/home?region=${REGION}#logEvent:group=/aws/codebuild/${project.name};stream=${uuid}` }
          : { 'deep-link': `https://console.aws.amazon.com/cloudwatch/home?region=${REGION}#logEvent:group=null;stream=null` },
      };
      if (done) ai.phases = phases;
      ai['queued-timeout-in-minutes'] = 480;
      return ai;
    };
    const stateEvent = (t: number, buildStatus: string, done: boolean): void => {
      this.native(t, 'CodeBuild Build State Change', 'aws.codebuild', [arn], {
        'build-status': buildStatus,
        'project-name': project.name,
        'build-id': arn,
        'additional-information': info(done),
        'current-phase': done ? 'COMPLETED' : 'SUBMITTED',
        'current-phase-context': done ? '[: ]' : '[]',
        version: '1',
      });
    };
    stateEvent(start + seconds(this.rng.int(1, 2)), 'IN_PROGRESS', false);

    // The build's own AWS calls run under the service role, session AWSCodeBuild-<build uuid>.
    const roleKey: RoleKey = isPayments ? 'paymentsBuild' : 'webBuild';
    const buildSession: Session = { creation: phaseStart.get('DOWNLOAD_SOURCE') as number, accessKeyId: this.rng.awsId('ASIA') };
    const buildIdentity = this.roleIdentity(this.world.roles[roleKey], `AWSCodeBuild-${uuid}`, buildSession, false);
    const fromBuild = (command: string): { identity: JsonMap; ip: string; agent: string } => ({ identity: buildIdentity, ip: CODEBUILD_NAT_IP, agent: `${CLI_CODEBUILD} command/${command}` });

    if (!isPayments && this.rng.chance(0.4)) {
      // web-frontend installs npm packages through npm-store when its dependency cache misses.
      const ti = (phaseStart.get('INSTALL') as number) + seconds(this.rng.int(2, 6));
      this.authorizationToken(fromBuild('codeartifact.get-authorization-token'), ti);
      this.npmReads(buildIdentity, ti + seconds(this.rng.int(3, 8)));
    }

    if (isPayments && status === 'SUCCEEDED') {
      let tp = (phaseStart.get('POST_BUILD') as number) + seconds(this.rng.int(2, 5));
      this.record({
        ...fromBuild('kms.sign'),
        t: tp,
        source: 'kms.amazonaws.com',
        name: 'Sign',
        request: { keyId: 'alias/release-signing', messageType: 'DIGEST', signingAlgorithm: 'RSASSA_PSS_SHA_256' },
        readOnly: true,
        resources: [{ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: SIGNING_KEY_ARN }],
        tlsHost: `kms.${REGION}.amazonaws.com`,
      });
      tp += seconds(this.rng.int(2, 6));
      this.authorizationToken(fromBuild('codeartifact.get-authorization-token'), tp);
      tp += seconds(this.rng.int(3, 9));
      // A tampered build publishes a file other than the one CodeBuild hashed: the Q7 mismatch.
      this.publish(fromBuild('codeartifact.publish-package-version'), tp, `2.3.${number}`, tampered ? { md5: this.rng.hex(32), sha256: this.rng.hex(64) } : { md5, sha256 }, tampered);
    }

    stateEvent(end + seconds(this.rng.int(1, 3)), status, true);

    const startResponse: JsonMap = {
      build: {
        id,
        arn,
        buildNumber: number,
        startTime: awsTime(start),
        currentPhase: 'QUEUED',
        buildStatus: 'IN_PROGRESS',
        sourceVersion: req.sourceVersion,
        projectName: project.name,
        source: { type: 'CODECOMMIT', location: this.world.repos[project.repo].cloneUrl, gitCloneDepth: 1, buildspec, insecureSsl: false },
        artifacts: { location: artifactLocation },
        environment: { type: 'LINUX_CONTAINER', image: env.image, computeType: env.compute, environmentVariables: env.vars.map((v) => ({ name: v.name, value: v.value, type: v.type })), privilegedMode: env.privileged, imagePullCredentialsType: 'CODEBUILD' },
        serviceRole: project.serviceRole,
        timeoutInMinutes: project.timeoutInMinutes,
        queuedTimeoutInMinutes: 480,
        buildComplete: false,
        initiator: req.initiator,
        encryptionKey: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/aws/s3`,
      },
    };
    return { id, end, startResponse };
  }

  private authorizationToken(caller: { identity: JsonMap; ip: string; agent: string }, t: number, error?: { code: string; message: string }): JsonMap {
    return this.record({
      ...caller,
      t,
      source: 'codeartifact.amazonaws.com',
      name: 'GetAuthorizationToken',
      request: { domainName: CA_DOMAIN, domainOwner: ACCOUNT, durationSeconds: 900 },
      response: { sessionToken: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
      readOnly: false,
      tlsHost: `codeartifact.${REGION}.amazonaws.com`,
      ...(error ? { error } : {}),
    });
  }

  private publish(caller: { identity: JsonMap; ip: string; agent: string }, t: number, version: string, hashes: { md5: string; sha256: string }, tampered: boolean): void {
    const revision = this.rng.base64(32);
    const size = this.rng.int(1_800_000, 2_600_000) + (tampered ? 48_213 : 0);
    this.record({
      ...caller,
      t,
      source: 'codeartifact.amazonaws.com',
      name: 'PublishPackageVersion',
      request: { domain: CA_DOMAIN, domainOwner: ACCOUNT, repository: CA_RELEASES, format: 'generic', namespace: PKG_NAMESPACE, package: PKG_NAME, packageVersion: version, assetName: 'payments-service.zip', assetSHA256: hashes.sha256, unfinished: false },
      response: {
        format: 'generic',
        namespace: PKG_NAMESPACE,
        package: PKG_NAME,
        version,
        versionRevision: revision,
        status: 'Published',
        asset: { name: 'payments-service.zip', size, hashes: { MD5: hashes.md5, 'SHA-1': this.rng.hex(40), 'SHA-256': hashes.sha256, 'SHA-512': this.rng.hex(128) } },
      },
      readOnly: false,
      tlsHost: `codeartifact.${REGION}.amazonaws.com`,
    });
    this.packageSequence += this.rng.int(1, 2);
    this.native(t + seconds(this.rng.int(1, 3)), 'CodeArtifact Package Version State Change', 'aws.codeartifact', [PKG_ARN], {
      domainName: CA_DOMAIN,
      domainOwner: ACCOUNT,
      repositoryName: CA_RELEASES,
      repositoryAdministrator: ACCOUNT,
      packageFormat: 'generic',
      packageNamespace: PKG_NAMESPACE,
      packageName: PKG_NAME,
      packageVersion: version,
      packageVersionState: 'Published',
      packageVersionRevision: revision,
      changes: { assetsAdded: 1, assetsRemoved: 0, metadataUpdated: true, assetsUpdated: 0, statusChanged: true },
      operationType: 'Created',
      sequenceNumber: this.packageSequence,
      eventDeduplicationId: this.rng.base64(32),
    });
  }

  /** npm downloads through npm-store (read-only), and now and then an upstream version retained: not a pipeline output. */
  private npmReads(identity: JsonMap, t: number): void {
    const packages: [string | null, string, string][] = [
      [null, 'react', '18.3.1'],
      [null, 'next', '14.2.15'],
      ['types', 'node', '20.16.10'],
      [null, 'zod', '3.23.8'],
      [null, 'date-fns', '3.6.0'],
      ['tanstack', 'react-query', '5.59.0'],
    ];
    for (let i = this.rng.int(1, 2); i > 0; i--) {
      const [ns, name, version] = this.rng.pick(packages);
      const full = ns ? `@${ns}/${name}` : name;
      this.record({
        t: t + seconds(i),
        identity,
        ip: CODEBUILD_NAT_IP,
        agent: 'npm/10.8.2 node/v20.17.0 linux x64 workspaces/false ci/custom',
        source: 'codeartifact.amazonaws.com',
        name: 'ReadFromRepository',
        request: { domainName: CA_DOMAIN, domainOwner: ACCOUNT, repositoryName: CA_NPM, packageName: name, packageNamespace: ns, packageFormat: 'npm', packageVersion: version },
        additional: { httpMethod: 'GET', requestUri: `/npm/${CA_NPM}/${full}/-/${name}-${version}.tgz` },
        readOnly: true,
      });
    }
    if (this.rng.chance(0.2)) {
      const [ns, name] = this.rng.pick(packages);
      const version = `${this.rng.int(1, 9)}.${this.rng.int(0, 30)}.${this.rng.int(0, 20)}`;
      this.native(t + seconds(this.rng.int(2, 6)), 'CodeArtifact Package Version State Change', 'aws.codeartifact', [`arn:aws:codeartifact:${REGION}:${ACCOUNT}:package/${CA_DOMAIN}/${CA_NPM}/npm/${ns ?? ''}/${name}`], {
        domainName: CA_DOMAIN,
        domainOwner: ACCOUNT,
        repositoryName: CA_NPM,
        repositoryAdministrator: ACCOUNT,
        packageFormat: 'npm',
        packageNamespace: ns,
        packageName: name,
        packageVersion: version,
        packageVersionState: 'Published',
        packageVersionRevision: this.rng.base64(32),
        changes: { assetsAdded: 1, assetsRemoved: 0, metadataUpdated: true, assetsUpdated: 0, statusChanged: true },
        operationType: 'Created',
        sequenceNumber: 1,
        eventDeduplicationId: this.rng.base64(32),
      });
    }
  }

  // ---- CodeBuild project snapshots ----------------------------------------------------------

  private projectInput(p: ProjectConfig): JsonMap {
    return {
      name: p.name,
      description: p.description,
      source: { type: 'CODECOMMIT', location: this.world.repos[p.repo].cloneUrl, gitCloneDepth: 1, buildspec: p.buildspec, insecureSsl: false },
      artifacts: { type: 'S3', location: ARTIFACT_BUCKET, path: p.name, namespaceType: 'BUILD_ID', name: p.artifactName, packaging: 'ZIP', encryptionDisabled: false },
      environment: { type: 'LINUX_CONTAINER', image: p.image, computeType: p.computeType, environmentVariables: p.envVars.map((v) => ({ name: v.name, value: v.value, type: v.type })), privilegedMode: p.privilegedMode, imagePullCredentialsType: 'CODEBUILD' },
      serviceRole: p.serviceRole,
      timeoutInMinutes: p.timeoutInMinutes,
      queuedTimeoutInMinutes: 480,
      logsConfig: { cloudWatchLogs: { status: 'ENABLED' }, s3Logs: { status: 'DISABLED', encryptionDisabled: false } },
    };
  }

  private projectOutput(p: ProjectConfig): JsonMap {
    return {
      project: {
        ...this.projectInput(p),
        arn: `arn:aws:codebuild:${REGION}:${ACCOUNT}:project/${p.name}`,
        secondarySources: [],
        secondarySourceVersions: [],
        secondaryArtifacts: [],
        cache: { type: 'NO_CACHE' },
        encryptionKey: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/aws/s3`,
        created: awsTime(p.created),
        lastModified: awsTime(p.lastModified),
        badge: { badgeEnabled: false },
        projectVisibility: 'PRIVATE',
      },
    };
  }

  private updateProject(identity: JsonMap, ip: string, agent: string, t: number, p: ProjectConfig, request: JsonMap, fromConsole = false): JsonMap {
    p.lastModified = t;
    return this.record({ t, source: 'codebuild.amazonaws.com', name: 'UpdateProject', identity, ip, agent, request, response: this.projectOutput(p), readOnly: false, tlsHost: `codebuild.${REGION}.amazonaws.com`, fromConsole });
  }

  // ---- scenario: ordinary admin work --------------------------------------------------------

  private adminIdentity(t: number, invokedBy?: string): JsonMap {
    return this.roleIdentity(this.world.roles.admin, 'priya.nair@acme.example', this.session('priya', t, 30), false, invokedBy);
  }

  /** Day 2: the platform admin deploys the web-frontend CI stack; CloudFormation creates the project with her session. */
  private createWebProject(t: number): void {
    this.record({
      t,
      source: 'cloudformation.amazonaws.com',
      name: 'CreateStack',
      identity: this.adminIdentity(t),
      ip: '203.0.113.25',
      agent: `${CLI_MAC} command/cloudformation.deploy`,
      request: { stackName: 'web-frontend-ci', templateURL: `https://s3.${REGION}.amazonaws.com/acme-cfn-templates/web-frontend-ci/template.yaml`, capabilities: ['CAPABILITY_NAMED_IAM'], tags: [{ key: 'team', value: 'web' }] },
      response: { stackId: this.world.stackId },
      readOnly: false,
      tlsHost: `cloudformation.${REGION}.amazonaws.com`,
    });
    const tc = t + seconds(this.rng.int(40, 90));
    const p = this.projects['web-frontend'];
    p.exists = true;
    p.created = tc;
    p.lastModified = tc;
    this.record({
      t: tc,
      source: 'codebuild.amazonaws.com',
      name: 'CreateProject',
      identity: this.adminIdentity(tc, 'cloudformation.amazonaws.com'),
      ip: 'cloudformation.amazonaws.com',
      agent: 'cloudformation.amazonaws.com',
      request: { ...this.projectInput(p), tags: [{ key: 'aws:cloudformation:stack-name', value: 'web-frontend-ci' }, { key: 'team', value: 'web' }] },
      response: this.projectOutput(p),
      readOnly: false,
    });
  }

  /**
   * Day 5: the lead gives the payments build more time and a better description (ordinary drift).
   * Made in the console, which sends the whole project (EVENTS.md 4.2): the full baseline later diffs need.
   */
  private leadUpdatesProject(t: number): void {
    const lead = ROSTER[2] as DevProfile;
    const p = this.projects['payments-service'];
    p.description = 'Builds, tests, signs and packages payments-service (Node 20)';
    p.timeoutInMinutes = 45;
    this.updateProject(this.devIdentity(lead, t, 'api'), this.devIp(lead), lead.browser, t, p, this.projectInput(p), true);
  }

  /** Day 9: a developer tries to change the web build image and is refused. */
  private deniedUpdateProject(t: number): void {
    const dev = ROSTER[4] as DevProfile;
    const role = this.world.roles.developer;
    this.record({
      t,
      source: 'codebuild.amazonaws.com',
      name: 'UpdateProject',
      identity: this.devIdentity(dev, t, 'api'),
      ip: this.devIp(dev),
      agent: dev.browser,
      request: { name: 'web-frontend-build', environment: { type: 'LINUX_CONTAINER', image: 'aws/codebuild/standard:8.0', computeType: 'BUILD_GENERAL1_SMALL' } },
      readOnly: false,
      error: {
        code: 'AccessDeniedException',
        message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/${role.name}/${dev.login} is not authorized to perform: codebuild:UpdateProject on resource: arn:aws:codebuild:${REGION}:${ACCOUNT}:project/web-frontend-build because no identity-based policy allows the codebuild:UpdateProject action`,
      },
      tlsHost: `codebuild.${REGION}.amazonaws.com`,
      fromConsole: true,
    });
  }

  /** Day 12: yearly automatic rotation of the artifacts bucket key (symmetric; the asymmetric signing key cannot rotate). */
  private keyRotation(t: number): void {
    const arn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${this.world.artifactsKeyId}`;
    this.record({
      t,
      source: 'kms.amazonaws.com',
      name: 'RotateKey',
      identity: { accountId: ACCOUNT, invokedBy: 'kms.amazonaws.com' },
      ip: 'kms.amazonaws.com',
      agent: 'kms.amazonaws.com',
      request: null,
      additional: { keyId: arn },
      readOnly: false,
      resources: [{ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: arn }],
      eventType: 'AwsServiceEvent',
      serviceEventDetails: { keyOrigin: 'AWS_KMS', keyRotationMode: 'AUTOMATIC' },
    });
    this.native(t + seconds(this.rng.int(1, 20)), 'KMS CMK Rotation', 'aws.kms', [arn], {
      'key-id': this.world.artifactsKeyId,
      'key-origin': 'AWS_KMS',
      'rotation-type': 'AUTOMATIC',
      'previous-key-material-id': this.rng.hex(64),
      'current-key-material-id': this.rng.hex(64),
    });
  }

  /** Day 15: a developer without CodeArtifact rights tries to get a token (a failed call: no accessor). */
  private deniedAuthToken(t: number): void {
    const dev = ROSTER[0] as DevProfile;
    const user = this.world.users[dev.key] as IamUser;
    this.authorizationToken({ identity: this.devIdentity(dev, t, 'api'), ip: this.devIp(dev), agent: `${dev.cli} command/codeartifact.login` }, t, {
      code: 'AccessDenied',
      message: `User: ${user.arn} is not authorized to perform: codeartifact:GetAuthorizationToken on resource: arn:aws:codeartifact:${REGION}:${ACCOUNT}:domain/${CA_DOMAIN} because no identity-based policy allows the codeartifact:GetAuthorizationToken action`,
    });
  }

  // ---- scenario: the attack -----------------------------------------------------------------

  private attacker(): IamUser {
    return this.world.users[ATTACKER_USER] as IamUser;
  }

  /** The attacker's long-term key from a VPS; CLI v1 user agents do not name the command. */
  private attackerApi(): { identity: JsonMap; ip: string; agent: string } {
    const user = this.attacker();
    return { identity: this.userIdentity(user, user.accessKeyId), ip: ATTACKER_IP_API, agent: CLI_ATTACKER };
  }

  /** Day 23, Friday night: a forgotten deploy user pushes over SSH straight to payments-service main. */
  private attackPush(t: number): void {
    const repo = this.world.repos['payments-service'];
    const user = this.attacker();
    const old = repo.branches.get('main') as string;
    const commit = this.rng.hex(40);
    this.gitPush(this.userIdentity(user, undefined), user.arn, ATTACKER_IP_SSH, 'SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.11', 'SSH', repo, [{ ref: 'refs/heads/main', commit, old }], t);
    this.pipeline(repo, commit, t + seconds(this.rng.int(5, 20)));
  }

  /** Day 24, early Saturday: reconnaissance, the build project rewritten, and a build started with an override. */
  private attackBuild(t: number): void {
    const p = this.projects['payments-service'];
    this.authorizationToken(this.attackerApi(), t);
    let tt = t + this.rng.int(2, 4) * MINUTE;
    this.record({ ...this.attackerApi(), t: tt, source: 'codebuild.amazonaws.com', name: 'BatchGetProjects', request: { names: [p.name] }, readOnly: true, tlsHost: `codebuild.${REGION}.amazonaws.com` });
    tt += this.rng.int(2, 5) * MINUTE;
    const inline = PAYMENTS_BUILDSPEC_INLINE(MALICIOUS_URL);
    p.buildspec = inline;
    p.privilegedMode = true;
    p.envVars = [...p.envVars, { name: 'BUILD_TELEMETRY_KEY', type: 'PLAINTEXT', value: this.world.attackerKey }];
    const api = this.attackerApi();
    this.updateProject(api.identity, api.ip, api.agent, tt, p, {
      name: p.name,
      source: { type: 'CODECOMMIT', location: this.world.repos['payments-service'].cloneUrl, buildspec: inline },
      environment: { type: 'LINUX_CONTAINER', image: p.image, computeType: p.computeType, privilegedMode: true, environmentVariables: p.envVars.map((v) => ({ name: v.name, value: v.value, type: v.type })) },
    });
    tt += this.rng.int(1, 3) * MINUTE;
    const commit = this.world.repos['payments-service'].branches.get('main') as string;
    const override = `${inline}# run ${this.rng.hex(8)}\n`;
    const build = this.runBuild({ project: p, start: tt, initiator: ATTACKER_USER, sourceVersion: commit, buildspecOverride: override, forceSuccess: true });
    this.record({ ...this.attackerApi(), t: tt, source: 'codebuild.amazonaws.com', name: 'StartBuild', request: { projectName: p.name, sourceVersion: commit, buildspecOverride: override }, response: build.startResponse, readOnly: false, tlsHost: `codebuild.${REGION}.amazonaws.com` });
  }

  /** Day 25, early Sunday: blind the trail. The user's own attempt fails; the role it assumes succeeds. */
  private attackTamper(t: number): void {
    const user = this.attacker();
    const denied = (action: string): string => `User: ${user.arn} is not authorized to perform: cloudtrail:${action} on resource: ${TRAIL_ARN} because no identity-based policy allows the cloudtrail:${action} action`;
    const tls = `cloudtrail.${REGION}.amazonaws.com`;
    this.record({ ...this.attackerApi(), t, source: 'cloudtrail.amazonaws.com', name: 'StopLogging', request: { name: TRAIL_ARN }, readOnly: false, error: { code: 'AccessDenied', message: denied('StopLogging') }, tlsHost: tls });

    let tt = t + this.rng.int(60, 150) * 1000;
    const role = this.world.roles.attacker;
    const session: Session = { creation: tt, accessKeyId: this.rng.awsId('ASIA') };
    this.maintSession = session;
    this.record({
      ...this.attackerApi(),
      t: tt,
      source: 'sts.amazonaws.com',
      name: 'AssumeRole',
      request: { roleArn: role.arn, roleSessionName: ATTACKER_SESSION, durationSeconds: 3600 },
      response: {
        credentials: { accessKeyId: session.accessKeyId, expiration: awsTime(tt + HOUR) },
        assumedRoleUser: { assumedRoleId: `${role.roleId}:${ATTACKER_SESSION}`, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role.name}/${ATTACKER_SESSION}` },
      },
      readOnly: true,
      resources: [{ accountId: ACCOUNT, type: 'AWS::IAM::Role', ARN: role.arn }],
      tlsHost: `sts.${REGION}.amazonaws.com`,
    });
    const maint = (): { identity: JsonMap; ip: string; agent: string } => ({ identity: this.roleIdentity(role, ATTACKER_SESSION, session, false), ip: ATTACKER_IP_API, agent: CLI_ATTACKER });
    tt += this.rng.int(30, 80) * 1000;
    this.record({ ...maint(), t: tt, source: 'cloudtrail.amazonaws.com', name: 'DescribeTrails', request: { trailNameList: [], includeShadowTrails: true }, readOnly: true, tlsHost: tls });
    tt += this.rng.int(20, 60) * 1000;
    this.record({ ...maint(), t: tt, source: 'cloudtrail.amazonaws.com', name: 'StopLogging', request: { name: TRAIL_ARN }, readOnly: false, resources: [{ accountId: ACCOUNT, type: 'AWS::CloudTrail::Trail', ARN: TRAIL_ARN }], tlsHost: tls });
    tt += this.rng.int(20, 60) * 1000;
    const selectors: Json = [{ readWriteType: 'All', includeManagementEvents: false, dataResources: [], excludeManagementEventSources: [] }];
    this.record({ ...maint(), t: tt, source: 'cloudtrail.amazonaws.com', name: 'PutEventSelectors', request: { trailName: TRAIL_NAME, eventSelectors: selectors }, response: { trailARN: TRAIL_ARN, eventSelectors: selectors }, readOnly: false, resources: [{ accountId: ACCOUNT, type: 'AWS::CloudTrail::Trail', ARN: TRAIL_ARN }], tlsHost: tls });
  }

  /** Day 26, Monday: the lead restores logging, reverts the project and disables the deploy user's key. */
  private remediate(t: number): void {
    const lead = ROSTER[2] as DevProfile;
    const ip = lead.ips[0] as string;
    const as = (command: string): { identity: JsonMap; ip: string; agent: string } => ({ identity: this.devIdentity(lead, t, 'api'), ip, agent: `${lead.cli} command/${command}` });
    const tls = `cloudtrail.${REGION}.amazonaws.com`;
    let tt = t;
    this.record({ ...as('cloudtrail.start-logging'), t: tt, source: 'cloudtrail.amazonaws.com', name: 'StartLogging', request: { name: TRAIL_ARN }, readOnly: false, resources: [{ accountId: ACCOUNT, type: 'AWS::CloudTrail::Trail', ARN: TRAIL_ARN }], tlsHost: tls });
    tt += this.rng.int(60, 140) * 1000;
    const selectors: Json = [{ readWriteType: 'All', includeManagementEvents: true, dataResources: [], excludeManagementEventSources: [] }];
    this.record({ ...as('cloudtrail.put-event-selectors'), t: tt, source: 'cloudtrail.amazonaws.com', name: 'PutEventSelectors', request: { trailName: TRAIL_NAME, eventSelectors: selectors }, response: { trailARN: TRAIL_ARN, eventSelectors: selectors }, readOnly: false, resources: [{ accountId: ACCOUNT, type: 'AWS::CloudTrail::Trail', ARN: TRAIL_ARN }], tlsHost: tls });
    tt += this.rng.int(3, 6) * MINUTE;
    const p = this.projects['payments-service'];
    p.buildspec = 'buildspec.yml';
    p.privilegedMode = false;
    p.envVars = p.envVars.filter((v) => v.name !== 'BUILD_TELEMETRY_KEY');
    const api = as('codebuild.update-project');
    this.updateProject(api.identity, api.ip, api.agent, tt, p, {
      name: p.name,
      source: { type: 'CODECOMMIT', location: this.world.repos['payments-service'].cloneUrl, buildspec: 'buildspec.yml' },
      environment: { type: 'LINUX_CONTAINER', image: p.image, computeType: p.computeType, privilegedMode: false, environmentVariables: p.envVars.map((v) => ({ name: v.name, value: v.value, type: v.type })) },
    });
    tt += this.rng.int(2, 5) * MINUTE;
    this.record({ ...as('iam.update-access-key'), t: tt, source: 'iam.amazonaws.com', name: 'UpdateAccessKey', region: 'us-east-1', request: { userName: ATTACKER_USER, accessKeyId: this.attacker().accessKeyId, status: 'Inactive' }, readOnly: false, tlsHost: 'iam.amazonaws.com' });
  }

  // ---- story lines (their own random stream: see `story`) -----------------------------------
  //
  // Every value below is fixed or drawn from `this.story`, and the records go through
  // `record({ story: true })`: nothing here may call `this.rng`, `this.session()` or `this.devIp()`,
  // or the original history would shift.

  private planStoryLines(): void {
    const at = (hours: number, jitterSeconds: number, run: (t: number) => void): void => this.at(this.hour(hours) + this.story.int(0, jitterSeconds) * 1000, run);
    switch (this.dayIndex) {
      case STORY_DAY.setupMonitorAndReview:
        at(8, 40, (t) => this.deployMonitor(t));
        at(10.2, 600, (t) => this.createApprovalTemplate(t));
        break;
      case STORY_DAY.scannerTrigger:
        at(11.3, 600, (t) => this.putScannerTrigger(t));
        break;
      case STORY_DAY.releasesPolicy:
        at(10.5, 900, (t) => this.putReleasesPolicy(t));
        break;
      case STORY_DAY.pipelineStack:
        at(11.05, 300, (t) => this.updatePipelineStack(t));
        break;
      case STORY_DAY.deniedOverride:
        if (this.devs.some((d) => d.key === 'daniel')) at(14.5, 900, (t) => this.deniedOverride(t));
        break;
      default:
        break;
    }
    if (!this.attack) return;
    switch (this.dayIndex) {
      case STORY_DAY.dependencyConfusion:
        at(1.5, 40, (t) => this.dependencyConfusion(t));
        at(1.5 + 5 / 60, 40, (t) => this.grantPartnerRead(t));
        break;
      case STORY_DAY.monitorTamper:
        at(2.5, 20, (t) => this.deniedMonitorAlias(t));
        at(2.5 + 1 / 60, 30, (t) => this.disableMonitorRule(t));
        at(2.5 + 3 / 60, 30, (t) => this.purgeDetectQueue(t));
        at(2 + 40 / 60, 30, (t) => this.removeSourceProtections(t));
        at(2.75, 30, (t) => this.openSigningKey(t));
        break;
      case STORY_DAY.restore:
        at(9.75, 60, (t) => this.restoreMonitorRule(t));
        break;
      case STORY_DAY.partnerToken:
        at(10 + 5 / 60, 60, (t) => this.partnerToken(t));
        break;
      default:
        break;
    }
  }

  // ---- the build-environment story line (its own stream: see BUILD_ENV_SEED_SALT) ------------

  private planBuildEnvironment(): void {
    const at = (hours: number, jitterSeconds: number, run: (t: number) => void): void => this.at(this.hour(hours) + this.buildEnv.int(0, jitterSeconds) * 1000, run);
    if ((BUILD_ENV_DAY.patchRunners as readonly number[]).includes(this.dayIndex)) at(3, 120, (t) => this.patchRunners(t));
    if ((BUILD_ENV_DAY.pushBuildImage as readonly number[]).includes(this.dayIndex)) at(5.5, 900, (t) => this.pushBuildImage(t, 'pipeline'));
    // The laptop retag and the session are part of the attack: a history without it has only the routine.
    if (this.attack && this.dayIndex === BUILD_ENV_DAY.laptopRetagAndSession) {
      at(22 + 41 / 60, 30, (t) => this.pushBuildImage(t, 'laptop'));
      at(22 + 53 / 60, 30, (t) => this.sessionOntoRunner(t));
    }
  }

  /** The day's build-environment records, slipped in after the story lines with their own stream. */
  private withBuildEnvRecords(records: JsonMap[]): JsonMap[] {
    for (const rec of this.buildEnvCt) records.splice(this.buildEnv.int(0, records.length), 0, rec);
    return records;
  }

  /** A session of the day: the original history's if it made one (reading draws nothing), else one from this stream. */
  private buildEnvSession(key: string, t: number, maxAgeMinutes: number): Session {
    const existing = this.sessions.get(key) ?? this.storySessions.get(key);
    if (existing && existing.creation <= t) return existing;
    let s = this.buildEnvSessions.get(key);
    if (!s) {
      s = { creation: t - this.buildEnv.int(1, maxAgeMinutes) * MINUTE, accessKeyId: this.buildEnv.awsId('ASIA') };
      this.buildEnvSessions.set(key, s);
    }
    return s;
  }

  /** Sundays 03:00: the maintenance window patches the runners, targeted by their Auto Scaling group. */
  private patchRunners(t: number): void {
    const commandId = this.buildEnv.uuid();
    const targets = [{ key: `tag:aws:autoscaling:groupName`, values: [RUNNER_ASG] }];
    this.record({
      t,
      source: 'ssm.amazonaws.com',
      name: 'SendCommand',
      identity: this.roleIdentity(this.buildEnvRoles.patch, `mw-${this.buildEnv.hex(8)}`, this.buildEnvSession('patch', t, 1), false, 'ssm.amazonaws.com'),
      ip: 'ssm.amazonaws.com',
      agent: 'ssm.amazonaws.com',
      request: { documentName: 'AWS-RunPatchBaseline', targets, parameters: 'HIDDEN_DUE_TO_SECURITY_REASONS', maxConcurrency: '50%', maxErrors: '25%', timeoutSeconds: 3600, interactive: false },
      response: {
        command: {
          commandId,
          documentName: 'AWS-RunPatchBaseline',
          documentVersion: '$DEFAULT',
          instanceIds: [],
          targets,
          requestedDateTime: `${iso(t).slice(0, 19)}.000Z`,
          status: 'Pending',
          maxConcurrency: '50%',
          maxErrors: '25%',
          timeoutSeconds: 3600,
          interactive: false,
        },
      },
      readOnly: false,
      tlsHost: `ssm.${REGION}.amazonaws.com`,
      buildEnv: true,
    });
  }

  /**
   * The build image's `stable` tag moves to a new digest: weekly by the image pipeline (CodeBuild,
   * from the NAT address), and on day 20 from Daniel's laptop (Docker Desktop on macOS, his home address).
   */
  private pushBuildImage(t: number, by: 'pipeline' | 'laptop'): void {
    const daniel = ROSTER[4] as DevProfile;
    const who =
      by === 'pipeline'
        ? { identity: this.roleIdentity(this.buildEnvRoles.pipeline, `AWSCodeBuild-${this.buildEnv.uuid()}`, this.buildEnvSession('image-pipeline', t, 20), false), ip: CODEBUILD_NAT_IP, agent: DOCKER_LINUX }
        : { identity: this.roleIdentity(this.world.roles.developer, daniel.login, this.buildEnvSession(daniel.key, t, 25), false), ip: daniel.ips[1] as string, agent: DOCKER_MAC };
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: this.buildEnv.int(6000, 9000), digest: `sha256:${this.buildEnv.hex(64)}` },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: this.buildEnv.int(30_000_000, 90_000_000), digest: `sha256:${this.buildEnv.hex(64)}` }],
    });
    this.record({
      t,
      source: 'ecr.amazonaws.com',
      name: 'PutImage',
      ...who,
      request: { repositoryName: BUILD_IMAGE_REPOSITORY, imageTag: BUILD_IMAGE_TAG, registryId: ACCOUNT, imageManifest: manifest },
      response: { image: { repositoryName: BUILD_IMAGE_REPOSITORY, imageManifest: manifest, registryId: ACCOUNT, imageId: { imageDigest: `sha256:${this.buildEnv.hex(64)}`, imageTag: BUILD_IMAGE_TAG } } },
      readOnly: false,
      resources: [{ accountId: ACCOUNT, ARN: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${BUILD_IMAGE_REPOSITORY}` }],
      tlsHost: `api.ecr.${REGION}.amazonaws.com`,
      buildEnv: true,
    });
  }

  /** Day 20, 22:53: from the same laptop, a Session Manager session onto a runner (named by instance id only). */
  private sessionOntoRunner(t: number): void {
    const daniel = ROSTER[4] as DevProfile;
    const sessionId = `${daniel.login}-${this.buildEnv.hex(17)}`;
    this.record({
      t,
      source: 'ssm.amazonaws.com',
      name: 'StartSession',
      identity: this.roleIdentity(this.world.roles.developer, daniel.login, this.buildEnvSession(daniel.key, t, 25), false),
      ip: daniel.ips[1] as string,
      agent: `${daniel.cli} command/ssm.start-session`,
      request: { target: RUNNER_INSTANCE },
      response: {
        sessionId,
        tokenValue: 'Value hidden due to security reasons.',
        streamUrl: `wss://ssmmessages.${REGION}.amazonaws.com/v1/data-channel/${sessionId}?role=publish_subscribe&cell-number=AAEAAQ`,
      },
      readOnly: false,
      tlsHost: `ssm.${REGION}.amazonaws.com`,
      buildEnv: true,
    });
  }

  /** The day's story records, each slipped in at a random place of the shuffled file. */
  private withStoryRecords(records: JsonMap[]): JsonMap[] {
    for (const rec of this.storyCt) records.splice(this.story.int(0, records.length), 0, rec);
    return records;
  }

  /** The person's session of the day if the original history made one (reading it draws nothing), else a story session. */
  private storySession(key: string, t: number, maxAgeMinutes: number): Session {
    const existing = this.sessions.get(key);
    if (existing && existing.creation <= t) return existing;
    let s = this.storySessions.get(key);
    if (!s) {
      s = { creation: t - this.story.int(1, maxAgeMinutes) * MINUTE, accessKeyId: this.story.awsId('ASIA') };
      this.storySessions.set(key, s);
    }
    return s;
  }

  private storyLead(t: number, command: string): { identity: JsonMap; ip: string; agent: string } {
    const lead = ROSTER[2] as DevProfile;
    return { identity: this.roleIdentity(this.world.roles.lead, lead.login, this.storySession(lead.key, t, 50), true), ip: lead.ips[0] as string, agent: `${lead.cli} command/${command}` };
  }

  private storyAdmin(t: number, invokedBy?: string): JsonMap {
    return this.roleIdentity(this.world.roles.admin, 'priya.nair@acme.example', this.storySession('priya', t, 30), false, invokedBy);
  }

  /** CloudFormation acting with the CDK bootstrap's execution role. */
  private cfnExec(t: number): { identity: JsonMap; ip: string; agent: string } {
    return { identity: this.roleIdentity(this.storyWorld.cfnExecRole, 'AWSCloudFormation', this.storySession('cfn-exec', t, 2), false, 'cloudformation.amazonaws.com'), ip: 'cloudformation.amazonaws.com', agent: 'cloudformation.amazonaws.com' };
  }

  private maint(): { identity: JsonMap; ip: string; agent: string } {
    const session = this.maintSession;
    if (!session) throw new Error('the maint session is set by attackTamper earlier the same day');
    return { identity: this.roleIdentity(this.world.roles.attacker, ATTACKER_SESSION, session, false), ip: ATTACKER_IP_API, agent: CLI_ATTACKER };
  }

  private payments(): { repo: Repo; resources: JsonMap[] } {
    const repo = this.world.repos['payments-service'];
    return { repo, resources: this.repoResource(repo) };
  }

  /** Day 1, 08:00: a `cdk deploy` of Buildwatch itself; CloudFormation updates the detector, a rule and the key alias. */
  private deployMonitor(t: number): void {
    const deployer = this.roleIdentity(this.storyWorld.cdkDeployRole, 'aws-cdk-priya', this.storySession('cdk-deploy', t, 1), false);
    const cfnCall = { ip: '203.0.113.25', agent: CDK_CLI, source: 'cloudformation.amazonaws.com', readOnly: false, tlsHost: `cloudformation.${REGION}.amazonaws.com`, story: true };
    const changeSet = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:changeSet/cdk-deploy-change-set/${this.story.uuid()}`;
    const templateHash = this.story.hex(64);
    this.record({
      ...cfnCall,
      t,
      name: 'CreateChangeSet',
      identity: deployer,
      request: {
        stackName: MONITOR_STACK,
        templateURL: `https://s3.${REGION}.amazonaws.com/${CDK_ASSETS_BUCKET}/${templateHash}.json`,
        parameters: [{ parameterKey: 'BootstrapVersion', parameterValue: `/cdk-bootstrap/${CDK_QUALIFIER}/version` }],
        capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
        roleARN: this.storyWorld.cfnExecRole.arn,
        changeSetName: 'cdk-deploy-change-set',
        changeSetType: 'UPDATE',
        description: `CDK Changeset for execution ${this.story.uuid()}`,
      },
      response: { id: changeSet, stackId: this.storyWorld.monitorStackId },
    });
    let tt = t + seconds(this.story.int(15, 30));
    this.record({ ...cfnCall, t: tt, name: 'ExecuteChangeSet', identity: deployer, request: { changeSetName: 'cdk-deploy-change-set', stackName: MONITOR_STACK }, response: null });

    const functionArn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${MONITOR_FUNCTION}`;
    tt += seconds(this.story.int(20, 40));
    this.record({
      ...this.cfnExec(tt),
      t: tt,
      source: 'lambda.amazonaws.com',
      name: 'UpdateFunctionCode20150331v2',
      request: { functionName: MONITOR_FUNCTION, s3Bucket: CDK_ASSETS_BUCKET, s3Key: `${this.story.hex(64)}.zip` },
      response: {
        functionName: MONITOR_FUNCTION,
        functionArn,
        runtime: 'nodejs20.x',
        role: `arn:aws:iam::${ACCOUNT}:role/${this.storyWorld.detectRoleName}`,
        handler: 'index.handler',
        codeSize: this.story.int(1_700_000, 1_900_000),
        description: 'Buildwatch: evaluates pipeline events against the use cases and records findings',
        timeout: 60,
        memorySize: 512,
        lastModified: `${iso(tt).slice(0, 19)}.${String(this.story.int(0, 999)).padStart(3, '0')}+0000`,
        codeSha256: this.story.base64(32),
        version: '$LATEST',
        tracingConfig: { mode: 'PassThrough' },
        revisionId: this.story.uuid(),
        state: 'Active',
        lastUpdateStatus: 'InProgress',
        packageType: 'Zip',
        architectures: ['arm64'],
        ephemeralStorage: { size: 512 },
      },
      readOnly: false,
      story: true,
    });
    tt += seconds(this.story.int(5, 15));
    this.record({
      ...this.cfnExec(tt),
      t: tt,
      source: 'events.amazonaws.com',
      name: 'PutRule',
      request: { name: MONITOR_RULE, eventPattern: NEW_PUSHER_PATTERN, state: 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS', description: 'Buildwatch source.new-pusher: New contributor wrote to a repository' },
      response: { ruleArn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/${MONITOR_RULE}` },
      readOnly: false,
      story: true,
    });
    tt += seconds(this.story.int(5, 15));
    const keyArn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${this.storyWorld.monitorKeyId}`;
    this.record({
      ...this.cfnExec(tt),
      t: tt,
      source: 'kms.amazonaws.com',
      name: 'CreateAlias',
      request: { aliasName: MONITOR_ALIAS, targetKeyId: keyArn },
      response: null,
      readOnly: false,
      resources: [
        { accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: keyArn },
        { accountId: ACCOUNT, type: 'AWS::KMS::Alias', ARN: `arn:aws:kms:${REGION}:${ACCOUNT}:${MONITOR_ALIAS}` },
      ],
      story: true,
    });
  }

  /** Day 1: the lead requires two approvals on main of payments-service, through an approval-rule template. */
  private createApprovalTemplate(t: number): void {
    const lead = this.storyLead(t, 'codecommit.create-approval-rule-template');
    const { repo, resources } = this.payments();
    const developers = this.world.roles.developer.name;
    const content = JSON.stringify({
      Version: '2018-11-08',
      DestinationReferences: ['refs/heads/main'],
      Statements: [{ Type: 'Approvers', NumberOfApprovalsNeeded: 2, ApprovalPoolMembers: [`arn:aws:sts::${ACCOUNT}:assumed-role/platform-lead/*`, `arn:aws:sts::${ACCOUNT}:assumed-role/${developers}/*`] }],
    });
    const description = 'Two approvals (the lead or developers) before a pull request merges into main';
    const tls = `codecommit.${REGION}.amazonaws.com`;
    this.record({
      ...lead,
      t,
      source: 'codecommit.amazonaws.com',
      name: 'CreateApprovalRuleTemplate',
      request: { approvalRuleTemplateName: APPROVAL_TEMPLATE, approvalRuleTemplateContent: content, approvalRuleTemplateDescription: description },
      response: {
        approvalRuleTemplate: {
          approvalRuleTemplateId: this.storyWorld.approvalTemplateId,
          approvalRuleTemplateName: APPROVAL_TEMPLATE,
          approvalRuleTemplateDescription: description,
          approvalRuleTemplateContent: content,
          ruleContentSha256: createHash('sha256').update(content).digest('hex'),
          lastModifiedDate: awsTime(t),
          creationDate: awsTime(t),
          lastModifiedUser: String(lead.identity.arn),
        },
      },
      readOnly: false,
      tlsHost: tls,
      story: true,
    });
    const ta = t + seconds(this.story.int(30, 90));
    this.record({
      ...this.storyLead(ta, 'codecommit.associate-approval-rule-template-with-repository'),
      t: ta,
      source: 'codecommit.amazonaws.com',
      name: 'AssociateApprovalRuleTemplateWithRepository',
      request: { approvalRuleTemplateName: APPROVAL_TEMPLATE, repositoryName: repo.name },
      response: null,
      readOnly: false,
      resources,
      tlsHost: tls,
      story: true,
    });
  }

  private triggers(t: number, caller: { identity: JsonMap; ip: string; agent: string }, triggers: JsonMap[]): void {
    const { repo, resources } = this.payments();
    this.record({
      ...caller,
      t,
      source: 'codecommit.amazonaws.com',
      name: 'PutRepositoryTriggers',
      request: { repositoryName: repo.name, triggers },
      response: { configurationId: this.story.uuid() },
      readOnly: false,
      resources,
      tlsHost: `codecommit.${REGION}.amazonaws.com`,
      story: true,
    });
  }

  /** Day 2: every push to payments-service goes to the secret scanner (set in a change window the configuration suppresses). */
  private putScannerTrigger(t: number): void {
    this.triggers(t, this.storyLead(t, 'codecommit.put-repository-triggers'), [{ name: 'secret-scanner', destinationArn: SCANNER_FUNCTION_ARN, customData: '', branches: [], events: ['all'] }]);
  }

  private releasesPolicyDocument(partner: boolean): string {
    const reads = [
      'codeartifact:DescribePackageVersion',
      'codeartifact:DescribeRepository',
      'codeartifact:GetPackageVersionReadme',
      'codeartifact:GetRepositoryEndpoint',
      'codeartifact:ListPackageVersionAssets',
      'codeartifact:ListPackageVersionDependencies',
      'codeartifact:ListPackageVersions',
      'codeartifact:ListPackages',
      'codeartifact:ReadFromRepository',
    ];
    const statements: Json[] = [{ Sid: 'AccountRead', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: reads, Resource: '*' }];
    if (partner) statements.push({ Sid: 'PartnerRead', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${PARTNER_ACCOUNT}:root` }, Action: ['codeartifact:ReadFromRepository'], Resource: '*' });
    return JSON.stringify({ Version: '2012-10-17', Statement: statements });
  }

  private putReleasesPolicyAs(t: number, caller: { identity: JsonMap; ip: string; agent: string }, partner: boolean): void {
    const document = this.releasesPolicyDocument(partner);
    const revision = this.story.base64(32);
    const request: JsonMap = { domain: CA_DOMAIN, domainOwner: ACCOUNT, repository: CA_RELEASES, policyDocument: document };
    if (this.releasesPolicyRevision) request.policyRevision = this.releasesPolicyRevision;
    this.record({
      ...caller,
      t,
      source: 'codeartifact.amazonaws.com',
      name: 'PutRepositoryPermissionsPolicy',
      request,
      response: { policy: { resourceArn: `arn:aws:codeartifact:${REGION}:${ACCOUNT}:repository/${CA_DOMAIN}/${CA_RELEASES}`, revision, document } },
      readOnly: false,
      tlsHost: `codeartifact.${REGION}.amazonaws.com`,
      story: true,
    });
    this.releasesPolicyRevision = revision;
  }

  /** Day 3: the platform admin gives internal-releases its first repository policy: the own account only. */
  private putReleasesPolicy(t: number): void {
    this.putReleasesPolicyAs(t, { identity: this.storyAdmin(t), ip: '203.0.113.25', agent: `${CLI_MAC} command/codeartifact.put-repository-permissions-policy` }, false);
  }

  private paymentsPipeline(version: number, executionMode: 'SUPERSEDED' | 'QUEUED'): JsonMap {
    return {
      name: PIPELINE_OF['payments-service'],
      roleArn: this.world.roles.orchestrator.arn,
      artifactStore: { type: 'S3', location: 'acme-pipeline-artifacts' },
      stages: [
        {
          name: 'Source',
          actions: [
            {
              name: 'Source',
              actionTypeId: { category: 'Source', owner: 'AWS', provider: 'CodeCommit', version: '1' },
              runOrder: 1,
              configuration: { RepositoryName: 'payments-service', BranchName: 'main', PollForSourceChanges: 'false', OutputArtifactFormat: 'CODE_ZIP' },
              outputArtifacts: [{ name: 'SourceOutput' }],
              inputArtifacts: [],
            },
          ],
        },
        {
          name: 'Build',
          actions: [
            {
              name: 'BuildSignPublish',
              actionTypeId: { category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1' },
              runOrder: 1,
              configuration: { ProjectName: PROJECT_OF['payments-service'] },
              outputArtifacts: [{ name: 'BuildOutput' }],
              inputArtifacts: [{ name: 'SourceOutput' }],
            },
          ],
        },
      ],
      version,
      pipelineType: 'V2',
      executionMode,
    };
  }

  /** Day 12: the admin updates the pipeline's stack; CloudFormation rewrites payments-release (queued executions) with her session. */
  private updatePipelineStack(t: number): void {
    this.record({
      t,
      source: 'cloudformation.amazonaws.com',
      name: 'UpdateStack',
      identity: this.storyAdmin(t),
      ip: '203.0.113.25',
      agent: `${CLI_MAC} command/cloudformation.deploy`,
      request: { stackName: PIPELINE_STACK, templateURL: `https://s3.${REGION}.amazonaws.com/acme-cfn-templates/${PIPELINE_STACK}/template.yaml`, capabilities: ['CAPABILITY_NAMED_IAM'], tags: [{ key: 'team', value: 'payments' }] },
      response: { stackId: this.storyWorld.pipelineStackId },
      readOnly: false,
      tlsHost: `cloudformation.${REGION}.amazonaws.com`,
      story: true,
    });
    const tu = t + seconds(this.story.int(30, 80));
    this.record({
      t: tu,
      source: 'codepipeline.amazonaws.com',
      name: 'UpdatePipeline',
      identity: this.storyAdmin(tu, 'cloudformation.amazonaws.com'),
      ip: 'cloudformation.amazonaws.com',
      agent: 'cloudformation.amazonaws.com',
      request: { pipeline: this.paymentsPipeline(6, 'QUEUED') },
      response: { pipeline: this.paymentsPipeline(7, 'QUEUED') },
      readOnly: false,
      story: true,
    });
  }

  /** Day 16: a developer tries to merge past the approval rule and is refused. */
  private deniedOverride(t: number): void {
    const dev = this.devs.find((d) => d.key === 'daniel') as DevProfile;
    const { repo, resources } = this.payments();
    const open = this.openPrs.filter((p) => p.repo === repo.name);
    const pr = open.find((p) => p.author === dev) ?? open[0];
    const pullRequestId = pr ? String(pr.id) : String(this.nextPrId - 1);
    const role = this.world.roles.developer;
    this.record({
      t,
      source: 'codecommit.amazonaws.com',
      name: 'OverridePullRequestApprovalRules',
      identity: this.roleIdentity(role, dev.login, this.storySession(dev.key, t, 40), false),
      ip: dev.ips[0] as string,
      agent: dev.browser,
      request: { pullRequestId, revisionId: pr ? pr.revisionId : this.story.hex(64), overrideStatus: 'OVERRIDE' },
      readOnly: false,
      resources,
      error: {
        code: 'AccessDeniedException',
        message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/${role.name}/${dev.login} is not authorized to perform: codecommit:OverridePullRequestApprovalRules on resource: ${repo.arn} because no identity-based policy allows the codecommit:OverridePullRequestApprovalRules action`,
      },
      tlsHost: `codecommit.${REGION}.amazonaws.com`,
      fromConsole: true,
      story: true,
    });
  }

  /** Day 24, 01:30: the internal npm package @acme/payments-client may now come from upstream (dependency confusion). */
  private dependencyConfusion(t: number): void {
    const restrictions = { publish: 'BLOCK', upstream: 'ALLOW' };
    this.record({
      ...this.attackerApi(),
      t,
      source: 'codeartifact.amazonaws.com',
      name: 'PutPackageOriginConfiguration',
      request: { domain: CA_DOMAIN, domainOwner: ACCOUNT, repository: CA_RELEASES, format: 'npm', namespace: INTERNAL_NPM_PACKAGE.namespace, package: INTERNAL_NPM_PACKAGE.name, restrictions },
      response: { originConfiguration: { restrictions } },
      readOnly: false,
      tlsHost: `codeartifact.${REGION}.amazonaws.com`,
      story: true,
    });
  }

  /** Day 24, 01:35: internal-releases readable by account 444455556666. */
  private grantPartnerRead(t: number): void {
    this.putReleasesPolicyAs(t, this.attackerApi(), true);
  }

  /** Day 25, 02:30: the deploy user tries to delete the monitor's key alias and is refused. */
  private deniedMonitorAlias(t: number): void {
    const user = this.attacker();
    this.record({
      ...this.attackerApi(),
      t,
      source: 'kms.amazonaws.com',
      name: 'DeleteAlias',
      request: { aliasName: MONITOR_ALIAS },
      readOnly: false,
      error: {
        code: 'AccessDeniedException',
        message: `User: ${user.arn} is not authorized to perform: kms:DeleteAlias on resource: arn:aws:kms:${REGION}:${ACCOUNT}:${MONITOR_ALIAS} because no identity-based policy allows the kms:DeleteAlias action`,
      },
      tlsHost: `kms.${REGION}.amazonaws.com`,
      story: true,
    });
  }

  /** Day 25, 02:31: the rule that feeds source.new-pusher is disabled (the deploy user still has EventBridge rights). */
  private disableMonitorRule(t: number): void {
    this.record({ ...this.attackerApi(), t, source: 'events.amazonaws.com', name: 'DisableRule', request: { name: MONITOR_RULE }, response: null, readOnly: false, tlsHost: `events.${REGION}.amazonaws.com`, story: true });
  }

  /** Day 25, 02:33: the detect queue is purged. */
  private purgeDetectQueue(t: number): void {
    this.record({ ...this.attackerApi(), t, source: 'sqs.amazonaws.com', name: 'PurgeQueue', request: { queueUrl: MONITOR_QUEUE_URL }, response: null, readOnly: false, tlsHost: `sqs.${REGION}.amazonaws.com`, story: true });
  }

  /** Day 25, 02:40, as maint: the approval-rule template leaves payments-service and the secret-scanner trigger goes. */
  private removeSourceProtections(t: number): void {
    const { repo, resources } = this.payments();
    this.record({
      ...this.maint(),
      t,
      source: 'codecommit.amazonaws.com',
      name: 'DisassociateApprovalRuleTemplateFromRepository',
      request: { approvalRuleTemplateName: APPROVAL_TEMPLATE, repositoryName: repo.name },
      response: null,
      readOnly: false,
      resources,
      tlsHost: `codecommit.${REGION}.amazonaws.com`,
      story: true,
    });
    this.triggers(t + seconds(this.story.int(40, 80)), this.maint(), []);
  }

  /** Day 25, 02:45, as maint: the signing key's policy lets account 444455556666 sign; then maint signs. */
  private openSigningKey(t: number): void {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Id: 'release-signing-key-policy',
      Statement: [
        { Sid: 'EnableRootAccess', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
        {
          Sid: 'KeyAdministrators',
          Effect: 'Allow',
          Principal: { AWS: this.world.roles.lead.arn },
          Action: ['kms:Create*', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*', 'kms:Disable*', 'kms:Get*', 'kms:TagResource', 'kms:UntagResource', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion'],
          Resource: '*',
        },
        { Sid: 'ReleaseBuildSigns', Effect: 'Allow', Principal: { AWS: this.world.roles.paymentsBuild.arn }, Action: ['kms:Sign', 'kms:GetPublicKey', 'kms:DescribeKey'], Resource: '*' },
        { Sid: 'PartnerSigning', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${PARTNER_ACCOUNT}:root` }, Action: ['kms:Sign', 'kms:GetPublicKey'], Resource: '*' },
      ],
    });
    const key = [{ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: SIGNING_KEY_ARN }];
    const tls = `kms.${REGION}.amazonaws.com`;
    this.record({ ...this.maint(), t, source: 'kms.amazonaws.com', name: 'PutKeyPolicy', request: { keyId: SIGNING_KEY_ID, policyName: 'default', policy, bypassPolicyLockoutSafetyCheck: false }, response: null, readOnly: false, resources: key, tlsHost: tls, story: true });
    const ts = t + seconds(this.story.int(60, 150));
    this.record({ ...this.maint(), t: ts, source: 'kms.amazonaws.com', name: 'Sign', request: { keyId: SIGNING_KEY_ARN, messageType: 'DIGEST', signingAlgorithm: 'RSASSA_PSS_SHA_256' }, readOnly: true, resources: key, tlsHost: tls, story: true });
  }

  /** Day 26, 09:45: the lead re-enables the rule and re-associates the template (the rest is not restored yet). */
  private restoreMonitorRule(t: number): void {
    const { repo, resources } = this.payments();
    this.record({ ...this.storyLead(t, 'events.enable-rule'), t, source: 'events.amazonaws.com', name: 'EnableRule', request: { name: MONITOR_RULE }, response: null, readOnly: false, tlsHost: `events.${REGION}.amazonaws.com`, story: true });
    const ta = t + seconds(this.story.int(50, 110));
    this.record({
      ...this.storyLead(ta, 'codecommit.associate-approval-rule-template-with-repository'),
      t: ta,
      source: 'codecommit.amazonaws.com',
      name: 'AssociateApprovalRuleTemplateWithRepository',
      request: { approvalRuleTemplateName: APPROVAL_TEMPLATE, repositoryName: repo.name },
      response: null,
      readOnly: false,
      resources,
      tlsHost: `codecommit.${REGION}.amazonaws.com`,
      story: true,
    });
  }

  /** Day 27, 10:05: a CI role of account 444455556666 gets a token for the acme domain (the policy of day 24 lets it read). */
  private partnerToken(t: number): void {
    const identity: JsonMap = {
      type: 'AssumedRole',
      principalId: `${this.storyWorld.partnerRoleId}:${PARTNER_SESSION}`,
      arn: `arn:aws:sts::${PARTNER_ACCOUNT}:assumed-role/${PARTNER_ROLE}/${PARTNER_SESSION}`,
      accountId: PARTNER_ACCOUNT,
      accessKeyId: this.story.awsId('ASIA'),
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: this.storyWorld.partnerRoleId, arn: `arn:aws:iam::${PARTNER_ACCOUNT}:role/${PARTNER_ROLE}`, accountId: PARTNER_ACCOUNT, userName: PARTNER_ROLE },
        attributes: { creationDate: iso(t - seconds(this.story.int(20, 90))), mfaAuthenticated: 'false' },
      },
    };
    this.record({
      t,
      identity,
      ip: PARTNER_IP,
      agent: 'aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0-26-cloud-amd64 exe/x86_64.debian.12 prompt/off command/codeartifact.login',
      source: 'codeartifact.amazonaws.com',
      name: 'GetAuthorizationToken',
      request: { domainName: CA_DOMAIN, domainOwner: ACCOUNT, durationSeconds: 900 },
      response: { sessionToken: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
      readOnly: false,
      tlsHost: `codeartifact.${REGION}.amazonaws.com`,
      story: true,
    });
  }
}

function before(a: Intent, b: Intent): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}

function otherRepo(name: RepoName): RepoName {
  return name === 'payments-service' ? 'web-frontend' : 'payments-service';
}
