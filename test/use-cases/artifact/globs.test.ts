/** Asset-name globs of artifact.hash-mismatch (uncomparedAssets): one regex for the list answers as each glob does. */
import { describe, expect, it } from 'vitest';
import { anyGlobMatches, globMatches } from '../../../lambdas/use-cases/artifact/codeartifact.js';

describe('anyGlobMatches', () => {
  const globs = ['*.sig', '*.ASC', 'release-*.tar.gz', 'a+b(1).[x]', '*'];
  const names = ['app.zip', 'app.zip.sig', 'APP.ZIP.asc', 'release-1.2.tar.gz', 'release-1.2.tar.gzip', 'a+b(1).[x]', 'aab(1).x', '', 'line\nbreak.sig'];

  it('matches a name exactly when one of the globs does', () => {
    for (let count = 0; count <= globs.length; count += 1) {
      const list = globs.slice(0, count);
      for (const name of names) expect(anyGlobMatches(list, name), `${JSON.stringify(list)} ${JSON.stringify(name)}`).toBe(list.some((glob) => globMatches(glob, name)));
    }
  });
});
