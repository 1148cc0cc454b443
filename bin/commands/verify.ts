/**
 * `buildwatch verify [--from D] [--to D]`: recomputes every sealed day's Merkle root, checks each
 * seal's signature with the public key only, follows the chain of seals, and checks every record
 * against its own contentHash and the sealed leaves. Each problem is one line on stdout:
 * `<day> <record id or -> <kind>: <what>`. Exit 0: no problem; 1: problems; 2: bad usage or the
 * ledger could not be read.
 *
 * The key is pinned by default: --key-id / --public-key, else the stack's SealKeyArn (--outputs
 * FILE from `cdk deploy --outputs-file`, or `ledger.sealKeyArn` in the configuration), else, for a
 * local ledger, its local key file. A run with no pin is a problem unless --allow-unpinned-key.
 * Truncation: --expect-head DAY:DIGEST (the seal Lambda's `ledger head` log line; offline, the
 * head file `buildwatch seal` keeps), and in AWS the daily schedule: every settled day is sealed.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { loadConfig } from '../../lambdas/config/config.js';
import { LOCAL_HEAD_FILE, readHeadFile, scheduledSealedThrough } from '../../lambdas/ledger/chain-head.js';
import { SingleBar } from 'cli-progress';
import { dayOf, parseDay } from '../../lambdas/ledger/days.js';
import { KmsPublicKeys } from '../../lambdas/ledger/kms-signer.js';
import { LOCAL_KEY_PREFIX, LocalSigner } from '../../lambdas/ledger/local-signer.js';
import { parsePublicKey, type PublicKeyResolver, type SignerKind } from '../../lambdas/ledger/signer.js';
import { formatChainHead, parseChainHead, verifyLedger, type ChainHead, type Problem, type VerifyReport } from '../../lambdas/ledger/verifier.js';
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
  /** `cdk deploy --outputs-file` output: its SealKeyArn pins the key. */
  readonly outputs?: string;
  /** Verify without a pinned key (reported, not a problem). */
  readonly allowUnpinnedKey?: boolean;
  /** The chain head published when it was sealed, DAY:DIGEST (default with --keep: DIR/ledger-head.local.json). */
  readonly expectHead?: string;
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

/** The key every seal must be signed with, and where that pin came from (for the summary). */
interface KeyPin {
  readonly keyId?: string;
  readonly publicKey?: KeyObject;
  readonly source: string;
}

export async function runVerify(options: VerifyCommandOptions, io: CommandIo): Promise<{ exitCode: number; report?: VerifyReport }> {
  let target: LedgerTarget;
  let keys: SealKeys;
  let pin: KeyPin | undefined;
  let head: ChainHead | undefined;
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
    const explicitHead = options.expectHead ? parseHead(options.expectHead) : undefined;
    const fromOutputs = options.outputs && !options.keyId && !pinned ? sealKeyFromOutputs(options.outputs) : undefined;
    target = await openLedgerTarget(options);
    try {
      // The configured key is the deployed stack's: a local ledger is sealed with its local key.
      const configured = options.keyId || pinned || fromOutputs || target.mode !== 'aws' ? undefined : loadConfig(options.config).ledger.sealKeyArn;
      const keyFile = options.keyFile ?? (target.localKeyFile && existsSync(target.localKeyFile) ? target.localKeyFile : undefined);
      const local = keyFile ? LocalSigner.fromFile(keyFile).signer : undefined;
      keys = new SealKeys(kms, pinned, local);
      pin = pinned
        ? { publicKey: pinned, source: `--public-key ${options.publicKey ?? ''}` }
        : options.keyId
          ? { keyId: options.keyId, source: '--key-id' }
          : fromOutputs
            ? { keyId: fromOutputs, source: `the stack output SealKeyArn in ${options.outputs ?? ''}` }
            : configured
              ? { keyId: configured, source: 'ledger.sealKeyArn in the configuration' }
              : target.mode !== 'aws' && local
                ? { keyId: local.keyId, source: `the local key file ${keyFile ?? ''}` }
                : undefined;
      head = explicitHead ?? (options.keep ? readHeadFile(join(options.keep, LOCAL_HEAD_FILE)) : undefined);
    } catch (error) {
      await target.close();
      throw error;
    }
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
    // In AWS the seal Lambda seals every settled day: a chain ending earlier lost its newest seals.
    const sealedThrough = target.mode === 'aws' ? scheduledSealedThrough(now) : undefined;
    const unpinned: Problem | undefined =
      pin || options.allowUnpinnedKey
        ? undefined
        : {
            day: to,
            kind: 'unpinned-key',
            detail: 'no seal key pinned (--key-id, --public-key, --outputs, ledger.sealKeyArn in the configuration): seals re-signed with any key would pass; give one, or --allow-unpinned-key',
          };
    if (unpinned && !options.json) io.stdout.write(`${problemLine(unpinned)}\n`);
    const report = await verifyLedger({
      from,
      to,
      findings: target.findings,
      seals: target.seals,
      keys,
      now,
      ...(pin?.keyId ? { expectedKeyId: pin.keyId } : {}),
      ...(head ? { expectedHead: head } : {}),
      ...(sealedThrough && sealedThrough <= to ? { sealedThrough } : {}),
      ...(target.everyRecord ? { everyRecord: target.everyRecord.bind(target) } : {}),
      ...(target.indexCounts ? { indexCounts: target.indexCounts.bind(target) } : {}),
      onProblem: (problem) => {
        if (!options.json) io.stdout.write(`${problemLine(problem)}\n`);
      },
      onDay: (day, index, total) => {
        bar?.setTotal(total);
        bar?.update(index + 1, { day });
      },
    });
    bar?.stop();
    if (unpinned) report.problems.unshift(unpinned);
    if (options.json) io.stdout.write(`${JSON.stringify({ ok: report.problems.length === 0, pinnedKey: pin?.keyId ?? (pin ? 'public key' : null), expectedHead: head ? formatChainHead(head) : null, ...report })}\n`);
    summarise(report, { pin, head, allowUnpinned: Boolean(options.allowUnpinnedKey), aws: target.mode === 'aws' }, io);
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

interface SummaryContext {
  readonly pin: KeyPin | undefined;
  readonly head: ChainHead | undefined;
  readonly allowUnpinned: boolean;
  readonly aws: boolean;
}

function summarise(report: VerifyReport, context: SummaryContext, io: CommandIo): void {
  const lines: string[] = [];
  lines.push(
    `verified ${report.from} to ${report.to}: ${report.days} days (${report.sealedDays} sealed), ${report.records} records: ` +
      (report.problems.length === 0 ? 'no problems' : `${report.problems.length} problem(s)`),
  );
  if (report.head) lines.push(`newest seal in range: ${report.head.day}; chain head ${report.head.day}:${report.head.digest} (note it: a later verify --expect-head should still find it)`);
  if (report.pendingDays.length > 0) lines.push(`not sealed yet (not due): ${report.pendingDays.join(', ')}`);
  const local = report.keys.filter((key) => key.startsWith(LOCAL_KEY_PREFIX));
  if (local.length > 0) lines.push(`sealed with a LOCAL key (${local.join(', ')}), not KMS: this shows the flow works; it is not evidence`);
  if (context.pin) lines.push(`seal key pinned by ${context.pin.source}${context.pin.keyId ? `: ${context.pin.keyId}` : ''}`);
  else if (context.allowUnpinned) lines.push(`UNPINNED: seals were checked with whatever key they name (${report.keys.join(', ') || 'none'}); a chain re-signed with another key would pass`);
  if (context.head) lines.push(`expected chain head ${formatChainHead(context.head)}`);
  else lines.push(`no expected chain head: deleting the newest seals with their records is only caught ${context.aws ? 'after the next daily seal run' : 'with --expect-head'} (the seal function logs "ledger head" lines; offline, buildwatch seal keeps DIR/${LOCAL_HEAD_FILE})`);
  for (const line of lines) io.stderr.write(`buildwatch: ${line}\n`);
}

function parseHead(text: string): ChainHead {
  try {
    return parseChainHead(text);
  } catch (error) {
    throw new UsageError(`--expect-head: ${(error as Error).message}`);
  }
}

/** The seal key ARN of the deployed stack, from `cdk deploy --outputs-file FILE`. */
function sealKeyFromOutputs(file: string): string {
  if (!existsSync(file)) throw new UsageError(`${file}: no such outputs file`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${file}: not JSON: ${(error as Error).message}`);
  }
  const arns = new Set<string>();
  if (parsed && typeof parsed === 'object') {
    for (const stack of Object.values(parsed as Record<string, unknown>)) {
      const arn = stack && typeof stack === 'object' ? (stack as Record<string, unknown>)['SealKeyArn'] : undefined;
      if (typeof arn === 'string') arns.add(arn);
    }
  }
  if (arns.size !== 1) throw new UsageError(`${file}: expected one stack output SealKeyArn, found ${arns.size}`);
  return [...arns][0]!;
}
