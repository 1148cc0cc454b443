import { describe, expect, it } from 'vitest';
import { parsePurl, purlKey, registryName } from '../../../lambdas/use-cases/dependencies/purl.js';
import { compareVersions, isMajorChange, newest, upstreamVersion } from '../../../lambdas/use-cases/dependencies/versions.js';

describe('parsePurl', () => {
  it.each([
    ['pkg:npm/%40ctrl/tinycolor@4.1.1', { type: 'npm', namespace: '@ctrl', name: 'tinycolor', version: '4.1.1' }, 'pkg:npm/@ctrl/tinycolor', '@ctrl/tinycolor'],
    ['pkg:npm/@angular/core@16.2.0', { type: 'npm', namespace: '@angular', name: 'core', version: '16.2.0' }, 'pkg:npm/@angular/core', '@angular/core'],
    ['pkg:npm/lodash', { type: 'npm', name: 'lodash' }, 'pkg:npm/lodash', 'lodash'],
    ['pkg:pypi/Scikit_Learn@1.4.1.post1', { type: 'pypi', name: 'scikit-learn', version: '1.4.1.post1' }, 'pkg:pypi/scikit-learn', 'scikit-learn'],
    ['pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar', { type: 'maven', namespace: 'org.apache.logging.log4j', name: 'log4j-core', version: '2.14.1' }, 'pkg:maven/org.apache.logging.log4j/log4j-core', 'org.apache.logging.log4j:log4j-core'],
    ['pkg:deb/debian/xz-utils@5.6.1-1?arch=amd64&distro=debian-trixie', { type: 'deb', namespace: 'debian', name: 'xz-utils', version: '5.6.1-1' }, 'pkg:deb/debian/xz-utils', 'xz-utils'],
    ['pkg:golang/github.com/sirupsen/logrus@v1.9.3#hooks', { type: 'golang', namespace: 'github.com/sirupsen', name: 'logrus', version: 'v1.9.3' }, 'pkg:golang/github.com/sirupsen/logrus', 'github.com/sirupsen/logrus'],
    ['PKG:GEM/rest-client@1.6.13', { type: 'gem', name: 'rest-client', version: '1.6.13' }, 'pkg:gem/rest-client', 'rest-client'],
  ])('%s', (text, parts, key, name) => {
    const purl = parsePurl(text);
    expect(purl).toEqual(parts);
    expect(purlKey(purl!)).toBe(key);
    expect(registryName(purl!)).toBe(name);
  });

  it('refuses what is not a purl', () => {
    for (const text of ['npm/lodash@1.0.0', 'pkg:', 'pkg:npm', 'pkg:npm/', 'https://example.com/x', 'x'.repeat(3000)]) expect(parsePurl(text)).toBeUndefined();
    expect(parsePurl(undefined)).toBeUndefined();
  });
});

describe('compareVersions', () => {
  it.each([
    ['1.2.3', '1.2.4', -1],
    ['1.10.0', '1.9.9', 1],
    ['v1.2.3', '1.2.3', 0],
    ['2.0.0-rc.1', '2.0.0', -1],
    ['2.0.0-rc.2', '2.0.0-rc.10', -1],
    ['1.0.0+build.5', '1.0.0', 0],
    ['1.0rc1', '1.0', -1],
    ['1.0.post1', '1.0', 1],
    ['1.4.1.post1', '1.4.1', 1],
    ['9.0.2', '8.5.1', 1],
    ['4.17.21', '4.17.4', 1],
  ] as const)('%s vs %s', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
  });

  it('treats the last dash of an OS package as a revision, and the epoch first', () => {
    expect(compareVersions('5.6.1-1', '5.6.1-2', true)).toBe(-1);
    expect(compareVersions('1:1.3.dfsg-3', '1.4-1', true)).toBe(1);
    expect(compareVersions('5.6.1-r0', '5.6.0-r2', true)).toBe(1);
  });

  it('orders Debian security revisions (+deb12uN is part of the revision) and puts a tilde first', () => {
    const ordered = ['1.0~rc1-1', '1.0-1', '2.35-0ubuntu3.6', '2.35-0ubuntu3.8', '2.36-9', '2.36-9+deb12u2', '2.36-9+deb12u5'];
    for (const [i, older] of ordered.entries()) for (const newer of ordered.slice(i + 1)) expect(compareVersions(older, newer, true), `${older} < ${newer}`).toBe(-1);
    expect(compareVersions('7.88.1-10+deb12u8', '7.88.1-10+deb12u5', true)).toBe(1);
    expect(compareVersions('3.0.11-1~deb12u2', '3.0.11-1', true)).toBe(-1);
    expect(compareVersions('1.2+dfsg-1', '1.2+dfsg-2', true)).toBe(-1);
  });

  it('does not guess between hashes or empty versions', () => {
    expect(compareVersions('a3f5b7c', '1.0.0')).toBeUndefined();
    expect(compareVersions('', '1.0.0')).toBeUndefined();
  });

  it('finds the newest and major changes', () => {
    expect(newest(['4.17.4', '4.17.21', '3.10.1'])).toBe('4.17.21');
    expect(isMajorChange('8.5.1', '9.0.2')).toBe(true);
    expect(isMajorChange('9.0.1', '9.0.2')).toBe(false);
    expect(upstreamVersion('1:5.6.1-2.fc40')).toBe('5.6.1');
    expect(upstreamVersion('5.6.0')).toBe('5.6.0');
  });
});
