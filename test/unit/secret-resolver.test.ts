import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EnvFileSecretResolver } from '../../src/config/secret-resolver';
import { sharedEnvPrefix, tenantEnvPrefix } from '../../src/domain/secret-reference';
import { scrubSecrets } from '../../src/domain/secret-scrub';
import { SecretReferenceError } from '../../src/ports/secret-resolver.port';

describe('secret references, scoped to the storefront tenant', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-'));
  const dir = path.join(root, 'secrets');
  fs.mkdirSync(path.join(dir, 'acme'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'other'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'acme', 'api_key'), 'acme-file-key\n');
  fs.writeFileSync(path.join(dir, 'other', 'api_key'), 'other-file-key');
  fs.writeFileSync(path.join(root, 'outside'), 'outside-value');
  fs.symlinkSync(path.join(root, 'outside'), path.join(dir, 'acme', 'escape'));
  fs.symlinkSync(path.join(dir, 'acme', 'api_key'), path.join(dir, 'acme', 'alias'));
  const env = {
    BILLING_SECRET_ACME_API_KEY: 'acme-env-key',
    BILLING_SECRET_OTHER_API_KEY: 'other-env-key',
    DATABASE_URL: 'postgres://u:pw@db/x',
  };
  let now = 0;
  const resolver = new EnvFileSecretResolver({ env, secretsDir: dir, fileTtlMs: 30_000, now: () => now });
  const known = ['acme', 'other'];
  const violation = (tenantId: string, reference: string) => resolver.violation(tenantId, reference, known);
  const resolve = (tenantId: string, reference: string) => resolver.resolve(tenantId, reference, known);

  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('names env vars BILLING_SECRET_<TENANT>_ with the tenant upper-cased and other characters as _', () => {
    expect(tenantEnvPrefix('acme')).toBe('BILLING_SECRET_ACME_');
    expect(tenantEnvPrefix('tenant-a.eu')).toBe('BILLING_SECRET_TENANT_A_EU_');
  });

  it('resolves the tenant’s own env var and its own files, relative or absolute inside its folder', async () => {
    expect(await resolve('acme', 'env:BILLING_SECRET_ACME_API_KEY')).toBe('acme-env-key');
    expect(await resolve('acme', 'file:api_key')).toBe('acme-file-key');
    expect(await resolve('acme', `file:${path.join(dir, 'acme', 'api_key')}`)).toBe('acme-file-key');
    expect(await resolve('acme', 'file:alias')).toBe('acme-file-key');
    expect(await resolve('acme', 'file:missing')).toBeUndefined();
    expect(await resolve('acme', 'env:BILLING_SECRET_ACME_UNSET')).toBeUndefined();
  });

  it.each([
    ['env:DATABASE_URL', 'BILLING_SECRET_ACME_'],
    ['env:HOME', 'BILLING_SECRET_ACME_'],
    ['env:BILLING_SECRET_OTHER_API_KEY', 'BILLING_SECRET_ACME_'],
    ['env:BILLING_SECRET_ACME_', 'BILLING_SECRET_ACME_'],
    ['env:billing_secret_acme_x', 'upper-case'],
    ['file:/etc/passwd', "tenant's secrets folder"],
    ['file:../other/api_key', "'..'"],
    ['file:sub/../../other/api_key', "'..'"],
    [`file:${path.join(dir, 'other', 'api_key')}`, "tenant's secrets folder"],
    [`file:${dir}`, "tenant's secrets folder"],
    ['file:a\u0000b', 'printable'],
    ['sk_live_pasted_by_mistake', 'must be a reference'],
    ['vault:acme/key', 'must be a reference'],
  ])('refuses %s when written and when resolved', async (reference, rule) => {
    expect(violation('acme', reference)).toContain(rule);
    await expect(resolve('acme', reference)).rejects.toThrow(SecretReferenceError);
  });

  it('refuses a symlink that leads out of the tenant’s folder, when written and when resolved', async () => {
    expect(violation('acme', 'file:escape')).toContain('a link leads outside');
    await expect(resolve('acme', 'file:escape')).rejects.toThrow('a link leads outside');
    // A link made after the binding was written is caught when read.
    fs.symlinkSync(path.join(dir, 'other', 'api_key'), path.join(dir, 'acme', 'later'));
    await expect(resolve('acme', 'file:later')).rejects.toThrow('a link leads outside');
  });

  it('refuses file references for a tenant id that is not a plain folder name', () => {
    expect(violation('../acme', 'file:api_key')).toContain('plain folder name');
  });

  it('caches a file secret for its TTL, then reads the rotated value', async () => {
    const file = path.join(dir, 'acme', 'rotating');
    fs.writeFileSync(file, 'first');
    expect(await resolve('acme', 'file:rotating')).toBe('first');
    fs.writeFileSync(file, 'second');
    expect(await resolve('acme', 'file:rotating')).toBe('first');
    now += 30_001;
    expect(await resolve('acme', 'file:rotating')).toBe('second');
  });

  it('never quotes the reference or a value in its rule', () => {
    const rule = violation('acme', 'sk_live_pasted_by_mistake')!;
    expect(rule).not.toContain('sk_live');
  });
});

describe('env prefixes made one-to-one by the known tenants', () => {
  const env = {
    BILLING_SECRET_ACME_API_KEY: 'acme-key',
    BILLING_SECRET_ACME_EU_SUBOTIZ_API_KEY: 'acme-eu-key',
  };
  const resolver = new EnvFileSecretResolver({ env, secretsDir: '/nonexistent' });
  const theirs = 'env:BILLING_SECRET_ACME_EU_SUBOTIZ_API_KEY';

  it('refuses tenant acme a name under acme-eu’s longer prefix, when written and when resolved', async () => {
    const known = ['acme', 'acme-eu'];
    const rule = resolver.violation('acme', theirs, known);
    expect(rule).toContain("another tenant's BILLING_SECRET_<TENANT>_ prefix");
    expect(rule).not.toMatch(/acme-eu|ACME_EU/i);
    await expect(resolver.resolve('acme', theirs, known)).rejects.toThrow(SecretReferenceError);
    expect(resolver.violation('acme', 'env:BILLING_SECRET_ACME_API_KEY', known)).toBeUndefined();
    expect(await resolver.resolve('acme', 'env:BILLING_SECRET_ACME_API_KEY', known)).toBe('acme-key');
    expect(resolver.violation('acme-eu', theirs, known)).toBeUndefined();
    expect(await resolver.resolve('acme-eu', theirs, known)).toBe('acme-eu-key');
  });

  it('refuses at resolve a name stored before the tenant whose prefix covers it existed', async () => {
    expect(await resolver.resolve('acme', theirs, ['acme'])).toBe('acme-eu-key');
    await expect(resolver.resolve('acme', theirs, ['acme', 'acme-eu'])).rejects.toThrow(SecretReferenceError);
  });

  it('reuses a check while the known-tenants list is the same one; a new list checks again; values are read anew', async () => {
    const list = ['acme'];
    expect(await resolver.resolve('acme', theirs, list)).toBe('acme-eu-key');
    env.BILLING_SECRET_ACME_EU_SUBOTIZ_API_KEY = 'rotated';
    try {
      expect(await resolver.resolve('acme', theirs, list)).toBe('rotated');
    } finally {
      env.BILLING_SECRET_ACME_EU_SUBOTIZ_API_KEY = 'acme-eu-key';
    }
    // The list KnownTenants answers next, once acme-eu has a storefront.
    await expect(resolver.resolve('acme', theirs, [...list, 'acme-eu'])).rejects.toThrow(SecretReferenceError);
    await expect(resolver.resolve('other', theirs, list)).rejects.toThrow(SecretReferenceError);
  });

  it('refuses every env name to two tenants that share a prefix (acme-eu and acme_eu)', () => {
    const known = ['acme-eu', 'acme_eu'];
    expect(resolver.violation('acme-eu', theirs, known)).toContain('another tenant');
    expect(resolver.violation('acme_eu', theirs, known)).toContain('another tenant');
    expect(resolver.violation('acme_eu', 'file:api_key', known)).toBeUndefined();
  });

  it('finds the prefix a new tenant id would share with a known one', () => {
    expect(sharedEnvPrefix('acme_eu', ['acme', 'acme-eu'])).toBe('BILLING_SECRET_ACME_EU_');
    expect(sharedEnvPrefix('ACME-EU', ['acme-eu'])).toBe('BILLING_SECRET_ACME_EU_');
    expect(sharedEnvPrefix('acme-eu', ['acme', 'acme-eu'])).toBeUndefined();
    expect(sharedEnvPrefix('acme-eu-x', ['acme', 'acme-eu'])).toBeUndefined();
  });
});

describe('scrubbing secrets from provider text', () => {
  const secret = 'sk_test_0123456789abcdef';

  it('removes the exact value and its base64, URL-encoded and hex forms', () => {
    const odd = 'p@ss w/rd+=?&42';
    const text = [
      `Authorization: Bearer ${secret}`,
      Buffer.from(secret).toString('base64'),
      Buffer.from(`user:${secret}`).toString('base64'),
      Buffer.from(`ab:${secret}`).toString('base64url'),
      encodeURIComponent(odd),
      Buffer.from(secret).toString('hex'),
      JSON.stringify({ echoed: odd }),
    ].join(' | ');
    const scrubbed = scrubSecrets(text, [secret, odd]);
    expect(scrubbed).not.toContain(secret);
    expect(scrubbed).not.toContain(Buffer.from(secret).toString('base64').slice(4, 20));
    expect(scrubbed).not.toContain(encodeURIComponent(odd));
    expect(scrubbed).not.toContain(Buffer.from(secret).toString('hex'));
    expect(scrubbed).not.toContain('p@ss');
    expect(scrubbed).toContain('Authorization: Bearer [secret]');
  });

  it('leaves text without secrets, and very short values, alone', () => {
    expect(scrubSecrets('HTTP 401: bad key', [secret, 'ab'])).toBe('HTTP 401: bad key');
  });
});
