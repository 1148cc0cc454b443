/**
 * The SBOMs the sample's builds uploaded: one CycloneDX 1.5 file (as cdxgen writes them) per
 * SUCCEEDED build of the sample history, at the location buildwatch.config.json names
 * (s3://acme-artifacts/sbom/{project}/{buildUuid}/bom.cdx.json), recorded under samples/.recorded/s3/
 * so `replay --recorded samples/.recorded` runs the real SBOM checks offline. Deterministic: the
 * components are each project's lock file; one patch upgrade (web-frontend's axios, from 2026-10-14)
 * shows what an ordinary dependency bump looks like. Even the attacker's builds upload their SBOM:
 * the injected buildspec keeps the step, so nothing is missing there.
 * Run: npx tsx samples/sample-sboms.ts (test/samples.test.ts fails when the files drift).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_HISTORY_OPTIONS, generateHistory } from './generate-history.js';

export const RECORDED_DIR = join(dirname(fileURLToPath(import.meta.url)), '.recorded');
const BUCKET = 'acme-artifacts';

/** name@version and licence of each npm package in the project's lock file. */
type Lock = ReadonlyArray<readonly [name: string, version: string, license: string]>;

const PAYMENTS: Lock = [
  ['express', '4.19.2', 'MIT'], ['body-parser', '1.20.2', 'MIT'], ['cookie', '0.6.0', 'MIT'], ['debug', '2.6.9', 'MIT'], ['ms', '2.0.0', 'MIT'],
  ['depd', '2.0.0', 'MIT'], ['qs', '6.11.0', 'BSD-3-Clause'], ['raw-body', '2.5.2', 'MIT'], ['iconv-lite', '0.4.24', 'MIT'], ['safer-buffer', '2.1.2', 'MIT'],
  ['http-errors', '2.0.0', 'MIT'], ['statuses', '2.0.1', 'MIT'], ['accepts', '1.3.8', 'MIT'], ['mime-types', '2.1.35', 'MIT'], ['mime-db', '1.52.0', 'MIT'],
  ['negotiator', '0.6.3', 'MIT'], ['content-type', '1.0.5', 'MIT'], ['etag', '1.8.1', 'MIT'], ['finalhandler', '1.2.0', 'MIT'], ['on-finished', '2.4.1', 'MIT'],
  ['path-to-regexp', '0.1.7', 'MIT'], ['send', '0.18.0', 'MIT'], ['serve-static', '1.15.0', 'MIT'], ['type-is', '1.6.18', 'MIT'], ['vary', '1.1.2', 'MIT'],
  ['pg', '8.12.0', 'MIT'], ['pg-pool', '3.6.2', 'MIT'], ['pg-protocol', '1.6.1', 'MIT'], ['pg-types', '2.2.0', 'MIT'], ['pgpass', '1.0.5', 'MIT'],
  ['jsonwebtoken', '9.0.2', 'MIT'], ['jws', '3.2.2', 'MIT'], ['jwa', '1.4.1', 'MIT'], ['semver', '7.6.2', 'ISC'], ['lodash.includes', '4.3.0', 'MIT'],
  ['zod', '3.23.8', 'MIT'], ['pino', '9.2.0', 'MIT'], ['pino-std-serializers', '7.0.0', 'MIT'], ['sonic-boom', '4.0.1', 'MIT'], ['stripe', '16.2.0', 'MIT'],
  ['uuid', '10.0.0', 'MIT'], ['helmet', '7.1.0', 'MIT'], ['dotenv', '16.4.5', 'BSD-2-Clause'],
];

const WEB: Lock = [
  ['react', '18.3.1', 'MIT'], ['react-dom', '18.3.1', 'MIT'], ['scheduler', '0.23.2', 'MIT'], ['loose-envify', '1.4.0', 'MIT'], ['js-tokens', '4.0.0', 'MIT'],
  ['react-router', '6.26.2', 'MIT'], ['react-router-dom', '6.26.2', 'MIT'], ['@remix-run/router', '1.19.2', 'MIT'], ['axios', '1.7.7', 'MIT'], ['follow-redirects', '1.15.9', 'MIT'],
  ['form-data', '4.0.0', 'MIT'], ['asynckit', '0.4.0', 'MIT'], ['combined-stream', '1.0.8', 'MIT'], ['delayed-stream', '1.0.0', 'MIT'], ['mime-types', '2.1.35', 'MIT'],
  ['mime-db', '1.52.0', 'MIT'], ['proxy-from-env', '1.1.0', 'MIT'], ['clsx', '2.1.1', 'MIT'], ['date-fns', '3.6.0', 'MIT'], ['zustand', '4.5.5', 'MIT'],
  ['use-sync-external-store', '1.2.2', 'MIT'], ['i18next', '23.15.1', 'MIT'], ['react-i18next', '15.0.2', 'MIT'], ['@babel/runtime', '7.25.6', 'MIT'], ['html-parse-stringify', '3.0.1', 'MIT'],
  ['void-elements', '3.1.0', 'MIT'], ['dompurify', '3.1.6', '(MPL-2.0 OR Apache-2.0)'], ['@tanstack/react-query', '5.56.2', 'MIT'], ['@tanstack/query-core', '5.56.2', 'MIT'], ['tslib', '2.7.0', '0BSD'],
];

/** Web builds from this day on resolve the patched axios. */
const AXIOS_PATCH_DAY = '2026-10-14';

interface Build {
  readonly project: string;
  readonly uuid: string;
  readonly number: number;
  readonly time: string;
}

function stableUuid(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((Number.parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function purl(name: string, version: string): string {
  const [scope, bare] = name.startsWith('@') ? (name.split('/') as [string, string]) : ['', name];
  return `pkg:npm/${scope ? `${encodeURIComponent(scope)}/` : ''}${bare}@${version}`;
}

function lockFor(build: Build): Lock {
  if (build.project === 'payments-service-build') return PAYMENTS;
  return WEB.map(([name, version, license]) => [name, name === 'axios' && build.time.slice(0, 10) >= AXIOS_PATCH_DAY ? '1.7.9' : version, license] as const);
}

function sbomFor(build: Build): Record<string, unknown> {
  const app = build.project === 'payments-service-build' ? { group: '@acme', name: 'payments-service', version: `2.3.${build.number}` } : { group: '@acme', name: 'web-frontend', version: `0.9.${build.number}` };
  const appRef = purl(`${app.group}/${app.name}`, app.version);
  const lock = lockFor(build);
  const src = `/codebuild/output/src${Number.parseInt(build.uuid.slice(0, 4), 16) % 9000}/src/package-lock.json`;
  // cdxgen runs a little before the build ends.
  const timestamp = new Date(Date.parse(build.time) - 41_000).toISOString();
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: `urn:uuid:${stableUuid(`sbom ${build.project} ${build.uuid}`)}`,
    version: 1,
    metadata: {
      timestamp,
      tools: { components: [{ group: '@cyclonedx', name: 'cdxgen', version: '10.9.4', purl: 'pkg:npm/%40cyclonedx/cdxgen@10.9.4', type: 'application', 'bom-ref': 'pkg:npm/@cyclonedx/cdxgen@10.9.4' }] },
      lifecycles: [{ phase: 'build' }],
      component: { ...app, type: 'application', purl: appRef, 'bom-ref': appRef },
    },
    components: lock.map(([name, version, license]) => {
      const ref = purl(name, version);
      const [group, bare] = name.startsWith('@') ? (name.split('/') as [string, string]) : ['', name];
      return {
        group,
        name: bare,
        version,
        scope: 'required',
        hashes: [{ alg: 'SHA-512', content: createHash('sha512').update(`${name}@${version}`).digest('hex') }],
        licenses: [license.includes(' ') ? { expression: license } : { license: { id: license } }],
        purl: ref,
        type: 'library',
        'bom-ref': ref,
        properties: [{ name: 'SrcFile', value: src }],
      };
    }),
    dependencies: [{ ref: appRef, dependsOn: lock.map(([name, version]) => purl(name, version)) }],
  };
}

/** The sample's successful builds (the CodeBuild state-change events). */
function successfulBuilds(): Build[] {
  return generateHistory(DEFAULT_HISTORY_OPTIONS).flatMap((day) =>
    day.eventBridge.flatMap((event): Build[] => {
      const detail = event['detail'] as Record<string, unknown> | undefined;
      if (event['detail-type'] !== 'CodeBuild Build State Change' || detail?.['build-status'] !== 'SUCCEEDED') return [];
      const info = detail['additional-information'] as { 'build-number'?: number };
      return [{ project: String(detail['project-name']), uuid: String(detail['build-id']).split(':').pop()!, number: Number(info['build-number']), time: String(event['time']) }];
    }),
  );
}

/** Each recorded object: its path under the recorded directory (s3/<bucket>/<key>) and its text. */
export function sampleSboms(): Array<{ path: string; text: string }> {
  return successfulBuilds().map((build) => ({
    path: join('s3', BUCKET, 'sbom', build.project, build.uuid, 'bom.cdx.json'),
    text: `${JSON.stringify(sbomFor(build))}\n`,
  }));
}

function main(): void {
  rmSync(join(RECORDED_DIR, 's3', BUCKET, 'sbom'), { recursive: true, force: true });
  const objects = sampleSboms();
  for (const { path, text } of objects) {
    mkdirSync(dirname(join(RECORDED_DIR, path)), { recursive: true });
    writeFileSync(join(RECORDED_DIR, path), text);
  }
  process.stderr.write(`wrote ${objects.length} SBOMs under ${RECORDED_DIR}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
