/** The explicit list of use cases: adding one is one line here (no import side effects). */
import type { UseCase } from '../engine/use-case.js';
import artifactHashMismatch from './artifact/hash-mismatch/use-case.js';
import artifactNewAccessor from './artifact/new-accessor/use-case.js';
import artifactPolicyGrant from './artifact/policy-grant/use-case.js';
import buildBuildOverride from './build/build-override/use-case.js';
import buildFleetDrift from './build/fleet-drift/use-case.js';
import buildHostAccess from './build/host-access/use-case.js';
import buildHostDrift from './build/host-drift/use-case.js';
import buildImageChange from './build/image-change/use-case.js';
import buildImagePusher from './build/image-pusher/use-case.js';
import buildImageRepoChange from './build/image-repo-change/use-case.js';
import buildInteractiveAccess from './build/interactive-access/use-case.js';
import buildPipelineChange from './build/pipeline-change/use-case.js';
import buildProjectDrift from './build/project-drift/use-case.js';
import buildProjectExposure from './build/project-exposure/use-case.js';
import buildRefusedProjectChange from './build/refused-project-change/use-case.js';
import buildSigningCertificateChange from './build/signing-certificate-change/use-case.js';
import buildSigningKeyChange from './build/signing-key-change/use-case.js';
import buildSigningKeyFirstUser from './build/signing-key-first-user/use-case.js';
import dependenciesCompromisedPackage from './dependencies/compromised-package/use-case.js';
import dependenciesLibraryChange from './dependencies/library-change/use-case.js';
import dependenciesPackageSource from './dependencies/package-source/use-case.js';
import dependenciesSbom from './dependencies/sbom/use-case.js';
import monitorCanary from './monitor/canary/use-case.js';
import monitorCloudtrailTamper from './monitor/cloudtrail-tamper/use-case.js';
import monitorFunctionTamper from './monitor/function-tamper/use-case.js';
import monitorHeartbeat from './monitor/heartbeat/use-case.js';
import monitorKeyTamper from './monitor/key-tamper/use-case.js';
import monitorResourceTamper from './monitor/resource-tamper/use-case.js';
import monitorRuleTamper from './monitor/rule-tamper/use-case.js';
import monitorTrailArchiveTamper from './monitor/trail-archive-tamper/use-case.js';
import sourceNewPusher from './source/new-pusher/use-case.js';
import sourceProtectionChange from './source/protection-change/use-case.js';
import sourcePushWithoutMfa from './source/push-without-mfa/use-case.js';
import sourceReviewBypass from './source/review-bypass/use-case.js';

export const useCases: readonly UseCase[] = [sourceNewPusher, sourcePushWithoutMfa, sourceReviewBypass, sourceProtectionChange, dependenciesSbom, dependenciesLibraryChange, dependenciesCompromisedPackage, dependenciesPackageSource, buildProjectDrift, buildRefusedProjectChange, buildBuildOverride, buildProjectExposure, buildPipelineChange, buildImageChange, buildImagePusher, buildImageRepoChange, buildInteractiveAccess, buildFleetDrift, buildHostAccess, buildHostDrift, buildSigningKeyChange, buildSigningCertificateChange, buildSigningKeyFirstUser, artifactHashMismatch, artifactNewAccessor, artifactPolicyGrant, monitorCloudtrailTamper, monitorTrailArchiveTamper, monitorRuleTamper, monitorFunctionTamper, monitorResourceTamper, monitorKeyTamper, monitorHeartbeat, monitorCanary];

export function useCaseById(id: string): UseCase | undefined {
  return useCases.find((useCase) => useCase.metadata.id === id);
}
