/**
 * Did IAM see MFA for the session behind a CloudTrail record? Four answers, because "false" means
 * different things (EVENTS.md 1.3):
 *
 * - present:    the session says mfaAuthenticated "true".
 * - absent:     the session says "false" (an IAM user's console or GetSessionToken session, a role
 *               assumed without MFA).
 * - impossible: no session at all: an IAM user's long-lived credentials (HTTPS Git credentials, an
 *               SSH key, an access key) can never carry MFA.
 * - unknown:    the MFA happened, or not, outside IAM: Identity Center permission sets (they say
 *               "false" even when the identity provider enforced MFA), SAML/web-identity roles,
 *               federated users; also calls a service made on the principal's behalf.
 */
import type { CloudTrailRecord } from '../../engine/events.js';
import { principalMatches } from '../../engine/principal.js';
import type { Principal } from '../../engine/model.js';

export type MfaState = 'present' | 'absent' | 'impossible' | 'unknown';

export interface MfaVerdict {
  readonly state: MfaState;
  /** Plain words for the finding: why this is the answer. */
  readonly reason: string;
}

const SSO_ROLE = /(aws-reserved\/sso\.amazonaws\.com\/|:role\/(?:.*\/)?AWSReservedSSO_)/;
const SSO_SESSION = /:assumed-role\/AWSReservedSSO_/;

/** The kind of long-lived credential an IAM user's record shows. */
function credentialOf(record: CloudTrailRecord): string {
  const protocol = typeof record.additionalEventData?.['protocol'] === 'string' ? record.additionalEventData['protocol'] : undefined;
  const agent = record.userAgent ?? '';
  if (protocol === 'SSH' || agent.startsWith('SSH-')) return 'an SSH key';
  // git-remote-codecommit signs with the user's access key; plain HTTPS uses Git credentials (no key id).
  if (record.userIdentity?.accessKeyId?.startsWith('AKIA')) return 'a long-term access key';
  if (protocol === 'HTTP' || /^git\//.test(agent)) return 'HTTPS Git credentials';
  return 'long-term credentials';
}

function sessionFlag(record: CloudTrailRecord): 'true' | 'false' | undefined {
  const flag = record.userIdentity?.sessionContext?.attributes?.mfaAuthenticated;
  if (flag === true || flag === 'true') return 'true';
  if (flag === false || flag === 'false') return 'false';
  return undefined;
}

/**
 * The MFA verdict for a record. `idpRoles` names roles (ARN or glob) that people reach through an
 * external identity provider (SAML), whose sessions look like any other assumed role.
 */
export function mfaVerdict(record: CloudTrailRecord, principal: Principal | undefined, idpRoles: readonly string[]): MfaVerdict {
  const identity = record.userIdentity;
  const type = identity?.type ?? 'Unknown';
  const flag = sessionFlag(record);
  if (identity?.invokedBy) return { state: 'unknown', reason: `MFA unknown: ${identity.invokedBy} made the call on the principal's behalf` };
  switch (type) {
    case 'IAMUser':
    case 'Root':
      if (flag === 'true') return { state: 'present', reason: 'the session was MFA-authenticated' };
      if (flag === 'false') return { state: 'absent', reason: 'no MFA: the session says mfaAuthenticated "false"' };
      return { state: 'impossible', reason: `MFA impossible: ${credentialOf(record)} of ${type === 'Root' ? 'the root user' : 'an IAM user'}, long-lived credentials with no session that could carry MFA` };
    case 'AssumedRole': {
      const issuer = identity?.sessionContext?.sessionIssuer?.arn ?? '';
      if (SSO_ROLE.test(issuer) || SSO_SESSION.test(identity?.arn ?? '')) {
        return { state: 'unknown', reason: 'MFA unknown: an IAM Identity Center session; IAM does not see the identity provider\'s MFA' };
      }
      const webIdentity = identity?.sessionContext?.['webIdFederationData'];
      if (webIdentity && typeof webIdentity === 'object' && Object.keys(webIdentity).length > 0) {
        return { state: 'unknown', reason: 'MFA unknown: a web-identity session; IAM does not see the identity provider\'s MFA' };
      }
      if (principal && idpRoles.some((entry) => principalMatches(entry, principal))) {
        return { state: 'unknown', reason: 'MFA unknown: a role reached through an external identity provider; IAM does not see its MFA' };
      }
      if (flag === 'true') return { state: 'present', reason: 'the session was MFA-authenticated' };
      if (flag === 'false') return { state: 'absent', reason: 'no MFA: the role session says mfaAuthenticated "false"' };
      return { state: 'unknown', reason: 'MFA unknown: the record carries no MFA attribute' };
    }
    case 'FederatedUser':
      return { state: 'unknown', reason: 'MFA unknown: a federated-user session; the identity broker, not IAM, decides MFA' };
    case 'IdentityCenterUser':
    case 'SAMLUser':
    case 'WebIdentityUser':
      return { state: 'unknown', reason: `MFA unknown: a ${type} session; IAM does not see the identity provider's MFA` };
    default:
      return { state: 'unknown', reason: `MFA unknown: a ${type} identity` };
  }
}
