/**
 * A console link for an alert, built only from what the finding has: the CloudTrail event history
 * record when the finding came from CloudTrail (most do), else the CodeCommit repository or CodeBuild
 * project named by the resource's ARN. Every part taken from the finding is checked against what AWS
 * allows for it and percent-encoded, so event text can never reshape the URL; anything unexpected
 * gives no link rather than a wrong one.
 */
import type { Finding } from '../engine/model.js';

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
const ACCOUNT = /^\d{12}$/;
/** CloudTrail event ids are UUIDs. */
const EVENT_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** CodeCommit repository and CodeBuild project names: letters, digits, '.', '_' and '-'. */
const NAME = /^[A-Za-z0-9._-]{1,255}$/;

/** The console's host for a region's partition. */
function consoleHost(region: string): string {
  if (region.startsWith('cn-')) return `${region}.console.amazonaws.cn`;
  if (region.startsWith('us-gov-')) return `${region}.console.amazonaws-us-gov.com`;
  return `${region}.console.aws.amazon.com`;
}

/** The best console link for the finding, or undefined when nothing trustworthy can be built. */
export function consoleLink(finding: Pick<Finding, 'region' | 'account' | 'resource' | 'cloudTrailEventId' | 'stage'>): string | undefined {
  const arn = parseArn(finding.resource);
  const region = [finding.region, arn?.region].find((r): r is string => typeof r === 'string' && REGION.test(r));
  if (!region) return undefined;
  const host = consoleHost(region);
  const r = encodeURIComponent(region);
  if (finding.cloudTrailEventId && EVENT_ID.test(finding.cloudTrailEventId)) {
    return `https://${host}/cloudtrail/home?region=${r}#/events/${encodeURIComponent(finding.cloudTrailEventId)}`;
  }
  if (arn?.service === 'codecommit' && NAME.test(arn.resource)) {
    return `https://${host}/codesuite/codecommit/repositories/${encodeURIComponent(arn.resource)}/browse?region=${r}`;
  }
  if (arn?.service === 'codebuild' && arn.resource.startsWith('project/') && NAME.test(arn.resource.slice(8)) && ACCOUNT.test(arn.account)) {
    return `https://${host}/codesuite/codebuild/${encodeURIComponent(arn.account)}/projects/${encodeURIComponent(arn.resource.slice(8))}/history?region=${r}`;
  }
  // A bare name from a source use case is a repository name.
  if (!arn && finding.stage === 'source' && finding.resource && NAME.test(finding.resource)) {
    return `https://${host}/codesuite/codecommit/repositories/${encodeURIComponent(finding.resource)}/browse?region=${r}`;
  }
  return undefined;
}

function parseArn(value: string | undefined): { service: string; region: string; account: string; resource: string } | undefined {
  if (!value?.startsWith('arn:')) return undefined;
  const parts = value.split(':');
  if (parts.length < 6) return undefined;
  return { service: parts[2] ?? '', region: parts[3] ?? '', account: parts[4] ?? '', resource: parts.slice(5).join(':') };
}
