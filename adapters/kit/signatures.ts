import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Bytes to sign or hash, given in pieces so a prefix and a raw body need not be copied into one buffer. */
export type SignedPart = string | Buffer;

function hmac(key: string, parts: readonly SignedPart[]) {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(typeof part === 'string' ? Buffer.from(part, 'utf8') : part);
  return mac;
}

/** Lower-case hex HMAC-SHA256 of the concatenated parts. */
export function hmacSha256Hex(key: string, ...parts: SignedPart[]): string {
  return hmac(key, parts).digest('hex');
}

/** Standard base64 HMAC-SHA256 of the concatenated parts. */
export function hmacSha256Base64(key: string, ...parts: SignedPart[]): string {
  return hmac(key, parts).digest('base64');
}

/** Lower-case hex SHA-256 of the concatenated parts. */
export function sha256Hex(...parts: SignedPart[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(typeof part === 'string' ? Buffer.from(part, 'utf8') : part);
  return hash.digest('hex');
}

/**
 * Equality whose time does not depend on where the inputs differ, so a forger cannot learn a signature byte by byte.
 * (Only the length may show, and a signature's length is public.)
 */
export function constantTimeEqual(a: SignedPart, b: SignedPart): boolean {
  const left = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
  const right = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A storefront's signing secrets: the current one, and the previous one while a rotation is under way. */
export interface RotatingSecrets {
  current?: string;
  previous?: string;
}

/**
 * Which secret signed `given`: the current one, else the previous one, else none. `sign` computes the expected
 * signature for one secret; hex is compared case-insensitively (senders differ), base64 exactly. Every configured
 * secret is tried, so the answer's timing does not tell which one matched.
 */
export function matchSecret(
  secrets: RotatingSecrets,
  given: string,
  sign: (secret: string) => string,
  encoding: 'hex' | 'base64' = 'hex',
): 'current' | 'previous' | undefined {
  const normal = (text: string) => (encoding === 'hex' ? text.toLowerCase() : text);
  let matched: 'current' | 'previous' | undefined;
  for (const which of ['current', 'previous'] as const) {
    const secret = secrets[which];
    if (!secret) continue;
    if (constantTimeEqual(normal(sign(secret)), normal(given)) && !matched) matched = which;
  }
  return matched;
}

/**
 * Why a sender's timestamp is refused, or undefined when it is within `toleranceMs` of our clock either way (older
 * ones may be replays, newer ones come from a clock we should not trust).
 */
export function timestampOutsideTolerance(timestampMs: number, now: Date, toleranceMs: number): string | undefined {
  if (!Number.isFinite(timestampMs)) return 'is not a timestamp';
  const skewMs = Math.abs(now.getTime() - timestampMs);
  if (skewMs <= toleranceMs) return undefined;
  return `is ${Math.round(skewMs / 1000)} s off our clock (tolerance ${Math.round(toleranceMs / 1000)} s)`;
}
