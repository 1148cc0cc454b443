import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lambdas/config/config.js';
import { internalScope, isInternalPackage, packageGroupReach } from '../../../lambdas/use-cases/dependencies/codeartifact.js';

const config = parseConfig({
  pipeline: {
    artifacts: [
      { domain: 'acme', repository: 'internal-releases', packages: [{ format: 'generic', namespace: 'acme', name: 'payments-service', buildProject: 'payments-service-build' }, { format: 'pypi', name: 'acme-risk-model', buildProject: 'risk-model-build' }] },
    ],
  },
});

describe('internal scope', () => {
  const scope = internalScope(config, ['@payments', 'com.acme'], ['acme-*']);

  it('collects namespaces and packages from options and pipeline.artifacts', () => {
    expect([...scope.namespaces].sort()).toEqual(['acme', 'com.acme', 'payments']);
    expect([...scope.repositories]).toEqual(['acme/internal-releases']);
  });

  it('knows internal packages by namespace (with or without @) or name glob', () => {
    expect(isInternalPackage(scope, 'payments', 'client')).toBe(true);
    expect(isInternalPackage(scope, '@payments', 'client')).toBe(true);
    expect(isInternalPackage(scope, undefined, 'acme-utils')).toBe(true);
    expect(isInternalPackage(scope, undefined, 'acme-risk-model')).toBe(true);
    expect(isInternalPackage(scope, undefined, 'left-pad')).toBe(false);
    expect(isInternalPackage(scope, 'babel', 'core')).toBe(false);
  });

  it.each([
    ['/*', 'broad'],
    ['/npm/*', 'broad'],
    ['/npm/payments/*', 'internal'],
    ['/maven/com.acme~', 'internal'],
    ['/maven/com~', 'internal'],
    ['/maven/org.apache~', 'other'],
    ['/npm/babel/*', 'other'],
    ['/pypi//acme-tools$', 'internal'],
    ['/pypi//requests$', 'other'],
  ] as const)('package group %s is %s', (definition, reach) => {
    expect(packageGroupReach(scope, definition)).toBe(reach);
  });
});
