/**
 * `buildwatch verify [--from D] [--to D]`: recomputes every sealed day's Merkle root, checks each
 * seal's signature with the public key only, follows the chain of seals, and checks every record
 * against its own contentHash and the sealed leaves. Each problem is one line on stdout:
 * `<day> <record id or -> <kind>: <what>`. Exit 0: no problem; 1: problems; 2: bad usage or the
 * ledger could not be read.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { SingleBar } from 'cli-progress';
import { dayOf, parseDay } from '../../lambdas/ledger/days.js';
import { KmsPublicKeys } from '../../lambdas/ledger/kms-signer.js';
import { LOCAL_KEY_PREFIX, LocalSigner } from '../../lambdas/ledger/local-signer.js';
import { parsePublicKey, type PublicKeyResolver, type SignerKind } from '../../lambdas/ledger/signer.js';
import { verifyLedger, type Problem, type VerifyReport } from '../../lambdas/ledger/verifier.js';
import type { CommandIo } from './export.js';
import { openLedgerTarget, UsageError, type LedgerTarget, type LedgerTargetOptions } from './ledger-target.js';

export interface VerifyCommandOptions extends LedgerTargetOptions {
  readonly from?: string;
  readonly to?: string;
  readonly json?: boolean;
  /** Pin: verify every seal with this public key (PEM or DER SubjectPublicKeyInfo). */
  readonly publicKey?: string;
  /** Pin: every seal must be signed by this KMS key (ARN); its public key comes from KMS. */
  readonly keyId?: string;
  /** The local key file of offline seals (default with --keep: DIR/seal-key.local.json). */
  readonly keyFile?: string;
  readonly progress?: boolean;
  /** Tests: the clock, and KMS clients. */
  readonly now?: Date;
  readonly kms?: KmsPublicKeys;
}

/** Public keys for the seals: a pinned key, the local key file (offline seals), or KMS GetPublicKey. */
class SealKeys implements PublicKeyResolver {
  constructor(
    private readonly kms: KmsPublicKeys,
    private readonly pinned?: KeyObject,
    private readonly local?: LocalSigner,
  ) {}

  async resolve(keyId: string, kind: SignerKind): Promise<KeyObject> {
    if (this.pinned) return this.pinned;
    if (kind === 'local') {
      if (!keyId.startsWith(LOCAL_KEY_PREFIX)) throw new Error(`a local key id must start with ${LOCAL_KEY_PREFIX}`);
      if (!this.local) throw new Error('sealed with a local (non-KMS) key and no local key file was given (--key-file, or --public-key)');
      if (this.local.keyId !== keyId) throw new Error(`the local key file holds ${this.local.keyId}`);
      return this.local.publicKey();
    }
    if (kind === 'kms') return this.kms.resolve(keyId, kind);
    throw new Error(`unknown signer kind ${String(kind)}`);
  }
}

export function problemLine(problem: Problem): string {
  return `${problem.day} ${problem.id ?? '-'} ${problem.kind}: ${problem.detail}`;
}

export async function runVerify(options: VerifyCommandOptions, io: CommandIo): Promise<{ exitCode: number; report?: VerifyReport }> {
  let target: LedgerTarget;
  let keys: SealKeys;
  let from: string | undefined;
  let to: string;
  const now = options.now ?? new Date();
  const kms = options.kms ?? new KmsPublicKeys();
  try {
    from = options.from ? parseDay(options.from, '--from') : undefined;
    to = options.to ? parseDay(options.to, '--to') : dayOf(now);
    if (from && from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
    if (options.publicKey && options.keyId) throw new UsageError('--public-key and --key-id both pin the key: give one');
    const pinned = options.publicKey ? readPublicKey(options.publicKey) : undefined;
    if (options.keyFile && !existsSync(options.keyFile)) throw new UsageError(`${options.keyFile}: no such key file`);
    target = await openLedgerTarget(options);
    const keyFile = options.keyFile ?? (target.localKeyFile && existsSync(target.localKeyFile) ? target.localKeyFile : undefined);
    keys = new SealKeys(kms, pinned, keyFile ? LocalSigner.fromFile(keyFile).signer : undefined);
  } catch (error) {
    if (!options.kms) kms.destroy();
    io.stderr.write(`buildwatch: ${(error as Error).message}\n`);
    return { exitCode: 2 };
  }

  const bar = options.progress ? new SingleBar({ stream: io.stderr, format: 'verify [{bar}] {value}/{total} days | {day}', hideCursor: true }) : undefined;
  try {
    if (!from) {
      const first = await target.seals.edge('first');
      if (!first) {
        const problem: Problem = { day: to, kind: 'no-seals', detail: `no seals in ${target.description}: nothing is protected (seal first, or give --from to check content hashes)` };
        if (options.json) io.stdout.write(`${JSON.stringify({ ok: false, from: to, to, problems: [problem] })}\n`);
        else io.stdout.write(`${problemLine(problem)}\n`);
        return { exitCode: 1 };
      }
      from = first.day;
      if (from > to) to = from;
    }
    bar?.start(0, 0, { day: from });
    const report = await verifyLedger({
      from,
      to,
      findings: target.findings,
      seals: target.seals,
      keys,
      now,
      ...(options.keyId ? { expectedKeyId: options.keyId } : {}),
      onProblem: (problem) => {
        if (!options.json) io.stdout.write(`${problemLine(problem)}\n`);
      },
      onDay: (day, index, total) => {
        bar?.setTotal(total);
        bar?.update(index + 1, { day });
      },
    });
    bar?.stop();
    if (options.json) io.stdout.write(`${JSON.stringify({ ok: report.problems.length === 0, ...report })}\n`);
    summarise(report, options, io);
    return { exitCode: report.problems.length > 0 ? 1 : 0, report };
  } catch (error) {
    bar?.stop();
    io.stderr.write(`buildwatch: verify failed: ${(error as Error).message}\n`);
    return { exitCode: 2 };
  } finally {
    if (!options.kms) kms.destroy();
    await target.close();
  }
}

function readPublicKey(file: string): KeyObject {
  if (!existsSync(file)) throw new UsageError(`${file}: no such public key file`);
  try {
    return parsePublicKey(readFileSync(file));
  } catch (error) {
    throw new UsageError(`${file}: not an ECDSA P-256 public key (PEM or DER): ${(error as Error).message}`);
  }
}

function summarise(report: VerifyReport, options: VerifyCommandOptions, io: CommandIo): void {
  const lines: string[] = [];
  lines.push(
    `verified ${report.from} to ${report.to}: ${report.days} days (${report.sealedDays} sealed), ${report.records} records: ` +
      (report.problems.length === 0 ? 'no problems' : `${report.problems.length} problem(s)`),
  );
  if (report.head) lines.push(`newest seal in range: ${report.head.day}, digest ${report.head.digest} (note it: a later verify should still find it)`);
  if (report.pendingDays.length > 0) lines.push(`not sealed yet (not due): ${report.pendingDays.join(', ')}`);
  const local = report.keys.filter((key) => key.startsWith(LOCAL_KEY_PREFIX));
  if (local.length > 0) lines.push(`sealed with a LOCAL key (${local.join(', ')}), not KMS: this shows the flow works; it is not evidence`);
  const kmsKeys = report.keys.filter((key) => !key.startsWith(LOCAL_KEY_PREFIX));
  if (kmsKeys.length > 0 && !options.keyId && !options.publicKey) {
    lines.push(`sealed with KMS key ${kmsKeys.join(', ')}: pin it with --key-id (or --public-key) so seals re-signed with another key are caught`);
  }
  for (const line of lines) io.stderr.write(`buildwatch: ${line}\n`);
}
