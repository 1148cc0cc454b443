/** The explicit list of use cases: adding one is one line here (no import side effects). */
import type { UseCase } from '../engine/use-case.js';
import buildProjectDrift from './build/project-drift/use-case.js';
import monitorCloudtrailTamper from './monitor/cloudtrail-tamper/use-case.js';
import sourceNewPusher from './source/new-pusher/use-case.js';

export const useCases: readonly UseCase[] = [sourceNewPusher, buildProjectDrift, monitorCloudtrailTamper];

export function useCaseById(id: string): UseCase | undefined {
  return useCases.find((useCase) => useCase.metadata.id === id);
}
