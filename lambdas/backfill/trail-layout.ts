/**
 * Where CloudTrail puts its log files, in S3 (and in a local copy made with `aws s3 sync`).
 *
 * AWS CloudTrail User Guide, "Finding your CloudTrail log files"
 * (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html):
 *   bucket/prefix/AWSLogs/<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/<file>.json.gz
 * and, for an organisation trail, with the organisation id before the account:
 *   bucket/prefix/AWSLogs/<o-id>/<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/<file>.json.gz
 * "CloudTrail log file name format" (cloudtrail-log-file-examples.html):
 *   <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz
 * where the stamp is when the file was delivered, and a file may hold records from any time before
 * it. Next to `CloudTrail/` sit `CloudTrail-Digest/` (integrity digests) and `CloudTrail-Insight/`,
 * and a shared log-archive bucket often holds other services' logs (Config, ELB…): none are events.
 */
import { REGION } from '../config/config.js';

const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const ACCOUNT = /^\d{12}$/;
/** The file extensions CloudTrail writes (and their uncompressed form, for hand-made copies). */
export const LOG_FILE = /\.json(\.gz)?$/i;
const LOG_NAME = /^(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8})T(\d{4})Z_[A-Za-z0-9]+\.json(\.gz)?$/;

export const EXPECTED_LAYOUT = 'AWSLogs/[o-…/]<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<id>.json.gz';

/** One account's log files of one region: the unit read in order and checkpointed. */
export interface TrailPrefix {
  readonly organizationId?: string;
  readonly account: string;
  readonly region: string;
}

/** What a folder is in CloudTrail's layout. */
export type FolderKind =
  /** Not under an `AWSLogs/` folder: any files found here are read as they are. */
  | { readonly kind: 'outside' }
  /** `AWSLogs/`, `AWSLogs/<o-id>/`, `…/<account>/`, `…/<account>/CloudTrail/`: look inside. */
  | { readonly kind: 'layout'; readonly account?: string }
  /** `…/<account>/CloudTrail/<region>/` (or a folder under it): one prefix's log files. */
  | { readonly kind: 'prefix'; readonly prefix: TrailPrefix }
  /** `CloudTrail-Digest/`, `CloudTrail-Insight/`, other services' logs: not events. */
  | { readonly kind: 'not-events' }
  | { readonly kind: 'unknown'; readonly reason: string };

/** Normalises separators so one parser serves S3 keys and local paths. */
function slashed(path: string): string {
  return path.split('\\').join('/');
}

/** The path segments after the last `AWSLogs` segment, or undefined when there is none. */
function afterAwsLogs(path: string): string[] | undefined {
  const segments = slashed(path).split('/');
  const at = segments.lastIndexOf('AWSLogs');
  if (at < 0) return undefined;
  return segments.slice(at + 1).filter((segment) => segment !== '');
}

/** Classifies a folder (an S3 prefix ending in `/`, or a local directory). */
export function folderKind(folder: string): FolderKind {
  const segments = afterAwsLogs(folder);
  if (!segments) return { kind: 'outside' };
  let index = 0;
  if (segments[0] !== undefined && ORGANIZATION_ID.test(segments[0])) index = 1;
  const organizationId = index === 1 ? segments[0] : undefined;
  const account = segments[index];
  if (account === undefined) return { kind: 'layout' };
  if (!ACCOUNT.test(account)) return { kind: 'unknown', reason: `${account} is neither an account id nor an organisation id (expected ${EXPECTED_LAYOUT})` };
  const service = segments[index + 1];
  if (service === undefined) return { kind: 'layout', account };
  if (service !== 'CloudTrail') return { kind: 'not-events' };
  const region = segments[index + 2];
  if (region === undefined) return { kind: 'layout', account };
  if (!REGION.test(region)) return { kind: 'unknown', reason: `${region} is not a region (expected ${EXPECTED_LAYOUT})` };
  return { kind: 'prefix', prefix: { ...(organizationId ? { organizationId } : {}), account, region } };
}

export type LogFileCheck = { readonly ok: true; readonly stamp: string } | { readonly ok: false; readonly reason: string };

/**
 * Checks a log file of `prefix`: `<yyyy>/<mm>/<dd>/` after the region, and a file name that names
 * the same account, region and day. Order within a prefix relies on this, so a file that does not
 * fit is reported rather than read out of place.
 */
export function checkLogFile(path: string, prefix: TrailPrefix): LogFileCheck {
  const segments = afterAwsLogs(path) ?? [];
  const regionAt = segments.indexOf('CloudTrail') + 1;
  const [yyyy, mm, dd, name, ...extra] = segments.slice(regionAt + 1);
  const fail = (why: string): LogFileCheck => ({ ok: false, reason: `not a CloudTrail log file of ${prefix.account} in ${prefix.region}: ${why} (expected ${EXPECTED_LAYOUT})` });
  if (name === undefined || extra.length > 0 || !/^\d{4}$/.test(yyyy ?? '') || !/^\d{2}$/.test(mm ?? '') || !/^\d{2}$/.test(dd ?? '')) {
    return fail('not in a <yyyy>/<mm>/<dd> folder');
  }
  const match = LOG_NAME.exec(name);
  if (!match) return fail('the file name is not <account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<id>.json.gz');
  const [, account, region, day, time] = match;
  if (account !== prefix.account || region !== prefix.region) return fail(`the file name is of ${account} in ${region}`);
  if (day !== `${yyyy}${mm}${dd}`) return fail(`the file name's day ${day} is not its folder's`);
  return { ok: true, stamp: `${day}T${time}Z` };
}

/** The delivery stamp of a CloudTrail file name, wherever the file sits. */
export function deliveryStamp(path: string): string | undefined {
  const name = slashed(path).split('/').pop() ?? '';
  const match = LOG_NAME.exec(name);
  return match ? `${match[3]}T${match[4]}Z` : undefined;
}

export function prefixLabel(prefix: TrailPrefix): string {
  return `${prefix.organizationId ? `${prefix.organizationId}/` : ''}${prefix.account}/${prefix.region}`;
}
