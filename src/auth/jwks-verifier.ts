import { createPublicKey, JsonWebKey, KeyObject, verify } from 'node:crypto';
import type { Caller } from '../app/call-context';
import { isRole } from './roles';

export interface JwksVerifierOptions {
  /** The identity provider's JWKS document (`AUTH_JWKS_URL`). */
  url: string;
  /** The only accepted `iss` (`AUTH_JWT_ISSUER`). */
  issuer: string;
  /** `aud` must be or contain this (`AUTH_JWT_AUDIENCE`): the provider signs tokens for other applications too. */
  audience: string;
  /** How long a fetched key set is trusted before it is fetched again. */
  ttlMs?: number;
  /** Tolerated clock difference for `exp` and `nbf`. */
  skewSeconds?: number;
  now?: () => number;
}

const ALGORITHMS: Record<string, { kty: string; dsaEncoding?: 'ieee-p1363' }> = {
  RS256: { kty: 'RSA' },
  ES256: { kty: 'EC', dsaEncoding: 'ieee-p1363' },
};
const TENANT = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const NAME = /^[\x21-\x7e]{1,128}$/;
/** An unknown `kid` may mean the provider rotated keys; re-fetch, but not more often than this. */
const MIN_REFETCH_MS = 30_000;

interface KeySet {
  keys: { kid?: string; kty: string; key: KeyObject }[];
  fetchedAt: number;
}

/**
 * Verifies RS256/ES256 JWTs against a cached JWKS, issued by `issuer` for `audience`; the claims `sub`, `tenant` and
 * `role` make the caller.
 */
export class JwksVerifier {
  private cache?: KeySet;
  private inflight?: Promise<KeySet>;
  private readonly ttlMs: number;
  private readonly skew: number;
  private readonly now: () => number;

  constructor(private readonly options: JwksVerifierOptions) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.skew = options.skewSeconds ?? 30;
    this.now = options.now ?? Date.now;
  }

  /**
   * The caller a valid token names; undefined for any token that is malformed, unsigned by a known key, expired, or
   * issued by another issuer or for another audience.
   */
  async verify(token: string): Promise<Caller | undefined> {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const header = decodeJson(parts[0]!);
    const claims = decodeJson(parts[1]!);
    if (!header || !claims) return undefined;
    const algorithm = typeof header.alg === 'string' ? ALGORITHMS[header.alg] : undefined;
    if (!algorithm) return undefined;
    const kid = typeof header.kid === 'string' ? header.kid : undefined;
    const signature = Buffer.from(parts[2]!, 'base64url');
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    const matches = (set: KeySet) =>
      set.keys.filter((k) => k.kty === algorithm.kty && (kid === undefined || k.kid === kid));
    let set = await this.keySet(false);
    if (matches(set).length === 0 && this.now() - set.fetchedAt >= MIN_REFETCH_MS) set = await this.keySet(true);
    const valid = matches(set).some((k) =>
      verify('sha256', signed, { key: k.key, dsaEncoding: algorithm.dsaEncoding }, signature),
    );
    return valid ? this.callerOf(claims) : undefined;
  }

  private callerOf(claims: Record<string, unknown>): Caller | undefined {
    const nowSeconds = this.now() / 1000;
    if (typeof claims.exp !== 'number' || claims.exp + this.skew < nowSeconds) return undefined;
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf - this.skew > nowSeconds)) {
      return undefined;
    }
    if (claims.iss !== this.options.issuer || !hasAudience(claims.aud, this.options.audience)) return undefined;
    const { sub, tenant, role } = claims;
    if (typeof sub !== 'string' || !NAME.test(sub)) return undefined;
    if (typeof tenant !== 'string' || !TENANT.test(tenant) || !isRole(role)) return undefined;
    return { name: sub, tenant, role };
  }

  private async keySet(force: boolean): Promise<KeySet> {
    if (!force && this.cache && this.now() - this.cache.fetchedAt < this.ttlMs) return this.cache;
    // One fetch at a time: a burst of calls after expiry shares it.
    this.inflight ??= this.fetchKeySet().finally(() => (this.inflight = undefined));
    try {
      this.cache = await this.inflight;
    } catch (error) {
      // The identity provider is down: keep trusting the last key set rather than refusing every caller, and ask
      // again only after a pause (each attempt could cost a caller the fetch timeout).
      if (!this.cache) throw error;
      this.cache = { ...this.cache, fetchedAt: this.now() - this.ttlMs + MIN_REFETCH_MS };
    }
    return this.cache;
  }

  private async fetchKeySet(): Promise<KeySet> {
    const response = await fetch(this.options.url, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`JWKS fetch answered ${response.status}`);
    const body = (await response.json()) as { keys?: unknown };
    const keys: KeySet['keys'] = [];
    for (const jwk of Array.isArray(body.keys) ? body.keys : []) {
      if (typeof jwk !== 'object' || jwk === null) continue;
      const { kid, kty } = jwk as { kid?: unknown; kty?: unknown };
      if (typeof kty !== 'string') continue;
      try {
        const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
        keys.push({ kid: typeof kid === 'string' ? kid : undefined, kty, key });
      } catch {
        // A key we cannot use (another kty, a broken entry) must not disable the others.
      }
    }
    return { keys, fetchedAt: this.now() };
  }
}

/** RFC 7519: `aud` is one string or an array of them. */
function hasAudience(aud: unknown, audience: string): boolean {
  return aud === audience || (Array.isArray(aud) && aud.includes(audience));
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
