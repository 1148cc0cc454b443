import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { distinctPackages, MAX_SBOM_BYTES, parseSbom } from '../../../lambdas/use-cases/dependencies/sbom-parse.js';

const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

function cdx(components: unknown[], extra: Record<string, unknown> = {}): Uint8Array {
  return bytes({
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79',
    version: 1,
    metadata: { component: { type: 'application', name: 'payments-service', version: '2.3.0', 'bom-ref': 'pkg:npm/@acme/payments-service@2.3.0', purl: 'pkg:npm/%40acme/payments-service@2.3.0' } },
    components,
    ...extra,
  });
}

const lib = (name: string, version?: string, extra: Record<string, unknown> = {}) => ({
  type: 'library',
  name,
  ...(version ? { version, purl: `pkg:npm/${name}@${version}`, 'bom-ref': `pkg:npm/${name}@${version}` } : {}),
  ...extra,
});

function spdx(packages: unknown[], extra: Record<string, unknown> = {}): Uint8Array {
  return bytes({
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: 'web-frontend',
    documentNamespace: 'https://anchore.com/syft/dir/web-frontend-1',
    creationInfo: { created: '2026-10-09T13:30:12Z', creators: ['Tool: syft-1.4.1'] },
    packages,
    relationships: [{ spdxElementId: 'SPDXRef-DOCUMENT', relatedSpdxElement: 'SPDXRef-root', relationshipType: 'DESCRIBES' }],
    ...extra,
  });
}

const spdxPackage = (name: string, version: string | undefined, category = 'PACKAGE-MANAGER', extra: Record<string, unknown> = {}) => ({
  name,
  SPDXID: `SPDXRef-Package-${name}`,
  ...(version !== undefined ? { versionInfo: version } : {}),
  downloadLocation: 'NOASSERTION',
  externalRefs: version && version !== 'NOASSERTION' ? [{ referenceCategory: category, referenceType: 'purl', referenceLocator: `pkg:npm/${name}@${version}` }] : [],
  ...extra,
});

describe('parseSbom: CycloneDX', () => {
  it('reads package components, nested ones too, and not the subject', () => {
    const parsed = parseSbom(cdx([lib('express', '4.19.2', { components: [lib('body-parser', '1.20.2')] }), lib('ms', '2.0.0')]));
    expect(parsed.failures).toEqual([]);
    expect(parsed.format).toBe('CycloneDX');
    expect(parsed.specVersion).toBe('1.5');
    expect(parsed.documentId).toBe('urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79');
    expect(parsed.components.map((c) => c.key)).toEqual(['pkg:npm/express', 'pkg:npm/body-parser', 'pkg:npm/ms']);
    expect(parsed.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('skips files, the operating system, lock-file applications and a component that repeats the subject', () => {
    const parsed = parseSbom(
      cdx([
        lib('express', '4.19.2'),
        { type: 'file', name: '/usr/lib/liblzma.so.5' },
        { type: 'operating-system', name: 'debian', version: '12.5' },
        { type: 'application', name: 'app/package-lock.json' },
        { type: 'application', name: 'payments-service', version: '2.3.0', 'bom-ref': 'pkg:npm/@acme/payments-service@2.3.0', purl: 'pkg:npm/%40acme/payments-service@2.3.0' },
      ]),
    );
    expect(parsed.failures).toEqual([]);
    expect(parsed.components.map((c) => c.name)).toEqual(['express']);
  });

  it('accepts 1.4, 1.6 and 1.7 (syft\'s default) and a numeric specVersion, refuses 1.3 and 2.0', () => {
    expect(parseSbom(cdx([lib('a', '1.0.0')], { specVersion: '1.4' })).failures).toEqual([]);
    expect(parseSbom(cdx([lib('a', '1.0.0')], { specVersion: '1.6' })).failures).toEqual([]);
    expect(parseSbom(cdx([lib('a', '1.0.0')], { specVersion: 1.5 })).failures).toEqual([]);
    expect(parseSbom(cdx([lib('a', '1.0.0')], { specVersion: '1.3' })).failures.map((f) => f.check)).toEqual(['version']);
    expect(parseSbom(cdx([lib('a', '1.0.0')], { specVersion: '1.7' })).failures).toEqual([]);
    expect(parseSbom(cdx([lib('a', '1.0.0')], { specVersion: '2.0' })).failures.map((f) => f.check)).toEqual(['version']);
  });

  it('says which checks failed: no components, unnamed, unversioned, malformed entries', () => {
    expect(parseSbom(cdx([])).failures.map((f) => f.check)).toEqual(['components']);
    expect(parseSbom(cdx([{ type: 'file', name: 'README' }])).failures.map((f) => f.check)).toEqual(['components']);
    const broken = parseSbom(cdx([lib('express', '4.19.2'), { type: 'library', name: '', 'bom-ref': 'ref-1' }, lib('left-pad'), 'junk']));
    expect(broken.failures.map((f) => f.check)).toEqual(['structure', 'names', 'versions']);
    expect(broken.failures[1]?.message).toContain('"ref-1"');
    expect(broken.failures[2]?.message).toContain('"left-pad"');
    expect(parseSbom(cdx([lib('a', '1.0.0')], { components: { a: 1 } })).failures.map((f) => f.check)).toEqual(['structure']);
  });

  it('takes the version from the purl when the field is missing', () => {
    const parsed = parseSbom(cdx([{ type: 'library', name: 'lodash', purl: 'pkg:npm/lodash@4.17.21' }]));
    expect(parsed.failures).toEqual([]);
    expect(parsed.components[0]?.version).toBe('4.17.21');
  });

  it('keys components without a purl by group and name', () => {
    const parsed = parseSbom(cdx([{ type: 'library', group: '@acme', name: 'ledger-client', version: '0.9.3' }]));
    expect(parsed.components[0]?.key).toBe('name:@acme/ledger-client');
  });
});

describe('parseSbom: SPDX', () => {
  it('reads packages with their purls and leaves out the described root', () => {
    const parsed = parseSbom(spdx([spdxPackage('react', '18.2.0'), spdxPackage('scheduler', '0.23.0'), { name: '/src', SPDXID: 'SPDXRef-root', downloadLocation: 'NOASSERTION' }]));
    expect(parsed.failures).toEqual([]);
    expect(parsed.format).toBe('SPDX');
    expect(parsed.specVersion).toBe('SPDX-2.3');
    expect(parsed.components.map((c) => c.key)).toEqual(['pkg:npm/react', 'pkg:npm/scheduler']);
  });

  it('reads SPDX 2.2 (PACKAGE_MANAGER category, documentDescribes)', () => {
    const parsed = parseSbom(
      spdx([spdxPackage('react', '18.2.0', 'PACKAGE_MANAGER'), { name: '/src', SPDXID: 'SPDXRef-top', downloadLocation: 'NOASSERTION' }], {
        spdxVersion: 'SPDX-2.2',
        documentDescribes: ['SPDXRef-top'],
        relationships: [],
      }),
    );
    expect(parsed.failures).toEqual([]);
    expect(parsed.components.map((c) => c.purl?.name)).toEqual(['react']);
  });

  it('treats NOASSERTION as no version and skips non-package purposes without a purl', () => {
    const parsed = parseSbom(spdx([spdxPackage('react', '18.2.0'), spdxPackage('mystery', 'NOASSERTION'), { name: 'debian', SPDXID: 'SPDXRef-os', versionInfo: '12', primaryPackagePurpose: 'OPERATING-SYSTEM', downloadLocation: 'NONE' }]));
    expect(parsed.failures.map((f) => f.check)).toEqual(['versions']);
    expect(parsed.components.map((c) => c.name)).toEqual(['react', 'mystery']);
  });

  it('refuses other SPDX versions, SPDX 3 JSON-LD and documents that are not SPDX documents', () => {
    expect(parseSbom(spdx([spdxPackage('a', '1.0.0')], { spdxVersion: 'SPDX-2.1' })).failures.map((f) => f.check)).toEqual(['version']);
    expect(parseSbom(bytes({ '@context': 'https://spdx.org/rdf/3.0.1/spdx-context.jsonld', '@graph': [] })).failures.map((f) => f.check)).toEqual(['version']);
    expect(parseSbom(spdx([spdxPackage('a', '1.0.0')], { SPDXID: 'SPDXRef-X' })).failures.map((f) => f.check)).toEqual(['structure']);
  });
});

describe('parseSbom: bytes that are not an SBOM', () => {
  it('says XML, tag-value, other JSON and plain garbage apart', () => {
    expect(parseSbom(bytes('<?xml version="1.0"?><bom/>')).failures[0]?.message).toContain('XML');
    expect(parseSbom(bytes('SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n')).failures[0]?.message).toContain('tag-value');
    expect(parseSbom(bytes({ name: 'x', lockfileVersion: 3 })).failures.map((f) => f.check)).toEqual(['format']);
    expect(parseSbom(bytes('[1,2]')).failures.map((f) => f.check)).toEqual(['format']);
    expect(parseSbom(bytes({ bomFormat: 'SPDX' })).failures.map((f) => f.check)).toEqual(['format']);
    expect(parseSbom(bytes('{"bomFormat": "CycloneDX", ')).failures.map((f) => f.check)).toEqual(['json']);
  });

  it('reads a UTF-8 byte-order mark and gzip', () => {
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...cdx([lib('a', '1.0.0')])]);
    expect(parseSbom(withBom).failures).toEqual([]);
    expect(parseSbom(gzipSync(cdx([lib('a', '1.0.0')]))).failures).toEqual([]);
  });

  it('refuses more bytes than the limit, and gzip that unpacks past it', () => {
    const big = new Uint8Array(MAX_SBOM_BYTES + 1);
    expect(parseSbom(big).failures.map((f) => f.check)).toEqual(['size']);
    const bomb = gzipSync(new Uint8Array(MAX_SBOM_BYTES + 1024));
    expect(bomb.byteLength).toBeLessThan(MAX_SBOM_BYTES);
    expect(parseSbom(bomb).failures.map((f) => f.check)).toEqual(['json']);
  });
});

describe('distinctPackages', () => {
  it('lists key@version once each, sorted, with an empty version for unversioned ones', () => {
    const parsed = parseSbom(cdx([lib('ms', '2.1.3'), lib('ms', '2.0.0'), lib('ms', '2.1.3'), { type: 'library', name: 'vendored' }]));
    expect(distinctPackages(parsed.components)).toEqual(['name:vendored@', 'pkg:npm/ms@2.0.0', 'pkg:npm/ms@2.1.3']);
  });
});
