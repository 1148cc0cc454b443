/**
 * CodeBuild variables are sorted with a collator built on first use: building one costs milliseconds,
 * and a cold start that sorts no variables must not pay for it at import.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

const RealCollator = Intl.Collator;
let built = 0;
/** Intl.Collator, counting the collators built. */
class CountingCollator extends RealCollator {
  constructor(...args: ConstructorParameters<typeof Intl.Collator>) {
    super(...args);
    built += 1;
  }
}

afterEach(() => {
  Intl.Collator = RealCollator;
});

describe('the variable order of CodeBuild projects', () => {
  it('builds no collator at import, one at the first sort, and sorts as localeCompare does', async () => {
    Intl.Collator = CountingCollator as typeof Intl.Collator;
    built = 0;
    vi.resetModules();
    const { normaliseVariables } = await import('../../../lambdas/use-cases/build/codebuild.js');
    expect(built).toBe(0);

    const names = ['b', 'B', 'a', 'ä', 'Z', '_x', '10', '9', 'TOKEN', 'token'];
    const sorted = normaliseVariables(names.map((name) => ({ name, value: 'v' }))).map((variable) => variable['name']);
    expect(sorted).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    normaliseVariables([{ name: 'y', value: '1' }, { name: 'x', value: '2' }]);
    expect(built).toBe(1);
  });
});
