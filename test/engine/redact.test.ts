import { describe, expect, it } from 'vitest';
import { fingerprint, looksLikeSecret, redact, redactText } from '../../lambdas/engine/redact.js';

const SECRET = 'hunter2-plaintext-value';
const FP = /^\*{4}\(sha256:[0-9a-f]{8}\)$/;

describe('redact: CodeBuild environment variables', () => {
  const nativeEvent = {
    'detail-type': 'CodeBuild Build State Change',
    detail: {
      'additional-information': {
        environment: {
          image: 'aws/codebuild/standard:7.0',
          'environment-variables': [
            { name: 'DEPLOY_KEY', type: 'PLAINTEXT', value: SECRET },
            { name: 'DB_PASSWORD', type: 'PARAMETER_STORE', value: '/payments/db-password' },
            { name: 'GITHUB_TOKEN', type: 'SECRETS_MANAGER', value: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:gh-AbCdEf' },
          ],
        },
      },
    },
  };

  it('masks PLAINTEXT values with a fingerprint and keeps Parameter Store / Secrets Manager references', () => {
    const out = redact(nativeEvent);
    const vars = out.detail['additional-information'].environment['environment-variables'];
    expect(vars[0]).toEqual({ name: 'DEPLOY_KEY', type: 'PLAINTEXT', value: expect.stringMatching(FP) });
    expect(vars[1]?.value).toBe('/payments/db-password');
    expect(vars[2]?.value).toBe('arn:aws:secretsmanager:eu-west-1:111122223333:secret:gh-AbCdEf');
    expect(JSON.stringify(out)).not.toContain(SECRET);
    expect(out.detail['additional-information'].environment.image).toBe('aws/codebuild/standard:7.0');
  });

  it('fingerprints deterministically, so a diff still shows "changed"', () => {
    expect(fingerprint('a')).toBe(fingerprint('a'));
    expect(fingerprint('a')).not.toBe(fingerprint('b'));
    expect(fingerprint('a')).toMatch(FP);
  });

  it('is idempotent: redacting redacted data changes nothing, fingerprints included', () => {
    const once = redact(nativeEvent);
    expect(redact(once)).toEqual(once);
  });

  it('masks UpdateProject and StartBuild shapes, with or without a type', () => {
    const out = redact({
      requestParameters: {
        name: 'payments-service-build',
        environment: { environmentVariables: [{ name: 'API_URL', value: SECRET }] },
        environmentVariablesOverride: [{ name: 'X', value: SECRET, type: 'plaintext' }],
      },
    });
    expect(out.requestParameters.environment.environmentVariables[0]).toEqual({ name: 'API_URL', value: expect.stringMatching(FP) });
    expect(out.requestParameters.environmentVariablesOverride[0]?.value).toMatch(FP);
    expect(out.requestParameters.name).toBe('payments-service-build');
  });

  it('masks any {name, value} list wherever it appears, and env maps keyed by name', () => {
    const out = redact({
      anything: { list: [{ name: 'A', value: SECRET, type: 'PLAINTEXT' }, { name: 'B', value: 42 }] },
      lambda: { environment: { variables: { TOKENLESS: SECRET } } },
      normalised: { environmentVariables: { NPM_TOKEN: SECRET, REF: { type: 'SECRETS_MANAGER', value: 'prod/npm' } } },
      docker: { environmentVariables: [`NPM_TOKEN=${SECRET}`] },
    });
    expect(JSON.stringify(out)).not.toContain(SECRET);
    expect(out.anything.list[1]?.value).toMatch(FP);
    expect(out.lambda.environment.variables.TOKENLESS).toMatch(FP);
    expect(out.normalised.environmentVariables.REF).toEqual({ type: 'SECRETS_MANAGER', value: 'prod/npm' });
    expect(out.docker.environmentVariables[0]).toMatch(/^NPM_TOKEN=\*{4}\(sha256:[0-9a-f]{8}\)$/);
  });

  it('masks drift diff entries by their path', () => {
    const out = redact({
      diff: [
        { path: 'environment.environmentVariables', change: 'changed', before: [{ name: 'A', value: 'old-secret' }], after: [{ name: 'A', value: SECRET }] },
        { path: 'environment.environmentVariables.NPM_TOKEN', change: 'changed', before: 'old-secret', after: SECRET },
        { path: 'source.auth.token', change: 'added', after: SECRET },
        { path: 'environment.image', change: 'changed', before: 'aws/codebuild/standard:6.0', after: 'aws/codebuild/standard:7.0' },
      ],
    });
    const text = JSON.stringify(out);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('old-secret');
    expect(out.diff[1]?.before).not.toBe(out.diff[1]?.after);
    expect(out.diff[2]?.after).toBe('****');
    expect(out.diff[3]?.after).toBe('aws/codebuild/standard:7.0');
  });
});

describe('redact: secret-looking keys', () => {
  it('masks values of secret keys at any depth, including whole sub-objects', () => {
    const out = redact({
      a: { password: SECRET, clientSecret: SECRET, 'x-api-key': SECRET, private_key: SECRET, Authorization: `Basic ${SECRET}` },
      credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: SECRET, expiration: 1760000000 },
    });
    expect(JSON.stringify(out)).not.toContain(SECRET);
    expect(out.a.password).toBe('****');
    expect(out.credentials.expiration).toBe('****');
  });

  it("keeps AWS's own placeholder, flags, empty values and references", () => {
    const out = redact({
      responseElements: { sessionToken: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
      passwordResetRequired: true,
      token: '',
      secret: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:x',
      tokenNull: null,
    });
    expect(out).toEqual({
      responseElements: { sessionToken: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
      passwordResetRequired: true,
      token: '',
      secret: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:x',
      tokenNull: null,
    });
  });

  it('does not mask metadata about secrets (ids, ARNs, types, names)', () => {
    const input = {
      userIdentity: { type: 'IdentityCenterUser', credentialId: 'a1b2c3' },
      secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db',
      SecretId: 'prod/db',
      'image-pull-credentials-type': 'CODEBUILD',
      authorizationType: 'AWS_IAM',
    };
    expect(redact(input)).toEqual(input);
  });
});

describe('redact: secrets inside strings', () => {
  it.each([
    ['AWS access key id (partially)', 'key AKIAIOSFODNN7EXAMPLE used', 'key AKIA************MPLE used'],
    ['AWS session key id (partially)', '"accessKeyId":"ASIAJEXAMPLEXEG2JICE"', '"accessKeyId":"ASIA************JICE"'],
    ['secret access key after its name', 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'aws_secret_access_key = ****'],
    ['secret access key as a CLI argument', 'aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'aws configure set aws_secret_access_key ****'],
    ['GitHub classic token', 'token ghp_0123456789abcdefghijABCDEFGHIJ012345 end', 'token ghp_**** end'],
    ['npm token in an .npmrc line', 'echo "//registry.npmjs.org/:_authToken=npm_Zq8vAbCdEfGhIjKlMnOpQrStUvWxYz012345" > ~/.npmrc', 'echo "//registry.npmjs.org/:_authToken=****" > ~/.npmrc'],
    ['npm token alone', 'NPM npm_Zq8vAbCdEfGhIjKlMnOpQrStUvWxYz012345 used', 'NPM npm_**** used'],
    ['GitLab token', 'glpat-abcdefghijklmnopqrst12', 'glpat-****'],
    ['Stripe live key', 'sk_live_abcdefghijklmnop1234', 'sk_live_****'],
    ['curl basic credentials', 'curl -u admin:Hunt3r2pass https://x.example.com', 'curl -u admin:**** https://x.example.com'],
    ['a --password argument', 'docker login -u AWS --password S3cretPass registry', 'docker login -u AWS --password **** registry'],
    ['a URL password after an e-mail user', 'git clone https://jane.doe@example.com:Hunt3r2pass@bitbucket.org/acme/x.git', 'git clone https://jane.doe@example.com:****@bitbucket.org/acme/x.git'],
    ['a user and a port, no password', 'ssh to https://git@github.com:22 and https://host:8080/path?to=a@b', 'ssh to https://git@github.com:22 and https://host:8080/path?to=a@b'],
    ['GitHub OAuth token', 'gho_0123456789abcdefghijABCDEFGHIJ012345', 'gho_****'],
    ['GitHub app token', 'ghs_0123456789abcdefghijABCDEFGHIJ012345', 'ghs_****'],
    ['GitHub fine-grained token', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz', 'github_pat_****'],
    ['Slack bot token', 'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx', 'xoxb-****'],
    ['Slack user token', 'xoxp-123456789012-abcdefabcdef', 'xoxp-****'],
    ['JWT', 'auth eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok', 'auth ****(jwt) ok'],
    ['URL credentials', 'git clone https://bob:s3cr3t@git.example.com/repo.git', 'git clone https://bob:****@git.example.com/repo.git'],
    ['URL token as password', 'https://x-access-token:abc123def@github.com/o/r', 'https://x-access-token:****@github.com/o/r'],
    ['bearer header', 'Authorization: Bearer abcdefghijklmnop', 'Authorization: **** ****'],
    ['query string', 'https://h/cb?state=1&access_token=abc123&x=2', 'https://h/cb?state=1&access_token=****&x=2'],
    ['JSON kept as a string', '{"Password":"hunter2","user":"bob"}', '{"Password":"****","user":"bob"}'],
    ['YAML line', 'env:\n  variables:\n    API_TOKEN: abc123', 'env:\n  variables:\n    API_TOKEN: ****'],
    // Each rule's literal alone, no secret-looking word around it (redactText skips text holding none).
    ['basic credentials with no header name', 'curl -H "X: Basic dXNlcjpwYXNzd29yZA=="', 'curl -H "X: Basic ****"'],
    ['Slack webhook alone', 'post to https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXX', 'post to https://hooks.slack.com/services/****'],
    ['PEM key alone', 'k=-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----', 'k=-----BEGIN PRIVATE KEY-----****-----END PRIVATE KEY-----'],
  ])('masks %s', (_name, input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it('masks PEM private keys, also JSON-escaped or cut off', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----';
    expect(redactText(`key: ${pem} done`)).toBe('key: -----BEGIN RSA PRIVATE KEY-----****-----END RSA PRIVATE KEY----- done');
    expect(redactText(JSON.stringify({ k: pem }))).not.toContain('MIIEow');
    expect(redactText('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA')).not.toContain('b3BlbnNz');
    expect(redactText('-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQdGBF\n-----END PGP PRIVATE KEY BLOCK-----')).not.toContain('lQdGBF');
  });

  it('leaves look-alikes alone: commit ids, ARNs that name secrets, public keys, e-mail addresses', () => {
    const benign = [
      'commit 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b pushed',
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf',
      '-----BEGIN PUBLIC KEY-----\nMIIBIjANBg\n-----END PUBLIC KEY-----',
      'alice@example.com called GetAuthorizationToken',
      'sessionToken: HIDDEN_DUE_TO_SECURITY_REASONS',
      'AROAEXAMPLEID:alice',
    ];
    for (const text of benign) expect(redactText(text)).toBe(text);
  });

  it('scrubs strings everywhere in a structure, keys included', () => {
    const out = redact({ list: ['ok', 'ghp_0123456789abcdefghijABCDEFGHIJ012345'], 'https://u:p4ss@h': 1 });
    expect(out).toEqual({ list: ['ok', 'ghp_****'], 'https://u:****@h': 1 });
  });

  it('finishes on 1 MB hostile strings (no catastrophic backtracking: the test timeout is the guard) and still masks', () => {
    const inputs = ['a'.repeat(1_000_000), 'password='.repeat(110_000), 'https://'.repeat(125_000), 'eyJ.'.repeat(250_000), '-----BEGIN PRIVATE KEY-----'.repeat(37_000), 'AKIA'.repeat(250_000)];
    const outputs = [...inputs, `${'x '.repeat(500_000)}AKIAIOSFODNN7EXAMPLE`].map((input) => JSON.stringify(redact({ input })));
    // A real key id at the end of a 1 MB string is still masked; harmless text is left alone.
    expect(outputs[6]).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(outputs[0]).toContain('a'.repeat(1000));
  });
});

describe('redact: robustness', () => {
  it('returns a deep copy and leaves its input untouched', () => {
    const input = { a: { password: SECRET }, list: [1, 2] };
    const out = redact(input);
    expect(input.a.password).toBe(SECRET);
    expect(out.list).not.toBe(input.list);
    expect(out.list).toEqual([1, 2]);
  });

  it('passes primitives through', () => {
    expect(redact(null)).toBeNull();
    expect(redact(undefined)).toBeUndefined();
    expect(redact(42)).toBe(42);
    expect(redact(true)).toBe(true);
    expect(redact('plain text')).toBe('plain text');
    expect(redact('ghp_0123456789abcdefghijABCDEFGHIJ012345')).toBe('ghp_****');
  });

  it('replaces cycles, copies shared references and bounds depth, without throwing', () => {
    const shared = { v: 1 };
    const cyclic: Record<string, unknown> = { shared, again: shared };
    cyclic['self'] = cyclic;
    expect(redact(cyclic)).toEqual({ shared: { v: 1 }, again: { v: 1 }, self: '[Circular]' });

    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => redact(deep)).not.toThrow();
    expect(JSON.stringify(redact(deep))).toContain('[Truncated]');
  });

  it('survives throwing getters and toJSON, honours Date', () => {
    const hostile = {
      get boom(): string {
        throw new Error('no');
      },
      bad: { toJSON: () => { throw new Error('no'); } },
      when: new Date('2026-03-02T09:14:27Z'),
    };
    expect(redact(hostile)).toEqual({ boom: '[Unreadable]', bad: '[Unreadable]', when: '2026-03-02T09:14:27.000Z' });
  });

  it('never fails open: an unwalkable value becomes a placeholder, not the original', () => {
    const proxy = new Proxy({}, { ownKeys: () => { throw new Error('no'); } });
    expect(redact(proxy)).toBe('[Unredactable]');
  });

  it('keeps a __proto__ key as data instead of changing the prototype', () => {
    const out = redact(JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('looksLikeSecret', () => {
  it.each([
    ['NPM_TOKEN', 'abc'],
    ['DB_PASSWORD', 'abc'],
    ['DB_PASS', 'abc'],
    ['MYSQL_PWD', 'abc'],
    ['STRIPE_API_KEY', 'abc'],
    ['SSH_PRIVATE_KEY', 'abc'],
    ['clientSecret', 'abc'],
    ['SENTRY_DSN', 'https://k@o.ingest.sentry.io/1'],
    ['GITHUB_PAT', 'abc'],
    ['NPM_AUTH', 'abc'],
    ['AWS_SECRET_ACCESS_KEY', 'abc'],
  ])('flags %s by its name', (name, value) => {
    expect(looksLikeSecret(name, value)).toBe(true);
  });

  it.each([
    ['SOME_VAR', 'ghp_0123456789abcdefghijABCDEFGHIJ012345'],
    ['SOME_VAR', 'AKIAIOSFODNN7EXAMPLE'],
    ['SOME_VAR', 'https://bob:s3cr3t@git.example.com/repo.git'],
    ['SOME_VAR', 'Zq8vX3mPq7LrT2yW9kB4nC6dF1gH5jK0sA7e'],
  ])('flags %s by its value %s', (name, value) => {
    expect(looksLikeSecret(name, value)).toBe(true);
  });

  it.each([
    ['NODE_ENV', 'production'],
    ['PWD', '/codebuild/output/src123'],
    ['AWS_REGION', 'eu-west-1'],
    ['S3_KEY', 'builds/payments/latest.zip'],
    ['CACHE_KEY', 'npm-v1'],
    ['SECRET_ARN', 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:x'],
    ['TOKEN_NAME', 'ci'],
    ['AUTHOR', 'alice'],
    ['COMMIT', '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b'],
    ['BUILD_ID', '3f2504e0-4f89-11d3-9a0c-0305e82c3301'],
    ['NPM_TOKEN', ''],
    ['DB_PASSWORD', 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:db'],
  ])('does not flag %s=%s', (name, value) => {
    expect(looksLikeSecret(name, value)).toBe(false);
  });
});
