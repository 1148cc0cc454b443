import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHashOf } from '../../lambdas/engine/canonical.js';
import type { Finding } from '../../lambdas/engine/model.js';
import { createHash } from 'node:crypto';
import { CSV_COLUMNS, csvCell, formatterFor, matchesKind, orderedRecord, toInTotoStatement, toOcsf } from '../../lambdas/ledger/formats.js';
import { record } from './fixtures.js';

/** A strict RFC 4180 reader: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else cell += ch;
      i += 1;
      continue;
    }
    if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 1;
    } else cell += ch;
    i += 1;
  }
  if (cell !== '' || row.length > 0) throw new Error('CSV does not end with CRLF');
  return rows;
}

describe('export formats', () => {
  it('jsonl: the record as stored, model fields first, unknown attributes kept', () => {
    const stored = { ...record(), zExtra: 'kept' } as Finding;
    const line = formatterFor('jsonl').format(stored);
    expect(line.endsWith('\n')).toBe(true);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(parsed).toEqual(stored);
    expect(Object.keys(parsed).slice(0, 3)).toEqual(['id', 'useCase', 'answers']);
    expect(Object.keys(parsed).at(-1)).toBe('zExtra');
    // What is exported can be checked: the content hash recomputes from the line.
    expect(contentHashOf(orderedRecord(record()))).toBe(record().contentHash);
  });

  it('csv: a header, flat columns, evidence as JSON, RFC 4180 quoting with CRLF', () => {
    const formatter = formatterFor('csv');
    const tricky = record({ summary: 'line one\nline "two", with comma', resource: undefined });
    const rows = parseCsv(`${formatter.header}${formatter.format(tricky)}`);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    const cells = Object.fromEntries(CSV_COLUMNS.map((column, i) => [column, rows[1]![i]]));
    expect(cells['summary']).toBe('line one\nline "two", with comma');
    expect(cells['resource']).toBe('');
    expect(JSON.parse(cells['evidence']!)).toEqual(tricky.evidence);
    expect(cells['contentHash']).toBe(tricky.contentHash);
  });

  it('csv: cells a spreadsheet would run as formulas are prefixed with an apostrophe', () => {
    for (const hostile of ['=HYPERLINK("http://evil.example","x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1']) {
      expect(csvCell(hostile).replace(/^"/, '').startsWith("'"), JSON.stringify(hostile)).toBe(true);
    }
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    const row = parseCsv(formatterFor('csv').format(record({ summary: '=cmd|"/c calc"!A1', principal: '@evil' })))[0]!;
    expect(row[CSV_COLUMNS.indexOf('summary')]).toBe('\'=cmd|"/c calc"!A1');
    expect(row[CSV_COLUMNS.indexOf('principal')]).toBe("'@evil");
  });

  it('ocsf: a Detection Finding (2004) with the fields Security Lake users query', () => {
    const finding = record();
    const event = toOcsf(finding, { productVersion: '0.1.0', useCaseInfo: (id) => (id === finding.useCase ? { mitre: ['T1562.008'], kind: 'match' } : undefined) });
    expect(event).toMatchObject({
      class_uid: 2004,
      class_name: 'Detection Finding',
      category_uid: 2,
      category_name: 'Findings',
      activity_id: 1,
      activity_name: 'Create',
      type_uid: 200401,
      severity_id: 5,
      severity: 'Critical',
      status_id: 1,
      time: Date.parse(finding.recordedAt),
      message: finding.summary,
      metadata: { version: '1.1.0', uid: finding.id, product: { name: 'Buildwatch', vendor_name: 'Buildwatch', version: '0.1.0' }, profiles: ['cloud'] },
      cloud: { provider: 'AWS', region: 'eu-west-1', account: { uid: '111122223333' } },
      finding_info: {
        uid: finding.id,
        title: finding.title,
        desc: finding.summary,
        types: ['monitor.tamper', 'monitor.cloudtrail-tamper'],
        created_time: Date.parse(finding.recordedAt),
        first_seen_time: Date.parse(finding.eventTime),
        analytic: { uid: 'monitor.cloudtrail-tamper', type_id: 1, type: 'Rule' },
        attacks: [{ technique: { uid: 'T1562.008' } }],
      },
      resources: [{ uid: finding.resource, name: finding.resource, region: 'eu-west-1' }],
      evidences: [
        {
          actor: { user: { uid: finding.principal, name: 'Admin/maint' } },
          src_endpoint: { ip: '203.0.113.9' },
          api: { operation: 'StopLogging', service: { name: 'cloudtrail.amazonaws.com' } },
        },
      ],
      remediation: { desc: finding.runbook },
      unmapped: { buildwatch: { useCase: finding.useCase, mode: 'alert', eventId: finding.eventId, contentHash: finding.contentHash, evidence: finding.evidence } },
    });
    // No undefined or empty members survive (the event is exactly its JSON).
    expect(JSON.parse(JSON.stringify(event))).toEqual(event);
    const minimal = toOcsf(record({ sourceIp: undefined, resource: undefined, region: undefined, account: undefined, evidence: {} }));
    expect(minimal).not.toHaveProperty('resources');
    expect(minimal['cloud']).toEqual({ provider: 'AWS' });
    expect((minimal['evidences'] as object[])[0]).toEqual({ actor: { user: { uid: record().principal, name: 'Admin/maint' } } });
  });

  it('ocsf: severities map to OCSF 1-5', () => {
    const ids = (['info', 'low', 'medium', 'high', 'critical'] as const).map((severity) => toOcsf(record({ severity }))['severity_id']);
    expect(ids).toEqual([1, 2, 3, 4, 5]);
  });

  it('in-toto: a Statement v1 whose subject digest is the record content hash, recomputable from the predicate', () => {
    const attestation = record({ mode: 'attest', severity: 'info' });
    const statement = toInTotoStatement(attestation);
    expect(statement).toMatchObject({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: `buildwatch:ledger/${attestation.id}`, digest: { sha256: attestation.contentHash } }],
      predicateType: 'https://buildwatch.dev/attestation/v1',
    });
    const { contentHash, ...content } = statement['predicate'] as Record<string, unknown>;
    expect(createHash('sha256').update(canonicalJson(content)).digest('hex')).toBe(contentHash);
    expect(contentHash).toBe(attestation.contentHash);
  });

  it('kinds: findings are alerts, attestations are attest-mode records', () => {
    expect(matchesKind({ mode: 'alert' }, 'findings')).toBe(true);
    expect(matchesKind({ mode: 'attest' }, 'findings')).toBe(false);
    expect(matchesKind({ mode: 'attest' }, 'attestations')).toBe(true);
    expect(matchesKind({ mode: 'alert' }, 'all')).toBe(true);
  });
});
