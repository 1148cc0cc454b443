/**
 * The cloud seal key: an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY). Sign receives the SHA-256
 * digest (MessageType DIGEST, ECDSA_SHA_256); GetPublicKey returns the DER SubjectPublicKeyInfo,
 * which node:crypto verifies with, so verifying needs kms:GetPublicKey only (or a saved public key).
 * The only file that talks to KMS.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { parsePublicKey, SIGNING_ALGORITHM, type PublicKeyResolver, type Signer, type SignerKind } from './signer.js';

export class KmsSigner implements Signer {
  readonly kind = 'kms' as const;

  /** keyId: the key's ARN (recorded in seals, so verify knows which key to ask for). */
  constructor(
    private readonly client: KMSClient,
    readonly keyId: string,
  ) {}

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const digest = createHash('sha256').update(message).digest();
    const { Signature } = await this.client.send(
      new SignCommand({ KeyId: this.keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: SIGNING_ALGORITHM }),
    );
    if (!Signature) throw new Error(`KMS Sign with ${this.keyId} returned no signature`);
    return Signature;
  }

  async publicKey(): Promise<KeyObject> {
    return kmsPublicKey(this.client, this.keyId);
  }
}

export async function kmsPublicKey(client: KMSClient, keyId: string): Promise<KeyObject> {
  const response = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  if (response.KeyUsage && response.KeyUsage !== 'SIGN_VERIFY') throw new Error(`${keyId} is not a signing key (KeyUsage ${response.KeyUsage})`);
  if (response.SigningAlgorithms && !response.SigningAlgorithms.includes(SIGNING_ALGORITHM)) {
    throw new Error(`${keyId} does not support ${SIGNING_ALGORITHM}`);
  }
  if (!response.PublicKey) throw new Error(`KMS GetPublicKey for ${keyId} returned no key`);
  return parsePublicKey(response.PublicKey);
}

/** The region of a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), if it is one. */
export function regionOfKeyArn(keyId: string): string | undefined {
  const parts = keyId.split(':');
  return parts[0] === 'arn' && parts[2] === 'kms' && parts[3] ? parts[3] : undefined;
}

/**
 * Public keys of KMS-signed seals, fetched once per key. A client per region (a key ARN names its
 * region); `clientFor` is injectable for tests.
 */
export class KmsPublicKeys implements PublicKeyResolver {
  private readonly cache = new Map<string, Promise<KeyObject>>();
  private readonly clients = new Map<string, KMSClient>();

  constructor(private readonly clientFor: (region: string | undefined) => KMSClient = (region) => new KMSClient(region ? { region } : {})) {}

  resolve(keyId: string, kind: SignerKind): Promise<KeyObject> {
    if (kind !== 'kms') return Promise.reject(new Error(`${keyId} is a ${kind} key, not a KMS key`));
    let key = this.cache.get(keyId);
    if (!key) {
      const region = regionOfKeyArn(keyId);
      let client = this.clients.get(region ?? '');
      if (!client) {
        client = this.clientFor(region);
        this.clients.set(region ?? '', client);
      }
      key = kmsPublicKey(client, keyId);
      this.cache.set(keyId, key);
    }
    return key;
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
  }
}
