/**
 * What an ACM ImportCertificate record tells about the certificate it imports. CloudTrail renders
 * the request's `certificate` blob either as a PEM string or as a serialised Java ByteBuffer
 * (`{hb: [bytes…], offset, limit, …}`, the ACM user guide's example); shippers may also drop it.
 * The private key is never read. Parsing uses Node's own X.509 parser.
 */
import { X509Certificate } from 'node:crypto';
import { isRecord } from '../../engine/pipeline-event.js';

/** The facts of a certificate that decide whether a re-import is a renewal. */
export interface CertificateFacts {
  readonly subject: string;
  readonly issuer: string;
  /** `rsa-2048`, `ec-prime256v1`, `ed25519`… */
  readonly keyAlgorithm: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly serialNumber: string;
  readonly fingerprint256: string;
}

/** Subjects and issuers come from whoever made the certificate: bounded before they are stored. */
const MAX_NAME = 300;
/** A PEM certificate chain is a few KB; anything far larger is not a certificate. */
const MAX_BYTES = 64 * 1024;

function bounded(text: string): string {
  const oneLine = text.replace(/\s*\n\s*/g, ', ');
  return oneLine.length > MAX_NAME ? `${oneLine.slice(0, MAX_NAME)}…` : oneLine;
}

/** The bytes of a ByteBuffer as CloudTrail serialises it: hb[offset, offset + limit). */
function byteBufferText(value: Record<string, unknown>): string | undefined {
  const hb = value['hb'];
  if (!Array.isArray(hb) || hb.length === 0 || hb.length > MAX_BYTES) return undefined;
  if (!hb.every((b): b is number => typeof b === 'number' && Number.isInteger(b) && b >= -128 && b <= 255)) return undefined;
  const offset = typeof value['offset'] === 'number' && value['offset'] >= 0 ? value['offset'] : 0;
  const limit = typeof value['limit'] === 'number' && value['limit'] > 0 ? Math.min(value['limit'], hb.length - offset) : hb.length - offset;
  // Java bytes are signed.
  return Buffer.from(hb.slice(offset, offset + limit).map((b) => b & 0xff)).toString('latin1');
}

function certificateText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length <= MAX_BYTES ? value : undefined;
  if (isRecord(value)) return byteBufferText(value);
  return undefined;
}

function keyAlgorithmOf(certificate: X509Certificate): string {
  const key = certificate.publicKey;
  const details = key.asymmetricKeyDetails;
  const size = details?.modulusLength ?? details?.namedCurve;
  return `${key.asymmetricKeyType ?? 'unknown'}${size !== undefined ? `-${String(size)}` : ''}`;
}

/** The first certificate of a PEM (the leaf), or undefined when the record does not carry a readable one. */
export function certificateFacts(value: unknown): CertificateFacts | undefined {
  const text = certificateText(value);
  const pem = text ? /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text)?.[0] : undefined;
  if (!pem) return undefined;
  try {
    const certificate = new X509Certificate(pem);
    return {
      subject: bounded(certificate.subject),
      issuer: bounded(certificate.issuer),
      keyAlgorithm: keyAlgorithmOf(certificate),
      notBefore: new Date(certificate.validFrom).toISOString(),
      notAfter: new Date(certificate.validTo).toISOString(),
      serialNumber: certificate.serialNumber.slice(0, 80),
      fingerprint256: certificate.fingerprint256,
    };
  } catch {
    return undefined;
  }
}
