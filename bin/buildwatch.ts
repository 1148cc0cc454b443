/** The buildwatch CLI (commander): argv to commands, no logic of its own. */
import { Command, Option } from 'commander';
import { loadConfig } from '../lambdas/config/config.js';
import { catalogue, catalogueMarkdown, catalogueText } from '../lambdas/use-cases/catalogue.js';
import { useCases } from '../lambdas/use-cases/index.js';
import { runReplay } from './commands/replay.js';

const program = new Command()
  .name('buildwatch')
  .description('Security monitor for software build pipelines on AWS: replay events locally, list use cases.')
  .showHelpAfterError();

program
  .command('replay')
  .description('Replay EventBridge events, CloudTrail log files or lookup-events output through the detection engine')
  .argument('<paths...>', 'files or directories (directories in lexical order)')
  .option('--config <file>', 'configuration file (default: buildwatch.config.json when present)')
  .option('--recorded <dir>', 'recorded AWS look-up responses for offline replay')
  .option('--endpoint <url>', 'DynamoDB endpoint to use instead of the embedded store')
  .option('--json', 'print findings as JSON Lines on stdout')
  .addOption(new Option('--no-progress', 'hide the progress bar'))
  .action(async (paths: string[], options: { config?: string; recorded?: string; endpoint?: string; json?: boolean; progress: boolean }) => {
    const { exitCode } = await runReplay(
      paths,
      { ...options, progress: options.progress && Boolean(process.stderr.isTTY) && !process.env['CI'] },
      { stdout: process.stdout, stderr: process.stderr },
    );
    process.exitCode = exitCode;
  });

program
  .command('use-cases')
  .description('List the use-case catalogue, sorted by priority (risk reduction against effort)')
  .option('--config <file>', 'configuration file (shows configured modes)')
  .option('--json', 'print the catalogue as JSON')
  .option('--markdown', 'print the catalogue as the README\'s Markdown table')
  .action((options: { config?: string; json?: boolean; markdown?: boolean }) => {
    const entries = catalogue(useCases, loadConfig(options.config));
    if (options.json) process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    else if (options.markdown) process.stdout.write(`${catalogueMarkdown(entries)}\n`);
    else process.stdout.write(`${catalogueText(entries)}\n`);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`buildwatch: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
