/**
 * A stand-in for an asymmetric KMS key in tests: ECDSA P-256 over a *given digest* (what KMS does
 * with MessageType DIGEST), which node:crypto cannot do (it always hashes the message itself).
 * Plain BigInt arithmetic, test-only: it signs, and node:crypto verifies what it signed.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const A = P - 3n;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const G: Point = [0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n, 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n];

type Point = readonly [bigint, bigint] | null;

const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;

function inverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return mod(oldS, m);
}

function add(p1: Point, p2: Point): Point {
  if (!p1) return p2;
  if (!p2) return p1;
  const [x1, y1] = p1;
  const [x2, y2] = p2;
  if (x1 === x2 && mod(y1 + y2, P) === 0n) return null;
  const lambda = x1 === x2 && y1 === y2 ? mod((3n * x1 * x1 + A) * inverse(2n * y1, P), P) : mod((y2 - y1) * inverse(x2 - x1, P), P);
  const x3 = mod(lambda * lambda - x1 - x2, P);
  return [x3, mod(lambda * (x1 - x3) - y1, P)];
}

function multiply(k: bigint, point: Point): Point {
  let result: Point = null;
  let addend = point;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

const toBigInt = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);

function derInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

export interface FakeKmsKey {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  /** DER SubjectPublicKeyInfo, as KMS GetPublicKey returns it. */
  readonly publicKeyDer: Uint8Array;
  /** ECDSA over a 32-byte digest, DER-encoded, as KMS Sign with MessageType DIGEST returns it. */
  signDigest(digest: Uint8Array): Uint8Array;
}

export function fakeKmsKey(keyId = 'arn:aws:kms:eu-west-1:111122223333:key/0c6f6a9e-seal-test'): FakeKmsKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const d = toBigInt(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'));
  return {
    keyId,
    publicKey,
    publicKeyDer: publicKey.export({ type: 'spki', format: 'der' }),
    signDigest(digest) {
      if (digest.length !== 32) throw new Error('ECDSA_SHA_256 with MessageType DIGEST takes a 32-byte digest');
      const z = toBigInt(digest);
      for (;;) {
        const k = mod(toBigInt(randomBytes(32)), N);
        if (k === 0n) continue;
        const point = multiply(k, G);
        if (!point) continue;
        const r = mod(point[0], N);
        if (r === 0n) continue;
        const s = mod(inverse(k, N) * (z + r * d), N);
        if (s === 0n) continue;
        const body = Buffer.concat([derInteger(r), derInteger(s)]);
        return Buffer.concat([Buffer.from([0x30, body.length]), body]);
      }
    },
  };
}
