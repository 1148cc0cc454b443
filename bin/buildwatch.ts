/**
 * The buildwatch CLI (commander): argv to commands, no logic of its own. Exit codes everywhere: 0 it
 * ran, 1 it ran and found bad input (verify: problems), 2 bad usage, configuration or store.
 */
import { Command, Option, type CommanderError } from 'commander';
import { loadConfig } from '../lambdas/config/config.js';
import { catalogue, catalogueMarkdown, catalogueText } from '../lambdas/use-cases/catalogue.js';
import { useCases } from '../lambdas/use-cases/index.js';
import { REPLAY_KINDS, runReplay, type ReplayKind } from './commands/replay.js';
import { productVersion } from './commands/version.js';

/**
 * A progress bar only on a terminal, not in CI, and not while the command writes its results to
 * the same terminal (stdout): lines written there would land on the bar's line.
 */
const showProgress = (options: { progress: boolean }, writesStdout: boolean): boolean =>
  options.progress && Boolean(process.stderr.isTTY) && !process.env['CI'] && !(writesStdout && process.stdout.isTTY);

const program = new Command()
  .name('buildwatch')
  .description(
    'Security monitor for software build pipelines on AWS. Without an AWS account: replay recorded events through the detection engine, ' +
      'backfill baselines, list the use cases. On the findings ledger (kept by replay --keep DIR, on a local endpoint, or deployed): export, verify, seal.',
  )
  .addHelpText('after', '\nExit codes: 0 ran; 1 ran and found bad input (verify: problems found); 2 bad usage, configuration or store.\nMore: buildwatch help <command>, and the README.')
  .version(productVersion(), '-V, --version', 'print the version')
  .showHelpAfterError();

program
  .command('replay')
  .description('Replay EventBridge events, CloudTrail log files or lookup-events output through the detection engine')
  .argument('<paths...>', 'files or directories (directories in lexical order)')
  .option('--config <file>', 'configuration file (default: buildwatch.config.json when present)')
  .option('--recorded <dir>', 'recorded AWS look-up responses for offline replay')
  .option('--endpoint <url>', 'DynamoDB endpoint to use instead of the embedded store')
  .option('--keep <dir>', 'keep the embedded store in DIR (created or reused) for export, seal and verify --keep DIR')
  .option('--json', 'print findings as JSON Lines on stdout')
  .addOption(new Option('--kind <kind>', 'with --json: alerts, attestations, or all').choices(REPLAY_KINDS).default('all'))
  .option('--what-if', 'also show what staging or attest mode held back from alerting (stderr; wouldAlert: true in --json)')
  .addOption(new Option('--no-progress', 'hide the progress bar'))
  .action(async (paths: string[], options: { config?: string; recorded?: string; endpoint?: string; keep?: string; json?: boolean; kind: ReplayKind; whatIf?: boolean; progress: boolean }) => {
    const { exitCode } = await runReplay(
      paths,
      { ...options, progress: showProgress(options, Boolean(options.json)) },
      { stdout: process.stdout, stderr: process.stderr },
    );
    process.exitCode = exitCode;
  });

program
  .command('use-cases')
  .description('List the use-case catalogue, sorted by priority (risk reduction against effort), with the configured modes, staging, dedup windows, managed-service coverage and suppressions (expired ones flagged)')
  .option('--config <file>', 'configuration file (shows configured modes, coverage and suppressions)')
  .option('--json', 'print the catalogue as JSON')
  .option('--markdown', 'print the catalogue as the README\'s Markdown table')
  .action((options: { config?: string; json?: boolean; markdown?: boolean }) => {
    const entries = catalogue(useCases, loadConfig(options.config));
    if (options.json) process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    else if (options.markdown) process.stdout.write(`${catalogueMarkdown(entries)}\n`);
    else process.stdout.write(`${catalogueText(entries)}\n`);
  });

const repeatable = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
program
  .command('backfill')
  .description('Seed first-seen baselines and drift snapshots from history without alerting; --what-if reports what each use case would have raised')
  .argument('[paths...]', 'CloudTrail log files: directories, files or s3://bucket/prefix (an account trail or an organisation trail, AWSLogs/o-…/<account>/…)')
  .option('--lookup-events', 'read CloudTrail event history (LookupEvents) of the last --days days')
  .option('--days <n>', 'days of LookupEvents history, 1-90 (default 90)')
  .option('--region <region>', 'LookupEvents region, and only this region of the archive; repeatable (LookupEvents default AWS_REGION)', repeatable)
  .option('--account <id>', 'only this account of the archive (organisation trail), repeatable', repeatable)
  .option('--event-source <source>', 'ask LookupEvents for this event source, repeatable (default: the sources the use cases watch)', repeatable)
  .option('--window-hours <n>', 'LookupEvents time window processed at once, 1-24 (default 24)')
  .option('--current-state', 'after the history, read the current state of the configured build projects (BatchGetProjects)')
  .option('--what-if', 'report what each use case would have recorded over the history (backtest)')
  .option('--json', 'print the --what-if report as JSON on stdout')
  .option('--top <n>', 'top keys, principals and resources per use case in the report (default 5)')
  .option('--config <file>', 'configuration file (default: buildwatch.config.json when present)')
  .option('--recorded <dir>', 'recorded AWS look-up responses instead of the AWS SDK')
  .option('--endpoint <url>', 'local DynamoDB endpoint to write state to')
  .option('--state-table <name>', 'the deployed state table to write to (AWS default credentials)')
  .option('--table-prefix <prefix>', 'the stack\'s resource prefix: writes to <prefix>state')
  .option('--checkpoint <file>', 'checkpoint file of a resumable run (default buildwatch-backfill.checkpoint.json)')
  .option('--resume', 'continue an interrupted run from its checkpoint')
  .addOption(new Option('--no-progress', 'hide the progress bar'))
  .action(async (paths: string[], options: Record<string, unknown> & { progress: boolean }) => {
    const { runBackfillCommand } = await import('./commands/backfill.js');
    const { exitCode } = await runBackfillCommand(
      paths,
      { ...options, progress: showProgress(options, false) },
      { stdout: process.stdout, stderr: process.stderr },
    );
    process.exitCode = exitCode;
  });

/** A usage error (unknown option or command, missing argument, bad choice) exits 2; help and --version exit 0. */
const exitOnUsageError = (error: CommanderError): never => process.exit(error.exitCode === 0 ? 0 : 2);
const usageExitsWith2 = (command: Command): Command => command.exitOverride(exitOnUsageError);
const ledgerTargetOptions = (command: Command): Command =>
  command
    .option('--keep <dir>', 'the store kept by `replay --keep DIR`')
    .option('--endpoint <url>', 'a local DynamoDB endpoint (tables as replay creates them)')
    .option('--config <file>', 'configuration file (its monitor.resourcePrefix names the deployed tables)')
    .option('--table-prefix <prefix>', "the stack's resource prefix: reads <prefix>findings and <prefix>seals in AWS")
    .option('--findings-table <name>', 'the deployed findings table (AWS default credentials)')
    .option('--seals-table <name>', 'the deployed seals table')
    .option('--region <region>', 'AWS region of the deployed tables (default: AWS_REGION / profile)');

usageExitsWith2(
  ledgerTargetOptions(
    program
      .command('export')
      .description('Export ledger records of a range of days: JSON Lines, CSV, OCSF Detection Finding, or in-toto statements (attestations)')
      .requiredOption('--from <day>', 'first UTC day, YYYY-MM-DD')
      .requiredOption('--to <day>', 'last UTC day, YYYY-MM-DD (included)'),
  )
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv', 'ocsf', 'intoto']).default('jsonl'))
    .addOption(new Option('--kind <kind>', 'findings (alerts), attestations, or all (default; attestations for intoto)').choices(['findings', 'attestations', 'all']))
    .addOption(new Option('--no-progress', 'hide the progress bar'))
    .action(async (options: Record<string, string | undefined> & { progress: boolean }) => {
      const { runExport } = await import('./commands/export.js');
      const { exitCode } = await runExport({ ...options, progress: showProgress(options, true) }, { stdout: process.stdout, stderr: process.stderr });
      process.exitCode = exitCode;
    }),
);

usageExitsWith2(
  ledgerTargetOptions(
    program
      .command('verify')
      .description('Verify the ledger against its signed daily seals; names records modified, inserted or deleted after sealing (exit 1)')
      .option('--from <day>', 'first UTC day (default: the first sealed day)')
      .option('--to <day>', 'last UTC day (default: today)'),
  )
    .option('--key-id <arn>', 'the KMS key that must have signed every seal (its public key is fetched with kms:GetPublicKey)')
    .option('--public-key <file>', 'verify with this saved public key (PEM or DER), without calling KMS')
    .option('--key-file <file>', 'the local seal key of offline seals (default with --keep: DIR/seal-key.local.json)')
    .option('--outputs <file>', 'pin the key to the stack output SealKeyArn in this `cdk deploy --outputs-file` file (default: ledger.sealKeyArn of the configuration)')
    .option('--allow-unpinned-key', 'verify with whatever key each seal names (otherwise an unpinned run exits 1)')
    .option('--expect-head <day:digest>', 'the chain head published at sealing (the seal function\'s "ledger head" log line; default with --keep: DIR/ledger-head.local.json); a missing head is truncation')
    .option('--json', 'print the report as one JSON object on stdout')
    .addOption(new Option('--no-progress', 'hide the progress bar'))
    .action(async (options: Record<string, string | boolean | undefined> & { progress: boolean }) => {
      const { runVerify } = await import('./commands/verify.js');
      const { exitCode } = await runVerify({ ...options, progress: showProgress(options, true) }, { stdout: process.stdout, stderr: process.stderr });
      process.exitCode = exitCode;
    }),
);

usageExitsWith2(
  program
    .command('seal')
    .description('Seal days of a local ledger with a local (non-KMS) key, to try seal and verify without AWS')
    .option('--keep <dir>', 'the store kept by `replay --keep DIR` (the key is DIR/seal-key.local.json)')
    .option('--endpoint <url>', 'a local DynamoDB endpoint (needs --key-file)')
    .option('--key-file <file>', 'the local seal key file (created if absent)')
    .option('--day <day>', 'seal this UTC day only')
    .option('--from <day>', 'first day to seal')
    .option('--to <day>', 'last day to seal')
    .option('--json', 'print one JSON object per day on stdout')
    .action(async (options: Record<string, string | boolean | undefined>) => {
      const { runSealCommand } = await import('./commands/seal.js');
      const { exitCode } = await runSealCommand(options, { stdout: process.stdout, stderr: process.stderr });
      process.exitCode = exitCode;
    }),
);

// Every command, and the top level: commander's own exit code for usage errors is 1, ours is 2.
for (const command of [program, ...program.commands]) usageExitsWith2(command);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`buildwatch: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
