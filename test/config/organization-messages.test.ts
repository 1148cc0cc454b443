/**
 * The organisation section: a missing piece fails with a message naming it (path and what belongs
 * there), and the fixture the stack tests synthesize is valid.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../lambdas/config/config.js';

const complete = {
  id: 'o-a1b2c3d4e5',
  managementAccount: '999988887777',
  central: { account: '444455556666', region: 'eu-west-1' },
  members: { accounts: ['111122223333'], regions: ['eu-west-1'] },
};

const message = (organization: unknown): string => {
  try {
    parseConfig({ organization }, 'org.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('organisation configuration messages', () => {
  it('names each missing piece and what belongs there', () => {
    const without = (key: keyof typeof complete) => Object.fromEntries(Object.entries(complete).filter(([k]) => k !== key));
    expect(message(without('id'))).toBe('org.json: invalid configuration: organization.id: missing: the organisation id (o-…), from `aws organizations describe-organization`');
    expect(message(without('managementAccount'))).toBe("org.json: invalid configuration: organization.managementAccount: missing: the organisation's management account id");
    expect(message(without('central'))).toContain('organization.central: missing: the central account and region');
    expect(message({ ...complete, central: { account: '444455556666' } })).toContain('organization.central.region: missing: the region of the central stack');
    expect(message({ ...complete, central: { region: 'eu-west-1' } })).toContain('organization.central.account: missing: the account of the central stack');
    expect(message(without('members'))).toContain('organization.members: missing: the member targets');
    expect(message({ ...complete, members: { accounts: ['111122223333'] } })).toContain('organization.members.regions: missing: the regions to watch');
    expect(message({ ...complete, accounts: [{ id: '111122223333' }] })).toContain('organization.accounts[0].name: missing: the account\'s name');
  });

  it('still says what is wrong with a value that is present', () => {
    expect(message({ ...complete, id: 'org-1' })).toContain('organization.id: an organisation id, e.g. o-a1b2c3d4e5');
    expect(message({ ...complete, central: { account: '4444', region: 'eu-west-1' } })).toContain('organization.central.account: a 12-digit AWS account id');
    expect(message({ ...complete, members: { accounts: ['111122223333'], regions: ['eu-west-1', 'eu-west-1'] } })).toContain('organization.members.regions[1]: region eu-west-1 is listed twice');
    expect(message({ ...complete, members: { regions: ['eu-west-1'] } })).toContain('name the member targets');
  });

  it('accepts the organisation fixture', () => {
    const config = loadConfig(resolve(import.meta.dirname, '..', 'fixtures', 'organization.config.json'));
    expect(config.organization?.central).toEqual({ account: '444455556666', region: 'eu-west-1' });
  });
});
