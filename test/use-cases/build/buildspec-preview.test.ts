import { describe, expect, it } from 'vitest';
import { buildspecState } from '../../../lambdas/use-cases/build/codebuild.js';

describe('buildspecState', () => {
  it('masks a secret before cutting the preview: a URL password that crosses the cut does not survive in it', () => {
    const padding = `version: 0.2\nphases:\n  build:\n    commands:\n${'      - echo building\n'.repeat(12)}`;
    const buildspec = `${padding.slice(0, 250)}\n      - git clone https://deploy:S3cr3tDeployPassw0rd@git.example.com/acme/tools.git\n`;
    const preview = String(buildspecState(buildspec)?.['preview']);
    expect(preview.length).toBeLessThanOrEqual(300);
    expect(preview).not.toContain('S3cr3tDeploy');
    expect(preview).toContain('https://deploy:');
  });
});
