import { generateKeyPairSync } from 'node:crypto';
import { JwksVerifier } from '../../src/auth/jwks-verifier';
import { JwtIssuer, startJwtIssuer } from '../support/jwt-issuer';

describe('JWTs verified against a JWKS', () => {
  let issuer: JwtIssuer;
  let now = Date.parse('2026-06-01T00:00:00Z');
  const seconds = () => Math.floor(now / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: 'https://idp.example.com/',
    aud: 'billing-adapter',
    sub: 'checkout-svc',
    tenant: 'acme',
    role: 'service',
    exp: seconds() + 300,
    ...extra,
  });
  const verifier = () =>
    new JwksVerifier({
      url: issuer.jwksUrl,
      issuer: 'https://idp.example.com/',
      audience: 'billing-adapter',
      ttlMs: 60_000,
      now: () => now,
    });

  beforeAll(async () => {
    issuer = await startJwtIssuer();
  });
  afterAll(() => issuer.close());

  it('accepts RS256 and ES256 tokens: sub is the name, tenant and role come from the claims', async () => {
    const v = verifier();
    const caller = { name: 'checkout-svc', tenant: 'acme', role: 'service' };
    expect(await v.verify(issuer.token(claims()))).toEqual(caller);
    expect(await v.verify(issuer.token(claims(), { alg: 'ES256' }))).toEqual(caller);
  });

  it('refuses expired, not-yet-valid, unsigned, foreign-signed and incomplete tokens', async () => {
    const v = verifier();
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const [header, body] = issuer.token(claims()).split('.');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.`;
    for (const token of [
      issuer.token(claims({ exp: seconds() - 120 })),
      issuer.token(claims({ exp: undefined })),
      issuer.token(claims({ nbf: seconds() + 120 })),
      issuer.token(claims(), { key: stranger }),
      issuer.token(claims({ role: 'root' })),
      issuer.token(claims({ tenant: undefined })),
      issuer.token(claims({ sub: '' })),
      none,
      `${header}.${body}.AAAA`,
      'not.a.jwt',
    ]) {
      expect(await v.verify(token)).toBeUndefined();
    }
  });

  it('accepts only its own issuer and an audience that is or lists this service', async () => {
    const v = verifier();
    const listed = claims({ aud: ['crm', 'billing-adapter'] });
    expect(await v.verify(issuer.token(listed))).toMatchObject({ name: 'checkout-svc', tenant: 'acme' });
    for (const token of [
      issuer.token(claims({ aud: 'crm' })),
      issuer.token(claims({ aud: ['crm', 'shop'] })),
      issuer.token(claims({ aud: undefined })),
      issuer.token(claims({ aud: ['billing-adapter-2'] })),
      issuer.token(claims({ aud: { 0: 'billing-adapter' } })),
      issuer.token(claims({ iss: 'https://other-idp.example.com/' })),
      issuer.token(claims({ iss: undefined })),
      issuer.token(claims({ iss: ['https://idp.example.com/'] })),
    ]) {
      expect(await v.verify(token)).toBeUndefined();
    }
  });

  it('caches the key set for its TTL, and fetches again for a key it does not know (rotation)', async () => {
    const v = verifier();
    const before = issuer.fetches();
    await v.verify(issuer.token(claims()));
    await v.verify(issuer.token(claims()));
    expect(issuer.fetches()).toBe(before + 1);
    issuer.addKey('rsa-2');
    now += 31_000;
    expect(await v.verify(issuer.token(claims(), { kid: 'rsa-2' }))).toMatchObject({ name: 'checkout-svc' });
    expect(issuer.fetches()).toBe(before + 2);
    now += 60_000;
    await v.verify(issuer.token(claims()));
    expect(issuer.fetches()).toBe(before + 3);
  });

  it('keeps the last key set while the identity provider is unreachable, and is UNAVAILABLE-worthy without one', async () => {
    const v = verifier();
    expect(await v.verify(issuer.token(claims()))).toBeDefined();
    const down = new JwksVerifier({ url: 'http://127.0.0.1:1/jwks.json', issuer: 'i', audience: 'a', now: () => now });
    await issuer.close();
    now += 120_000;
    expect(await v.verify(issuer.token(claims()))).toMatchObject({ name: 'checkout-svc' });
    await expect(down.verify(issuer.token(claims()))).rejects.toThrow();
  });
});
