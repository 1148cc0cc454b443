/**
 * Team routing by account (#16): in an organisation deployment, a team's `accounts` get every alert
 * of those accounts (the notify Lambda's chat routing and the SNS filter policies agree); without an
 * organisation section, `accounts` route nothing (findings carry no account attribute there).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/config.js';
import { teamFor } from '../../lambdas/engine/policy.js';
import { formatAlert } from '../../lambdas/notify/format.js';
import { chatRoutesFor, routes, subscriptionFilterPolicy } from '../../lambdas/notify/routing.js';
import { finding } from './fixtures.js';

const TOOLING = '222233334444';
const teams = {
  platform: { accounts: [TOOLING], slack: { workspaceId: 'T07EA123LEP', channelId: 'C07PLATFRM' }, email: ['platform@example.com'] },
  payments: { repositories: ['payments-service'], slack: { workspaceId: 'T07EA123LEP', channelId: 'C07PAYDEV1' } },
};
const organization = {
  id: 'o-a1b2c3d4e5',
  managementAccount: '999988887777',
  central: { account: '333344445555', region: 'eu-west-1' },
  members: { accounts: [TOOLING], regions: ['eu-west-1'] },
};
const orgConfig = parseConfig({ organization, routing: { teams } });
const singleConfig = parseConfig({ routing: { teams } });

describe('team routing by account', () => {
  it('sends every alert of a team\'s account to it, besides the resource team\'s', () => {
    const ofTooling = finding({ account: TOOLING, team: 'payments', severity: 'medium' });
    expect(chatRoutesFor(orgConfig, ofTooling)).toEqual(['team-payments', 'team-platform']);
    expect(chatRoutesFor(orgConfig, finding({ account: '111122223333', team: 'payments', severity: 'medium' }))).toEqual(['team-payments']);
  });

  it('makes the SNS filter policy match the account attribute the alert carries', () => {
    const platform = routes(orgConfig).find((route) => route.team === 'platform');
    const policy = subscriptionFilterPolicy(platform!);
    expect(policy).toEqual({
      $or: [
        { team: ['platform'], severity: ['low', 'medium', 'high', 'critical'], useCase: [{ 'anything-but': ['monitor.canary'] }] },
        { account: [TOOLING], severity: ['low', 'medium', 'high', 'critical'], useCase: [{ 'anything-but': ['monitor.canary'] }] },
      ],
    });
    expect(formatAlert(finding({ account: TOOLING }), { organization: true }).attributes['account']).toBe(TOOLING);
  });

  it('gives a finding no resource team claims the team of its account', () => {
    expect(teamFor(orgConfig, 'some-other-repo', TOOLING)).toBe('platform');
    expect(teamFor(orgConfig, 'payments-service', TOOLING)).toBe('payments');
    expect(teamFor(orgConfig, undefined, TOOLING)).toBe('platform');
    expect(teamFor(orgConfig, 'some-other-repo', '111122223333')).toBeUndefined();
  });

  it('routes nothing by account without an organisation section', () => {
    expect(chatRoutesFor(singleConfig, finding({ account: TOOLING, team: 'payments', severity: 'medium' }))).toEqual(['team-payments']);
    const platform = routes(singleConfig).find((route) => route.team === 'platform');
    expect(subscriptionFilterPolicy(platform!)).toEqual({ team: ['platform'], severity: ['low', 'medium', 'high', 'critical'], useCase: [{ 'anything-but': ['monitor.canary'] }] });
  });
});
