import { describe, expect, it } from 'vitest';
import { CompromisedIndex, shippedIncidentList, type Incident } from '../../../lambdas/use-cases/dependencies/known-compromised.js';
import { parsePurl, purlKey } from '../../../lambdas/use-cases/dependencies/purl.js';
import type { SbomComponent } from '../../../lambdas/use-cases/dependencies/sbom-parse.js';

function fromPurl(text: string, version?: string): SbomComponent {
  const purl = parsePurl(text)!;
  return { key: purlKey(purl), name: purl.name, version: version ?? purl.version, purl };
}

const index = new CompromisedIndex(shippedIncidentList());

describe('the shipped list of known-compromised versions', () => {
  it('cites an https source and a date for every incident, with unique ids', () => {
    expect(shippedIncidentList().length).toBeGreaterThanOrEqual(15);
    for (const incident of shippedIncidentList()) {
      expect(incident.source, incident.id).toMatch(/^https:\/\//);
      expect(incident.date, incident.id).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    const ids = shippedIncidentList().map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('covers the incidents the product promises', () => {
    const names = new Set(shippedIncidentList().flatMap((i) => i.packages.map((p) => `${p.ecosystem}:${p.name}`)));
    for (const expected of ['npm:event-stream', 'npm:ua-parser-js', 'npm:coa', 'npm:rc', 'npm:node-ipc', 'npm:colors', 'npm:faker', 'deb:xz-utils', 'npm:debug', 'npm:chalk', 'npm:@ctrl/tinycolor', 'npm:nx']) {
      expect(names, expected).toContain(expected);
    }
  });
});

describe('CompromisedIndex', () => {
  it('matches exact versions by purl, and nothing next to them', () => {
    expect(index.match(fromPurl('pkg:npm/debug@4.4.2')).map((h) => h.incident.id)).toEqual(['qix-phishing-2025']);
    expect(index.match(fromPurl('pkg:npm/debug@4.4.1'))).toEqual([]);
    expect(index.match(fromPurl('pkg:npm/%40ctrl/tinycolor@4.1.2')).map((h) => h.incident.id)).toEqual(['shai-hulud-2025']);
    expect(index.match(fromPurl('pkg:npm/ua-parser-js@v0.7.29'))).toHaveLength(1);
  });

  it('keeps ecosystems apart for components with a purl', () => {
    // debug 4.4.2 on PyPI is not the npm incident.
    expect(index.match(fromPurl('pkg:pypi/debug@4.4.2'))).toEqual([]);
  });

  it('matches OS packages on the upstream version', () => {
    expect(index.match(fromPurl('pkg:deb/debian/liblzma5@5.6.0-0.1?arch=amd64'))).toHaveLength(1);
    expect(index.match(fromPurl('pkg:rpm/fedora/xz-libs@5.6.0-1.fc40?arch=x86_64&epoch=1'))).toHaveLength(1);
    expect(index.match(fromPurl('pkg:apk/alpine/xz@5.6.1-r1'))).toHaveLength(1);
    expect(index.match(fromPurl('pkg:deb/debian/xz-utils@5.4.5-0.3'))).toEqual([]);
  });

  it('matches every version of a package created for an attack', () => {
    expect(index.match(fromPurl('pkg:npm/flatmap-stream@0.1.1'))).toHaveLength(1);
    expect(index.match(fromPurl('pkg:pypi/torchtriton@2.0.0'))).toHaveLength(1);
  });

  it('normalises PyPI names', () => {
    expect(index.match(fromPurl('pkg:pypi/LiteLLM@1.82.7'))).toHaveLength(1);
  });

  it('falls back to the name, with an npm scope as group, when there is no purl', () => {
    const hits = index.match({ key: 'name:@ctrl/tinycolor', name: 'tinycolor', group: '@ctrl', version: '4.1.1' });
    expect(hits.map((h) => h.matchedBy)).toEqual(['name']);
    expect(index.match({ key: 'name:debug', name: 'debug', version: '2.6.9' })).toEqual([]);
    expect(index.match({ key: 'name:debug', name: 'debug' })).toEqual([]);
  });

  it('takes user incidents and ignores entries by name or name@version', () => {
    const extra: Incident = { id: 'acme-1', title: 'Internal advisory', packages: [{ ecosystem: 'npm', name: '@acme/ledger-client', versions: ['0.9.4'] }] };
    const custom = new CompromisedIndex([...shippedIncidentList(), extra], ['debug@4.4.2', 'CHALK']);
    expect(custom.match(fromPurl('pkg:npm/%40acme/ledger-client@0.9.4'))).toHaveLength(1);
    expect(custom.match(fromPurl('pkg:npm/debug@4.4.2'))).toEqual([]);
    expect(custom.match(fromPurl('pkg:npm/chalk@5.6.1'))).toEqual([]);
    expect(custom.match(fromPurl('pkg:npm/ansi-styles@6.2.2'))).toHaveLength(1);
  });
});
