/**
 * `buildwatch seal [--day D | --from D --to D] (--keep DIR | --endpoint URL)`: seals days of a local
 * ledger with a local key (DIR/seal-key.local.json, created on first use and labelled as not KMS),
 * so replay → seal → tamper → verify can be tried without AWS. In AWS the seal Lambda seals daily
 * with the KMS key. Without days, every day from the first to the last day with records (empty days
 * between included, so the chain has no gaps); sealed days are left as they are.
 */
import { join } from 'node:path';
import { advanceHeadFile, headOf, LOCAL_HEAD_FILE } from '../../lambdas/ledger/chain-head.js';
import { parseDay, daysBetween } from '../../lambdas/ledger/days.js';
import { formatChainHead } from '../../lambdas/ledger/verifier.js';
import { LocalSigner } from '../../lambdas/ledger/local-signer.js';
import { sealDays, type SealOutcome } from '../../lambdas/ledger/seal.js';
import type { CommandIo } from './export.js';
import { openLedgerTarget, UsageError, type LedgerTarget, type LedgerTargetOptions } from './ledger-target.js';

export interface SealCommandOptions extends LedgerTargetOptions {
  readonly day?: string;
  readonly from?: string;
  readonly to?: string;
  readonly keyFile?: string;
  readonly json?: boolean;
}

export async function runSealCommand(options: SealCommandOptions, io: CommandIo): Promise<{ exitCode: number; outcomes: SealOutcome[] }> {
  let target: LedgerTarget;
  let signer: LocalSigner;
  let range: { from: string; to: string } | undefined;
  try {
    if (!options.keep && !options.endpoint) {
      throw new UsageError('seal works on a local ledger (--keep DIR or --endpoint URL); in AWS the seal Lambda seals every day (invoke it with {"from", "to"} to seal older days)');
    }
    if (options.day && (options.from || options.to)) throw new UsageError('give --day, or --from and --to');
    if (options.day) range = { from: parseDay(options.day, '--day'), to: options.day };
    else if (options.from || options.to) {
      if (!options.from || !options.to) throw new UsageError('give both --from and --to');
      range = { from: parseDay(options.from, '--from'), to: parseDay(options.to, '--to') };
      if (range.from > range.to) throw new UsageError(`--from ${range.from} is after --to ${range.to}`);
    }
    if (!options.keyFile && !options.keep) throw new UsageError('with --endpoint, name the local seal key file with --key-file FILE (created if absent)');
    target = await openLedgerTarget(options);
    const file = options.keyFile ?? target.localKeyFile ?? '';
    const opened = LocalSigner.fromFile(file, { create: true });
    signer = opened.signer;
    if (opened.created) io.stderr.write(`buildwatch: created a LOCAL seal key (not KMS) in ${file}: seals made with it show the flow, they are not evidence\n`);
  } catch (error) {
    io.stderr.write(`buildwatch: ${(error as Error).message}\n`);
    return { exitCode: 2, outcomes: [] };
  }

  try {
    if (!range) {
      const days = (await target.recordDays?.()) ?? [];
      if (days.length === 0) {
        io.stderr.write(`buildwatch: no records in ${target.description}: nothing to seal\n`);
        return { exitCode: 0, outcomes: [] };
      }
      range = { from: days[0]!, to: days[days.length - 1]! };
    }
    const outcomes = await sealDays(daysBetween(range.from, range.to), { findings: target.findings, seals: target.seals, signer }, (outcome) => {
      if (options.json) io.stdout.write(`${JSON.stringify(outcome)}\n`);
      if (outcome.status === 'sealed') {
        io.stderr.write(`buildwatch: sealed ${outcome.day}: ${outcome.count} record(s), root ${outcome.merkleRoot.slice(0, 16)}…\n`);
      }
      if (outcome.mismatched.length > 0) {
        io.stderr.write(`buildwatch: warning: ${outcome.day}: sealed ${outcome.mismatched.length} record(s) whose content does not match their contentHash: ${outcome.mismatched.join(', ')}\n`);
      }
    });
    const sealed = outcomes.filter((o) => o.status === 'sealed');
    const records = sealed.reduce((sum, o) => sum + o.count, 0);
    io.stderr.write(
      `buildwatch: sealed ${sealed.length} day(s) (${records} records) from ${range.from} to ${range.to} with local key ${signer.keyId}; ${outcomes.length - sealed.length} already sealed\n`,
    );
    // The head goes where the ledger's tables are not, so deleting the newest seals shows.
    const newest = await target.seals.edge('last');
    if (newest) {
      const head = options.keep ? advanceHeadFile(join(options.keep, LOCAL_HEAD_FILE), headOf(newest)) : headOf(newest);
      io.stderr.write(`buildwatch: chain head ${formatChainHead(head)}${options.keep ? ` (kept in ${join(options.keep, LOCAL_HEAD_FILE)})` : ': keep it, and give it to verify --expect-head'}\n`);
    }
    return { exitCode: 0, outcomes };
  } catch (error) {
    io.stderr.write(`buildwatch: seal failed: ${(error as Error).message}\n`);
    return { exitCode: 2, outcomes: [] };
  } finally {
    await target.close();
  }
}
