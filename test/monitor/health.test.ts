/** The heartbeat's judgement (a pure function of its observations and an injected clock). */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/config.js';
import { contentHashOf } from '../../lambdas/engine/canonical.js';
import { useCaseById } from '../../lambdas/use-cases/index.js';
import { HEARTBEAT_PRINCIPAL } from '../../lambdas/use-cases/monitor/constants.js';
import { assessHealth, healthFinding, heartbeatOptionsSchema, type HealthObservations } from '../../lambdas/use-cases/monitor/health.js';

const options = heartbeatOptionsSchema.parse({});
const at = (iso: string) => new Date(iso);
const healthy: HealthObservations = {
  watchingSince: '2026-11-01T00:00:00.000Z',
  cloudTrail: { at: '2026-11-03T11:50:00.000Z', eventTime: '2026-11-03T11:46:12Z', eventId: 'ct-1' },
  canaryDetected: { at: '2026-11-03T11:00:09.000Z', eventId: 'canary-11' },
  canaryDelivered: { at: '2026-11-03T11:00:12.000Z', eventId: 'sns-11' },
  deadLetter: { messages: 0 },
  canaryCheck: 'delivered',
};
const NOW = at('2026-11-03T12:00:00Z');

describe('assessHealth', () => {
  it('finds nothing wrong with a healthy monitor', () => {
    expect(assessHealth(healthy, options, NOW)).toEqual([]);
  });

  it('has sensible defaults: 2 h of silence, 150 min without a canary, one dead letter', () => {
    expect(options).toEqual({ maxSilenceMinutes: 120, canaryMaxAgeMinutes: 150, deadLetterThreshold: 1, probe: true });
    expect(() => heartbeatOptionsSchema.parse({ canaryMaxAgeMinutes: 60 })).toThrow();
    expect(() => heartbeatOptionsSchema.parse({ maxSilence: 60 })).toThrow();
  });

  it('reports CloudTrail silence once the limit is passed, not before', () => {
    const lastEvent = { ...healthy, cloudTrail: { at: '2026-11-03T10:00:00.000Z', eventId: 'ct-0' } };
    expect(assessHealth(lastEvent, options, at('2026-11-03T12:00:00Z'))).toEqual([]);
    const [problem] = assessHealth(lastEvent, options, at('2026-11-03T12:01:00Z'));
    expect(problem).toMatchObject({ check: 'cloudtrail-silence', severity: 'high', incidentKey: 'cloudtrail-silence|ct-0' });
    expect(problem?.summary).toContain('121 minutes');
  });

  it('keeps one incident key while the silence lasts, and a new one after events resumed and stopped again', () => {
    const silent = { ...healthy, cloudTrail: { at: '2026-11-03T08:00:00.000Z', eventId: 'ct-0' } };
    const keyAt = (now: string, observed = silent) => assessHealth(observed, options, at(now)).find((p) => p.check === 'cloudtrail-silence')?.incidentKey;
    expect(keyAt('2026-11-03T12:00:00Z')).toBe(keyAt('2026-11-03T18:00:00Z'));
    expect(keyAt('2026-11-04T12:00:00Z', { ...silent, cloudTrail: { at: '2026-11-04T08:00:00.000Z', eventId: 'ct-9' } })).not.toBe(keyAt('2026-11-03T12:00:00Z'));
  });

  it('gives a fresh deployment its grace period: silence counts from when watching began', () => {
    const fresh: HealthObservations = { watchingSince: '2026-11-03T11:00:00.000Z', deadLetter: { messages: 0 }, canaryCheck: 'delivered' };
    expect(assessHealth(fresh, options, at('2026-11-03T12:59:00Z'))).toEqual([]);
    const problems = assessHealth(fresh, options, at('2026-11-03T13:01:00Z'));
    expect(problems.map((p) => p.check)).toEqual(['cloudtrail-silence']);
    expect(problems[0]?.summary).toContain('since the heartbeat started watching');
    expect(assessHealth(fresh, options, at('2026-11-03T14:00:00Z')).map((p) => p.check)).toEqual(['cloudtrail-silence', 'canary-missing']);
  });

  it('says where the canary stops: before the detector, or between the detector and the alerts topic', () => {
    const beforeDetector = { ...healthy, canaryDetected: { at: '2026-11-03T08:00:05.000Z' }, canaryDelivered: { at: '2026-11-03T08:00:09.000Z', eventId: 'sns-8' } };
    const [early] = assessHealth(beforeDetector, options, NOW);
    expect(early).toMatchObject({ check: 'canary-missing', severity: 'high', resource: 'canary schedule → rule → detect queue → detect', incidentKey: 'canary-missing|sns-8' });
    expect(early?.summary).toContain('no canary reaches the detector');

    const afterDetector = { ...beforeDetector, canaryDetected: { at: '2026-11-03T11:00:05.000Z' } };
    const [late] = assessHealth(afterDetector, options, NOW);
    expect(late).toMatchObject({ check: 'canary-missing', resource: 'findings stream → notify → alerts topic' });
    expect(late?.summary).toContain('canaries still reach the detector');
  });

  it('checks the canary at the detector when its alerts are not sent, and not at all when it is off', () => {
    const stale = { ...healthy, canaryDelivered: { at: '2026-11-01T00:00:00.000Z' } };
    expect(assessHealth({ ...stale, canaryCheck: 'detected' }, options, NOW)).toEqual([]);
    expect(assessHealth({ ...stale, canaryDetected: { at: '2026-11-01T00:00:00.000Z' }, canaryCheck: 'off' }, options, NOW)).toEqual([]);
    expect(assessHealth({ ...stale, canaryDetected: { at: '2026-11-01T00:00:00.000Z' }, canaryCheck: 'detected' }, options, NOW).map((p) => p.check)).toEqual(['canary-missing']);
  });

  it('reports dead letters at the threshold, once a day, and a failed read as its own problem', () => {
    expect(assessHealth({ ...healthy, deadLetter: { messages: 2 } }, options, NOW)).toEqual([
      expect.objectContaining({ check: 'dead-letter', severity: 'medium', incidentKey: 'dead-letter|2026-11-03' }),
    ]);
    expect(assessHealth({ ...healthy, deadLetter: { messages: 2 } }, { ...options, deadLetterThreshold: 5 }, NOW)).toEqual([]);
    expect(assessHealth({ ...healthy, deadLetter: { error: 'AccessDenied: no' } }, options, NOW)).toEqual([
      expect.objectContaining({ check: 'check-failed', severity: 'medium', incidentKey: 'check-failed|dead-letter|2026-11-03' }),
    ]);
  });

  it('respects configured limits', () => {
    const strict = heartbeatOptionsSchema.parse({ maxSilenceMinutes: 30 });
    expect(assessHealth(healthy, strict, at('2026-11-03T12:21:00Z')).map((p) => p.check)).toEqual(['cloudtrail-silence']);
  });
});

describe('healthFinding', () => {
  const useCase = useCaseById('monitor.heartbeat')!;
  const [problem] = assessHealth({ ...healthy, deadLetter: { messages: 3 } }, options, NOW);

  it('is a ledger record of monitor.heartbeat with a deterministic id per incident and a valid content hash', () => {
    const finding = healthFinding(problem!, NOW, { useCase, config: parseConfig({}), account: '111122223333', region: 'eu-west-1' });
    expect(finding).toMatchObject({
      useCase: 'monitor.heartbeat',
      answers: 'monitor.health',
      stage: 'monitor',
      severity: 'medium',
      mode: 'alert',
      principal: HEARTBEAT_PRINCIPAL,
      eventTime: '2026-11-03T12:00:00Z',
      day: '2026-11-03',
      account: '111122223333',
      resource: 'dead-letter queue',
      dedupKey: 'dead-letter|2026-11-03',
    });
    expect(finding.contentHash).toBe(contentHashOf({ ...finding }));
    const later = healthFinding(problem!, at('2026-11-03T12:15:00Z'), { useCase, config: parseConfig({}) });
    expect(later.id).toBe(finding.id);
  });

  it('follows the configured mode and severity', () => {
    const config = parseConfig({ useCases: { 'monitor.heartbeat': { mode: 'attest', severity: 'critical' } } });
    expect(healthFinding(problem!, NOW, { useCase, config })).toMatchObject({ mode: 'attest', severity: 'critical' });
  });
});
