/**
 * Signing seals: ECDSA P-256 with SHA-256 (KMS `ECDSA_SHA_256` on an `ECC_NIST_P256` key), DER
 * signatures. The seal code sees only this interface; the KMS implementation is isolated in
 * kms-signer.ts, the offline one (a local key file, clearly not KMS) in local-signer.ts.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

export const SIGNING_ALGORITHM = 'ECDSA_SHA_256' as const;

export type SignerKind = 'kms' | 'local';

export interface Signer {
  readonly kind: SignerKind;
  /** KMS: the key ARN; local: `local:<fingerprint>`. Recorded in every seal. */
  readonly keyId: string;
  /**
   * Signs SHA-256(message) with ECDSA P-256 and returns the DER signature. KMS receives only the
   * 32-byte digest (MessageType DIGEST), never the message.
   */
  sign(message: Uint8Array): Promise<Uint8Array>;
  publicKey(): Promise<KeyObject>;
}

/** Finds the public key that should verify a seal signed by `keyId` (KMS, local key file, or a pinned key). */
export interface PublicKeyResolver {
  resolve(keyId: string, kind: SignerKind): Promise<KeyObject>;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function verifySignature(message: Uint8Array, signature: Uint8Array, publicKey: KeyObject): boolean {
  try {
    return verify('sha256', message, publicKey, signature);
  } catch {
    return false; // a malformed DER signature is simply not a valid one
  }
}

/** Reads a public key given as PEM (SPKI) or DER (SPKI, as KMS GetPublicKey returns it). */
export function parsePublicKey(data: Uint8Array | string): KeyObject {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
  const key = text.includes('-----BEGIN')
    ? createPublicKey({ key: text, format: 'pem' })
    : createPublicKey({ key: Buffer.from(data), format: 'der', type: 'spki' });
  assertP256(key);
  return key;
}

export function assertP256(key: KeyObject): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error(`the seal key must be an ECDSA P-256 key, got ${key.asymmetricKeyType ?? 'unknown'} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trim());
  }
}

/** sha256 of the DER SubjectPublicKeyInfo, hex: identifies a public key whatever its encoding. */
export function fingerprintOf(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' }));
}

/** A resolver that answers every key id with one pinned key (`verify --public-key FILE`). */
export function pinnedPublicKey(key: KeyObject): PublicKeyResolver {
  return { resolve: async () => key };
}
