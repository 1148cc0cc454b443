/**
 * The offline seal key: an ECDSA P-256 key pair in a JSON file (one per `--keep DIR`), for replays
 * without AWS. It is labelled as what it is: anyone who can read the file can forge seals, so it
 * proves the tooling works, not that evidence is safe. In AWS, seals are signed by KMS.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { assertP256, fingerprintOf, type Signer } from './signer.js';

export const LOCAL_KEY_FILE = 'seal-key.local.json';
export const LOCAL_KEY_PREFIX = 'local:';

const WARNING =
  'LOCAL Buildwatch seal key for offline replays: NOT a KMS key. Anyone who can read this file can forge seals; ' +
  'use it to try the seal/verify flow, never as evidence. In AWS the seal Lambda signs with a KMS key.';

interface LocalKeyFile {
  readonly warning: string;
  readonly keyId: string;
  readonly algorithm: 'ECDSA_SHA_256';
  readonly createdAt: string;
  readonly publicKeyPem: string;
  readonly privateKeyPem: string;
}

export function localKeyId(publicKey: KeyObject): string {
  return `${LOCAL_KEY_PREFIX}${fingerprintOf(publicKey).slice(0, 32)}`;
}

export class LocalSigner implements Signer {
  readonly kind = 'local' as const;
  readonly keyId: string;

  constructor(
    private readonly privateKey: KeyObject,
    private readonly public_: KeyObject,
  ) {
    assertP256(public_);
    this.keyId = localKeyId(public_);
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    return sign('sha256', message, this.privateKey);
  }

  async publicKey(): Promise<KeyObject> {
    return this.public_;
  }

  /** A fresh key pair in memory (tests). */
  static generate(): LocalSigner {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return new LocalSigner(privateKey, publicKey);
  }

  /** Reads the key file; with `create`, writes a new labelled key pair there when there is none. */
  static fromFile(file: string, options: { create?: boolean } = {}): { signer: LocalSigner; created: boolean } {
    if (!existsSync(file)) {
      if (!options.create) throw new Error(`${file}: no local seal key (run \`buildwatch seal\` first, or name the key file)`);
      const signer = LocalSigner.generate();
      mkdirSync(dirname(file), { recursive: true });
      const content: LocalKeyFile = {
        warning: WARNING,
        keyId: signer.keyId,
        algorithm: 'ECDSA_SHA_256',
        createdAt: new Date().toISOString(),
        publicKeyPem: signer.public_.export({ type: 'spki', format: 'pem' }).toString(),
        privateKeyPem: signer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      };
      writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      return { signer, created: true };
    }
    let content: LocalKeyFile;
    try {
      content = JSON.parse(readFileSync(file, 'utf8')) as LocalKeyFile;
      const signer = new LocalSigner(createPrivateKey(content.privateKeyPem), createPublicKey(content.publicKeyPem));
      if (signer.keyId !== content.keyId) throw new Error(`key id ${content.keyId} does not match the key (${signer.keyId})`);
      return { signer, created: false };
    } catch (error) {
      throw new Error(`${file}: not a valid local seal key: ${(error as Error).message}`, { cause: error });
    }
  }
}
