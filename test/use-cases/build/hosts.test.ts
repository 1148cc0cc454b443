/** Self-hosted build hosts: the hostGroups option, how events are tied to groups, bounded evidence. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lambdas/config/config.js';
import { checkConfigAgainstCatalogue } from '../../../lambdas/use-cases/check-config.js';
import { useCases } from '../../../lambdas/use-cases/index.js';
import { boundedEvidence, groupsOfTarget, hostGroupSchema, hostGroupsOption, MAX_EVIDENCE_CHARS, type HostGroup } from '../../../lambdas/use-cases/build/hosts.js';

const RUNNERS: HostGroup = hostGroupSchema.parse({
  name: 'gitlab-runners',
  instanceIds: ['i-0a1b2c3d4e5f60718'],
  tags: [{ key: 'Role', values: ['gitlab-runner'] }],
  autoScalingGroups: ['gitlab-runner-asg'],
});
const JENKINS: HostGroup = hostGroupSchema.parse({ name: 'jenkins-agents', tags: [{ key: 'Role', values: ['jenkins-agent'] }] });
const GROUPS = [RUNNERS, JENKINS];

describe('hostGroups option', () => {
  it('is checked against the catalogue for both use cases, naming the bad field', () => {
    for (const id of ['build.host-access', 'build.host-drift']) {
      const config = parseConfig({ useCases: { [id]: { options: { hostGroups: [{ name: 'runners', instanceIds: ['runner-1'] }] } } } });
      expect(() => checkConfigAgainstCatalogue(config, useCases)).toThrow(/hostGroups/);
    }
  });

  it('rejects duplicate group names, unknown fields and bad security group ids', () => {
    expect(hostGroupsOption.safeParse([{ name: 'a' }, { name: 'a' }]).success).toBe(false);
    expect(hostGroupsOption.safeParse([{ name: 'a', instances: ['i-0a1b2c3d4e5f60718'] }]).success).toBe(false);
    expect(hostGroupsOption.safeParse([{ name: 'a', securityGroups: ['default'] }]).success).toBe(false);
    expect(hostGroupsOption.parse([{ name: 'a' }])).toEqual([{ name: 'a', instanceIds: [], tags: [], autoScalingGroups: [], launchTemplates: [], securityGroups: [] }]);
  });
});

describe('groupsOfTarget', () => {
  it('ties SSM targets to groups by instance ids, tag values, tag keys and the Auto Scaling group tag', () => {
    expect(groupsOfTarget(GROUPS, { key: 'InstanceIds', values: ['i-0a1b2c3d4e5f60718'] })).toEqual([RUNNERS]);
    expect(groupsOfTarget(GROUPS, { key: 'tag:Role', values: ['jenkins-agent', 'web'] })).toEqual([JENKINS]);
    expect(groupsOfTarget(GROUPS, { key: 'tag-key', values: ['Role'] })).toEqual([RUNNERS, JENKINS]);
    expect(groupsOfTarget(GROUPS, { key: 'tag:aws:autoscaling:groupName', values: ['gitlab-runner-asg'] })).toEqual([RUNNERS]);
  });

  it('matches nothing for other tags, resource groups or malformed targets', () => {
    expect(groupsOfTarget(GROUPS, { key: 'tag:Role', values: ['web'] })).toEqual([]);
    expect(groupsOfTarget(GROUPS, { key: 'resource-groups:Name', values: ['gitlab-runners'] })).toEqual([]);
    expect(groupsOfTarget(GROUPS, { key: 'tag:constructor', values: ['x'] })).toEqual([]);
    expect(groupsOfTarget(GROUPS, 'tag:Role')).toEqual([]);
    expect(groupsOfTarget(GROUPS, { key: 'tag:Role', values: 'gitlab-runner' })).toEqual([]);
  });
});

describe('boundedEvidence', () => {
  it('masks secrets and keeps small values as they are', () => {
    const token = 'ghp_Z3xQ9mB7vL2kR8tY4wN6pC1sD5fH0jA3eG7u';
    const kept = boundedEvidence({ commands: [`gitlab-runner register --token ${token}`] });
    expect(JSON.stringify(kept)).not.toContain(token);
    expect(kept).toEqual({ commands: [expect.stringContaining('gitlab-runner register --token ghp_')] });
  });

  it('cuts a huge value to a bounded text, whatever its size', () => {
    const huge = { commands: Array.from({ length: 5000 }, (_, index) => `echo line ${index} ${'x'.repeat(200)}`) };
    const kept = boundedEvidence(huge) as { truncated: boolean; length: number; text: string };
    expect(kept.truncated).toBe(true);
    expect(kept.length).toBeGreaterThan(1_000_000);
    expect(kept.text.length).toBeLessThanOrEqual(MAX_EVIDENCE_CHARS + 1);
  });
});
