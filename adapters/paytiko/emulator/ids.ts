import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `prefix` + 24 lowercase alphanumerics (`cstmr_…`, `mmbrshp_…`, `inv_…`). */
export function newKey(prefix: string): string {
  const bytes = randomBytes(24);
  let tail = '';
  for (const byte of bytes) tail += ALPHABET[byte % ALPHABET.length];
  return `${prefix}${tail}`;
}

/** An opaque JWT-like token: three base64url parts, the middle naming nothing secret. */
export function newToken(userName: string, expiresAtMs: number): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = part({ alg: 'HS256', typ: 'JWT' });
  const payload = part({ sub: userName, exp: Math.floor(expiresAtMs / 1000), jti: randomBytes(8).toString('hex') });
  return `${header}.${payload}.${randomBytes(32).toString('base64url')}`;
}

/** A hosted-page session token (URL-safe). */
export function newSessionToken(): string {
  return randomBytes(24).toString('base64url');
}
