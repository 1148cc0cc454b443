/**
 * The KMS signer and public keys (aws-sdk-client-mock; the mocked key really signs the digest it is
 * given, like KMS with MessageType DIGEST) and the seal Lambda sealing with them against dynalite.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { createHash } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler, runSeal } from '../../lambdas/handlers/seal.js';
import { KmsPublicKeys, KmsSigner, regionOfKeyArn } from '../../lambdas/ledger/kms-signer.js';
import { ensureSealsTable, LEDGER_ENV, SealStore } from '../../lambdas/ledger/seal-store.js';
import { parsePayload } from '../../lambdas/ledger/seal.js';
import { verifySignature } from '../../lambdas/ledger/signer.js';
import { verifyLedger } from '../../lambdas/ledger/verifier.js';
import { documentClient, localDynamoClient } from '../../lambdas/store/dynamo-clients.js';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { records } from './fixtures.js';
import { fakeKmsKey } from './support/fake-kms.js';

const kms = mockClient(KMSClient);
const key = fakeKmsKey();

beforeEach(() => {
  kms.reset();
  kms.on(SignCommand).callsFake((input: { Message: Uint8Array }) => ({ KeyId: key.keyId, Signature: key.signDigest(input.Message), SigningAlgorithm: 'ECDSA_SHA_256' }));
  kms.on(GetPublicKeyCommand).resolves({ KeyId: key.keyId, PublicKey: key.publicKeyDer, KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ECDSA_SHA_256'] });
});
afterEach(() => kms.reset());

describe('KmsSigner', () => {
  it('sends KMS only the SHA-256 digest (MessageType DIGEST, ECDSA_SHA_256); node:crypto verifies the message with the public key', async () => {
    const signer = new KmsSigner(new KMSClient({ region: 'eu-west-1' }), key.keyId);
    const message = Buffer.from('{"day":"2026-10-25"}');
    const signature = await signer.sign(message);
    expect(kms).toHaveReceivedCommandWith(SignCommand, {
      KeyId: key.keyId,
      MessageType: 'DIGEST',
      SigningAlgorithm: 'ECDSA_SHA_256',
      Message: createHash('sha256').update(message).digest(),
    });
    expect(verifySignature(message, signature, await signer.publicKey())).toBe(true);
    expect(verifySignature(Buffer.from('{"day":"2026-10-26"}'), signature, await signer.publicKey())).toBe(false);
  });

  it('refuses a key that is not a P-256 signing key', async () => {
    kms.on(GetPublicKeyCommand).resolves({ KeyId: key.keyId, PublicKey: key.publicKeyDer, KeyUsage: 'ENCRYPT_DECRYPT' });
    await expect(new KmsSigner(new KMSClient({ region: 'eu-west-1' }), key.keyId).publicKey()).rejects.toThrow(/not a signing key/);
  });

  it('fetches each public key once, from the region its ARN names, and only for KMS seals', async () => {
    const regions: Array<string | undefined> = [];
    const keys = new KmsPublicKeys((region) => {
      regions.push(region);
      return new KMSClient({ region: region ?? 'eu-west-1' });
    });
    await keys.resolve(key.keyId, 'kms');
    await keys.resolve(key.keyId, 'kms');
    expect(kms).toHaveReceivedCommandTimes(GetPublicKeyCommand, 1);
    expect(regions).toEqual(['eu-west-1']);
    await expect(keys.resolve('local:abc', 'local')).rejects.toThrow(/not a KMS key/);
    expect(regionOfKeyArn('arn:aws:kms:us-east-2:111122223333:key/x')).toBe('us-east-2');
    expect(regionOfKeyArn('alias/ledger-seal')).toBeUndefined();
    keys.destroy();
  });
});

describe('seal Lambda (runSeal)', () => {
  const dynamo = useLocalDynamo();

  async function setup() {
    const stores = await dynamo.freshStores();
    const client = localDynamoClient(dynamo.endpoint());
    const sealsTable = `seals-kms-${stores.tables.findings}`;
    await ensureSealsTable(client, sealsTable);
    const seals = new SealStore(documentClient(client), sealsTable);
    const signer = new KmsSigner(new KMSClient({ region: 'eu-west-1' }), key.keyId);
    return { stores, seals, signer };
  }

  it('on schedule: starts the chain at the newest settled day, then catches up on every day since', async () => {
    const { stores, seals, signer } = await setup();
    for (const item of records(9, ['2026-10-20', '2026-10-21', '2026-10-22'])) await stores.findings.put(item);
    const first = await runSeal(undefined, { findings: stores.findings, seals, signer, now: new Date('2026-10-22T03:00:00Z') });
    expect(first.sealed.map((s) => s.day)).toEqual(['2026-10-20']);
    const second = await runSeal({}, { findings: stores.findings, seals, signer, now: new Date('2026-10-25T03:00:00Z') });
    expect(second.sealed.map((s) => [s.day, s.count])).toEqual([['2026-10-21', 3], ['2026-10-22', 3], ['2026-10-23', 0]]);
    expect(parsePayload((await seals.get('2026-10-21'))!.payload)).toMatchObject({ signer: { kind: 'kms', keyId: key.keyId }, previous: { day: '2026-10-20' } });
    // An auditor verifies with kms:GetPublicKey only.
    const report = await verifyLedger({ from: '2026-10-20', to: '2026-10-23', findings: stores.findings, seals, keys: new KmsPublicKeys(() => new KMSClient({ region: 'eu-west-1' })), expectedKeyId: key.keyId, now: new Date('2026-10-25T03:00:00Z') });
    expect(report.problems).toEqual([]);
    expect(report.sealedDays).toBe(4);
  });

  it('backfills requested days, never a day still settling, and says why a request is refused', async () => {
    const { stores, seals, signer } = await setup();
    for (const item of records(4, ['2026-09-01', '2026-09-02'])) await stores.findings.put(item);
    const now = new Date('2026-10-25T03:00:00Z');
    const result = await runSeal({ from: '2026-09-01', to: '2026-09-03' }, { findings: stores.findings, seals, signer, now });
    expect(result.sealed.map((s) => s.day)).toEqual(['2026-09-01', '2026-09-02', '2026-09-03']);
    expect((await runSeal({ from: '2026-09-01', to: '2026-09-01' }, { findings: stores.findings, seals, signer, now })).alreadySealed).toEqual(['2026-09-01']);
    await expect(runSeal({ from: '2026-10-24', to: '2026-10-24' }, { findings: stores.findings, seals, signer, now })).rejects.toThrow(/has not settled yet/);
    await expect(runSeal({ from: '2026-09-03', to: '2026-09-01' }, { findings: stores.findings, seals, signer, now })).rejects.toThrow(/from <= to/);
    await expect(runSeal({ from: '2024-01-01', to: '2026-09-01' }, { findings: stores.findings, seals, signer, now })).rejects.toThrow(/at most 366 days/);
  });

  it('the handler reads its tables and key from the environment and treats a scheduled event as "catch up"', async () => {
    const { stores, seals } = await setup();
    await stores.findings.put(records(1, ['2026-01-05'])[0]!);
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamo.endpoint());
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
    vi.stubEnv(LEDGER_ENV.findingsTable, stores.tables.findings);
    vi.stubEnv(LEDGER_ENV.sealsTable, seals.tableName);
    vi.stubEnv(LEDGER_ENV.sealKeyArn, key.keyId);
    try {
      const scheduled = { version: '0', id: 'e', 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2026-11-25T03:00:00Z', detail: {} };
      const first = await handler(scheduled);
      expect(first.sealed).toHaveLength(1); // the chain starts at the newest settled day
      const backfill = await handler({ from: '2026-01-05', to: '2026-01-05' });
      expect(backfill.sealed).toEqual([expect.objectContaining({ day: '2026-01-05', count: 1 })]);
      expect(kms).toHaveReceivedCommandWith(SignCommand, { KeyId: key.keyId, MessageType: 'DIGEST' });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
