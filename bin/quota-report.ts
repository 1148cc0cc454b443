/**
 * `npm run quotas [-- <cdk.out>]`: the headroom of every synthesized template against the deploy
 * quotas that `cdk synth` enforces (lib/quotas), tightest first. Run `npm run synth:check` first.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { QUOTA_CHECKS } from '../lib/quotas/checks.js';
import { WorstCase, type Template } from '../lib/quotas/worst-case.js';

const outdir = process.argv[2] ?? 'cdk.out';
const templates = readdirSync(outdir).filter((file) => file.endsWith('.template.json'));
if (templates.length === 0) {
  console.error(`No *.template.json in ${outdir}: run \`npm run synth:check\` first.`);
  process.exit(2);
}
for (const file of templates) {
  const text = readFileSync(join(outdir, file), 'utf8');
  const template = JSON.parse(text) as Template;
  const stackName = file.replace(/\.template\.json$/, '');
  const ctx = { template, templateBytes: Buffer.byteLength(text), render: new WorstCase({ template, stackName }), raised: new Map<string, number>(), all: true };
  // The tightest measurement of each quota.
  const tightest = new Map<string, ReturnType<(typeof QUOTA_CHECKS)[number]>[number]>();
  for (const m of QUOTA_CHECKS.flatMap((check) => check(ctx))) {
    const known = tightest.get(m.quota.id);
    if (!known || m.measured / m.limit > known.measured / known.limit) tightest.set(m.quota.id, m);
  }
  console.log(`${stackName}: ${Object.keys(template.Resources ?? {}).length} resources`);
  console.log('| quota | tightest | measured | limit | used |');
  console.log('|---|---|---|---|---|');
  for (const m of [...tightest.values()].sort((a, b) => b.measured / b.limit - a.measured / a.limit)) {
    console.log(`| ${m.quota.id} | ${m.logicalId ?? '(template)'} | ${m.measured} | ${m.limit} | ${Math.round((100 * m.measured) / m.limit)}% |`);
  }
}
