/** The pure parts of webhook-secret-check: precedence, URLs, literal secrets, signing schemes, the plan. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GATES } from '../../src/config/gates.ts';
import { parseInputs } from '../../src/config/input-spec.ts';
import { parseRepoConfig } from '../../src/config/repo-config.ts';
import { UserError } from '../../src/errors.ts';
import { ruleIdsOf } from '../../src/gates/rules-catalog.ts';
import { SCHEMES } from '../../src/gates/webhooks/canary.ts';
import { canaryFindings } from '../../src/gates/webhooks/checks.ts';
import { lineOf, secretsInFunctionBody, secretsInTriggerArgument } from '../../src/gates/webhooks/literals.ts';
import { buildPlan } from '../../src/gates/webhooks/plan.ts';
import { triggerArguments } from '../../src/gates/webhooks/plumbing.ts';
import { WEBHOOK_RULES } from '../../src/gates/webhooks/rules.ts';
import { applicableValues, effectiveValue, type ScopedValue } from '../../src/gates/webhooks/settings.ts';
import { checkUrl, nonProductionHost, type UrlExpectation } from '../../src/gates/webhooks/urls.ts';
import { redact } from '../../src/secrets.ts';

describe('setting precedence', () => {
  const values: ScopedValue[] = [
    { scope: 'server', value: 'server' },
    { scope: 'all-roles', value: 'all' },
    { scope: 'database', value: 'db' },
    { scope: 'role', role: 'authenticator', value: 'role' },
    { scope: 'database+role', role: 'authenticator', value: 'db+role' },
    { scope: 'role', role: 'postgres', value: 'postgres-role' },
  ];

  it('database+role beats role beats database beats all roles beats server', () => {
    expect(effectiveValue(values, 'authenticator')?.value).toBe('db+role');
    expect(
      effectiveValue(
        values.filter((v) => v.scope !== 'database+role'),
        'authenticator',
      )?.value,
    ).toBe('role');
    expect(effectiveValue(values, 'postgres')?.value).toBe('postgres-role');
    expect(effectiveValue(values, 'other')?.value).toBe('db');
    expect(
      effectiveValue(
        values.filter((v) => v.scope !== 'database'),
        'other',
      )?.value,
    ).toBe('all');
    expect(
      effectiveValue(
        values.filter((v) => v.scope === 'server'),
        'other',
      )?.value,
    ).toBe('server');
    expect(effectiveValue([], 'other')).toBeUndefined();
  });

  it('lists what a role would fall back to, most specific first', () => {
    expect(applicableValues(values, 'authenticator').map((v) => v.scope)).toEqual(['database+role', 'role', 'database', 'all-roles', 'server']);
  });
});

describe('checkUrl', () => {
  const expected: UrlExpectation = { scheme: 'https', host: 'app.example.com', hostSource: 'url-host', pathPrefix: '/api/hooks/' };
  const rules = (url: string, environment: 'production' | 'preview' = 'production', rule: UrlExpectation = expected) =>
    checkUrl('app.vercel_webhook_trips', url, rule, environment).map((p) => p.rule);

  it('accepts the expected URL (host case-insensitive, normalised path)', () => {
    expect(rules('https://App.Example.com/api/hooks/trips')).toEqual([]);
    expect(rules('https://app.example.com/api/x/../hooks/trips')).toEqual([]);
  });

  it('reports scheme, host, path, credentials and junk separately', () => {
    expect(rules('http://app.example.com/api/hooks/trips')).toEqual(['webhook_url_scheme']);
    expect(rules('https://staging.example.com/api/hooks/trips')).toEqual(['webhook_url_host']);
    expect(rules('https://app.example.com/hooks/trips')).toEqual(['webhook_url_path']);
    expect(rules('https://user:pw@app.example.com/api/hooks/trips')).toEqual(['webhook_url_credentials']);
    expect(rules('app.example.com/api/hooks/trips')).toEqual(['webhook_url_invalid']);
  });

  it('never prints the path or the credentials', () => {
    const messages = checkUrl('app.x', 'https://bob:s3cr3t-pw@evil.example.net/hooks/T0/B0/xoxsecretpath', expected, 'production')
      .map((p) => p.message)
      .join(' ');
    expect(messages).toContain('evil.example.net');
    expect(messages).not.toMatch(/s3cr3t|xoxsecretpath|bob/);
  });

  it('flags localhost, private addresses, tunnels and previews in production only', () => {
    const open: UrlExpectation = { scheme: 'https' };
    for (const url of [
      'https://localhost:3000/api/hooks/trips',
      'https://127.0.0.1/api/hooks/trips',
      'https://[::1]/x',
      'https://10.1.2.3/x',
      'https://192.168.1.20/x',
      'https://host.docker.internal/x',
      'https://abc123.ngrok-free.app/x',
      'https://trip-planner-k3j9x2m1q-acme.vercel.app/x',
      'https://trip-planner-git-feature-login-acme.vercel.app/x',
      'https://deploy-preview-42--trip-planner.netlify.app/x',
      'https://3f9a0c1e.trip-planner.pages.dev/x',
      'https://trip-planner-pr-17.onrender.com/x',
    ]) {
      expect(rules(url, 'production', open), url).toEqual(['webhook_url_not_production']);
      expect(rules(url, 'preview', open), url).toEqual([]);
    }
    for (const host of [
      'app.example.com',
      'trip-planner.vercel.app',
      'trip-planner-acme.vercel.app',
      'super-marketing-acme.vercel.app',
      'trip-planner.netlify.app',
      'trip-planner.pages.dev',
      '172.32.0.1',
    ]) {
      expect(nonProductionHost(host), host).toBeUndefined();
    }
  });

  it('trusts a preview host that url-host names explicitly, but never localhost', () => {
    const preview = 'trip-planner-git-main-acme.vercel.app';
    expect(rules(`https://${preview}/api/hooks/x`, 'production', { ...expected, host: preview })).toEqual([]);
    expect(rules('https://localhost/api/hooks/x', 'production', { ...expected, host: 'localhost' })).toEqual(['webhook_url_not_production']);
  });
});

describe('literal secrets', () => {
  it("finds the Authorization header in a Database Webhook's arguments", () => {
    const found = secretsInTriggerArgument('{"Content-type":"application/json","Authorization":"Bearer demo-not-a-real-token-4f8e2c1a9b7d6e5f"}');
    expect(found).toEqual([{ kind: 'the Authorization header', value: 'Bearer demo-not-a-real-token-4f8e2c1a9b7d6e5f' }]);
  });

  it('finds API-key headers, JWTs, URL credentials and secret query parameters; ignores plain arguments', () => {
    expect(secretsInTriggerArgument('{"apikey":"sb_publishable_abcdefgh12345678"}')[0]?.kind).toBe('the apikey header');
    expect(secretsInTriggerArgument('eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJlLWJ5dGVz')[0]?.kind).toBe('a JSON Web Token');
    expect(secretsInTriggerArgument('https://hook:p4ssw0rd-x@hooks.example.com/x')[0]).toEqual({ kind: 'a credential in a URL', value: 'p4ssw0rd-x' });
    expect(secretsInTriggerArgument('https://hooks.example.com/x?token=abcdef0123456789')[0]?.value).toBe('abcdef0123456789');
    for (const plain of [
      'https://hooks.example.com/services/new-team',
      'POST',
      '{}',
      '5000',
      '{"Content-Type":"application/json"}',
      '{"Authorization":"short"}',
    ]) {
      expect(secretsInTriggerArgument(plain), plain).toEqual([]);
    }
  });

  it('finds literal HMAC keys and the configured secret in function bodies, unescaping SQL quotes', () => {
    const body =
      "begin perform net.http_post(url, payload, headers => jsonb_build_object('X-Signature-HMAC', encode(extensions.hmac(payload::text, 'it''s-a-literal-key', 'sha256'), 'hex'))); end";
    expect(secretsInFunctionBody(body, [])).toEqual([{ kind: 'an HMAC key', value: "it's-a-literal-key", raw: "it''s-a-literal-key" }]);
    expect(secretsInFunctionBody("select 'prefix-configured-secret-123'", ['configured-secret-123'])[0]?.kind).toBe('the configured webhook secret');
    expect(
      secretsInFunctionBody(
        "signature := encode(hmac(payload::text, secret, 'sha256'), 'hex'); headers := jsonb_build_object('Authorization', 'Bearer ' || token);",
        [],
      ),
    ).toEqual([]);
  });

  it('locates a secret in a migration file by line', () => {
    expect(lineOf('create trigger x\n  after insert\n  "Bearer tok-123456"\n', 'Bearer tok-123456')).toBe(3);
    expect(lineOf('nothing here', 'Bearer tok-123456')).toBeUndefined();
  });

  it('splits pg_trigger.tgargs on NUL terminators', () => {
    expect(triggerArguments(Buffer.from('https://x\0POST\0{}\0'))).toEqual(['https://x', 'POST', '{}']);
    expect(triggerArguments(Buffer.alloc(0))).toEqual([]);
  });
});

describe('canary signing schemes', () => {
  it('standard-webhooks matches the specification test vector', () => {
    const headers = SCHEMES['standard-webhooks'].sign({
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: 1614265330,
      body: '{"test": 2432232314}',
      header: 'webhook-signature',
    });
    expect(headers).toEqual({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
  });

  it("github-sha256 matches GitHub's documented example", () => {
    const headers = SCHEMES['github-sha256'].sign({
      secret: "It's a Secret to Everybody",
      body: 'Hello, World!',
      id: '',
      timestamp: 0,
      header: 'X-Hub-Signature-256',
    });
    expect(headers).toEqual({ 'X-Hub-Signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' });
  });

  it("hex-hmac-sha256 is what the example app's trigger computes with pgcrypto", () => {
    const body = '{"type": "INSERT", "table": "trips"}';
    expect(SCHEMES['hex-hmac-sha256'].sign({ secret: 's3cret', body, id: '', timestamp: 0, header: 'X-Signature-HMAC' })).toEqual({
      'X-Signature-HMAC': createHmac('sha256', 's3cret').update(body).digest('hex'),
    });
  });

  it('turns outcomes into findings without the body', () => {
    const findings = canaryFindings([
      { label: 'a', host: 'h', outcome: { signed: { status: 200 }, badlySigned: { status: 401 } } },
      { label: 'b', host: 'h', outcome: { signed: { status: 401 }, badlySigned: { status: 401 } } },
      { label: 'c', host: 'h', outcome: { signed: { status: 204 }, badlySigned: { status: 200 } } },
      { label: 'd', host: 'h', outcome: { signed: { status: 200 }, badlySigned: { status: 400 } } },
      { label: 'e', host: 'h', outcome: { signed: { error: 'connection refused' }, badlySigned: { error: 'connection refused' } } },
    ]);
    expect(findings.map((f) => `${f.object.name}:${f.rule}`)).toEqual([
      'b:webhook_canary_rejected',
      'c:webhook_canary_accepts_bad_signature',
      'd:webhook_canary_unexpected_status',
      'e:webhook_canary_unreachable',
    ]);
  });
});

describe('buildPlan', () => {
  const options = (raw: Record<string, string> = {}) =>
    parseInputs(GATES.webhooks.inputs, (name) => ({ 'database-url': 'postgresql://u@h/db', ...raw })[name], 'cli') as Parameters<typeof buildPlan>[0];
  const none = parseRepoConfig('', 'postgate.yml').webhooks;
  const plan = (raw: Record<string, string>, env: Record<string, string | undefined>, config = none) => buildPlan(options(raw), config, env);
  const error = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      return (e as Error).message;
    }
    throw new Error('expected a UserError');
  };

  it('builds the common case from inputs alone', () => {
    const built = plan({ 'url-settings': 'app.vercel_webhook_trips,App.Vercel_Webhook_Cache', 'url-host': 'app.example.com' }, { HMAC_SECRET: 'sekrit-value' });
    expect(built.expectations.map((e) => [e.source.name, Boolean(e.equals), e.url?.host])).toEqual([
      ['app.webhook_hmac_secret', true, undefined],
      ['app.vercel_webhook_trips', false, 'app.example.com'],
      ['app.vercel_webhook_cache', false, 'app.example.com'],
    ]);
    expect(built.environment).toBe('production');
    expect(redact('x sekrit-value y')).toBe('x *** y');
  });

  it('rejects a missing or empty environment variable by name, never as an empty string', () => {
    expect(error(() => plan({}, {}))).toMatch(/^Environment variable HMAC_SECRET \(named by input `secret-env`\) is not set; /);
    expect(error(() => plan({ 'secret-env': 'WEBHOOK_KEY' }, { WEBHOOK_KEY: '' }))).toMatch(/^Environment variable WEBHOOK_KEY .* is empty; /);
    // a valid-looking "name" that is really a pasted secret is not echoed
    expect(error(() => plan({ 'secret-env': 'k7Qv2mZr9TtLw4Xp8Nc1' }, {}))).toMatch(
      /^The environment variable named by input `secret-env` \(a name that looks like a secret value, not shown\) is not set; /,
    );
    expect(error(() => plan({ 'secret-env': '3f9a0c1e7b2d4a6c8e0f' }, {}))).not.toContain('3f9a0c1e7b2d4a6c8e0f');
  });

  it('treats an unset previous secret as "no rotation"', () => {
    expect(plan({ 'previous-secret-env': 'HMAC_SECRET_PREVIOUS' }, { HMAC_SECRET: 'abc123' }).expectations[0]?.previous).toBeUndefined();
  });

  it('rejects invalid setting and variable names in one sentence', () => {
    expect(error(() => plan({ 'secret-setting': 'webhook_secret' }, { HMAC_SECRET: 'x' }))).toBe(
      'Input `secret-setting` names "webhook_secret", which is not a custom setting name; use the form prefix.name, such as app.webhook_hmac_secret.',
    );
    expect(error(() => plan({ 'url-settings': 'app.ok,bad name' }, { HMAC_SECRET: 'x' }))).toMatch(/^Input `url-settings` names "bad name"/);
    // a secret pasted where the variable's name belongs is never echoed
    expect(error(() => plan({ 'secret-env': 'whsec_pasted+secret/value=' }, {}))).toBe(
      'Input `secret-env` is not an environment variable name; give the name of the variable that holds the value (letters, digits and underscores, such as HMAC_SECRET), not the value itself.',
    );
  });

  it('rejects url-host without url-settings, and a canary without an endpoint or with a non-http URL', () => {
    expect(error(() => plan({ 'url-host': 'app.example.com' }, { HMAC_SECRET: 'x' }))).toMatch(/^Input `url-host` is set but no setting holds a webhook URL/);
    expect(error(() => plan({ canary: 'true' }, { HMAC_SECRET: 'x' }))).toMatch(/^Input `canary` is on but there is no endpoint/);
    expect(error(() => plan({ canary: 'true', 'canary-url': 'ftp://files.example.com/x' }, { HMAC_SECRET: 'x' }))).toBe(
      'Input `canary-url` must be an http:// or https:// URL (got a URL with scheme "ftp:"); give the endpoint\'s full URL.',
    );
  });

  it('lets the repo config describe secrets, Vault and URLs, with host-env and per-scheme probe headers', () => {
    const config = parseRepoConfig(
      [
        'webhooks:',
        '  environment: preview',
        '  expectations:',
        '    - { vault-secret: webhook_hmac_secret, equals-env: HMAC_SECRET, max-age-days: 90 }',
        '    - { setting: app.vercel_webhook_trips, url: { host-env: APP_HOST, path-prefix: /api/hooks/ } }',
        '  triggers: [{ table: public.trips, function: notify_trip_webhook }]',
        '  probe: { scheme: github-sha256 }',
      ].join('\n'),
      'postgate.yml',
    ).webhooks;
    const built = plan({ canary: 'true' }, { HMAC_SECRET: 'from-env', APP_HOST: 'preview.example.com' }, config);
    expect(built.expectations.map((e) => e.source)).toEqual([
      { kind: 'vault', name: 'webhook_hmac_secret' },
      { kind: 'setting', name: 'app.vercel_webhook_trips' },
    ]);
    expect(built.expectations[1]?.url).toEqual({ scheme: 'https', host: 'preview.example.com', hostSource: 'APP_HOST', pathPrefix: '/api/hooks/' });
    expect(built.triggers).toEqual([{ table: { schema: 'public', name: 'trips' }, function: { schema: 'public', name: 'notify_trip_webhook' } }]);
    expect(built.environment).toBe('preview');
    expect(built.canary).toMatchObject({ scheme: 'github-sha256', header: 'X-Hub-Signature-256', timeoutMs: 5000 });
    expect(error(() => plan({}, { HMAC_SECRET: 'x' }, { ...config, expectations: [config.expectations[1]!] }))).toMatch(/^Environment variable APP_HOST/);
  });

  it('rejects max-age-days on a setting in the repo config', () => {
    expect(() => parseRepoConfig('webhooks:\n  expectations:\n    - { setting: app.x, max-age-days: 30 }\n', 'p.yml')).toThrow(
      /max-age-days` only with `vault-secret`/,
    );
  });
});

describe('rule catalog', () => {
  it('documents every webhooks rule with why, how to fix and how to allowlist', () => {
    const ids = [...ruleIdsOf('webhooks')];
    for (const rule of WEBHOOK_RULES) {
      expect(ids).toContain(rule.id);
      expect(rule.doc.length, rule.id).toBeGreaterThan(200);
      expect(rule.doc, rule.id).toMatch(/allowlist/);
    }
  });
});
