/**
 * How a failed API call failed. A refusal (AWS denied the caller) says someone lacked the right; a
 * failure for another reason (no such trail, a malformed name, a throttle) says nothing about
 * authority, so alerts must not call it "refused".
 */

/** Error codes of authorisation failures across services (IAM, STS, EC2-style, S3, KMS). */
const REFUSAL = /AccessDenied|Unauthori[sz]ed|NotAuthori[sz]ed|Forbidden|ExplicitDeny|InsufficientPermissions|AuthFailure|AuthorizationError/i;

export function isRefusal(errorCode: string | undefined): boolean {
  return errorCode !== undefined && REFUSAL.test(errorCode);
}

/** The call named something that does not exist or is malformed: nothing was at risk. */
const MISSING_TARGET = /NotFound|NoSuch|DoesNotExist|^Invalid[A-Za-z]*Name/i;

export function isMissingTarget(errorCode: string | undefined): boolean {
  return errorCode !== undefined && MISSING_TARGET.test(errorCode);
}

/** "was refused (AccessDenied)" or "failed (TrailNotFoundException)": the tail of an attempt's summary. */
export function failureOutcome(errorCode: string | undefined): string {
  if (errorCode === undefined) return 'failed (error)';
  return isRefusal(errorCode) ? `was refused (${errorCode})` : `failed (${errorCode})`;
}

/** "Refused" or "Failed": the head of an attempt's title. */
export function failureLabel(errorCode: string | undefined): 'Refused' | 'Failed' {
  return isRefusal(errorCode) ? 'Refused' : 'Failed';
}
