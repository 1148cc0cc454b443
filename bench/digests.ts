/**
 * `npm run digests`: replays the histories of DIGEST_HISTORIES and compares their findings with
 * test/fixtures/findings-digests.json (what test/performance/findings-digest.test.ts checks).
 *   npm run digests -- --write          pin the current findings (after an intended change)
 *   npm run digests -- --show NAME ID…  print findings of one history as canonical JSON
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeChange, DIGEST_HISTORIES, DIGESTS_FILE, replayDigestHistory, type HistoryDigest } from './findings-digest.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface DigestsFile {
  readonly comment: string;
  readonly histories: Record<string, HistoryDigest>;
}

export function readDigests(root: string = ROOT): DigestsFile | undefined {
  const path = join(root, DIGESTS_FILE);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as DigestsFile) : undefined;
}

async function main(args: string[]): Promise<number> {
  if (args[0] === '--show') {
    const [, name, ...ids] = args;
    const history = DIGEST_HISTORIES.find((candidate) => candidate.name === name);
    if (!history || ids.length === 0) {
      process.stderr.write(`usage: npm run digests -- --show NAME ID…, NAME one of: ${DIGEST_HISTORIES.map((h) => JSON.stringify(h.name)).join(', ')}\n`);
      return 2;
    }
    const { canonical } = await replayDigestHistory(history, ROOT);
    for (const id of ids) process.stdout.write(`${canonical.get(id) ?? `${id}: no such finding in this run`}\n`);
    return 0;
  }
  const write = args.includes('--write');
  const pinned = readDigests();
  const histories: Record<string, HistoryDigest> = {};
  let changed = 0;
  for (const history of DIGEST_HISTORIES) {
    const { digest } = await replayDigestHistory(history, ROOT);
    histories[history.name] = digest;
    const change = describeChange(history, pinned?.histories[history.name], digest);
    if (change) changed += 1;
    process.stderr.write(`${change || `${history.name}: unchanged`} (${Object.keys(digest.byId).length} findings, ${digest.counts.events} events)\n`);
  }
  if (write) {
    const file: DigestsFile = {
      comment: 'Findings of each history (npm run digests -- --write; checked by test/performance/findings-digest.test.ts)',
      histories,
    };
    writeFileSync(join(ROOT, DIGESTS_FILE), `${JSON.stringify(file, null, 2)}\n`);
    process.stderr.write(`wrote ${DIGESTS_FILE}\n`);
    return 0;
  }
  return changed > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = await main(process.argv.slice(2));
