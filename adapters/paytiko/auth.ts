import { failedPrecondition, invalidArgument, unavailable } from '../../src/domain/errors';
import type { Clock } from '../../src/ports/clock.port';
import type { HttpTransport } from '../../src/ports/http-transport.port';
import type { ProviderCallContext } from '../../src/ports/provider-adapter.port';
import { relabel } from '../kit/errors';
import { sha256Hex } from '../kit/signatures';
import { API_PREFIX, asObject, optionalTime, parsePaytikoJson, PROVIDER, requiredString } from './wire';

/** A token is renewed this long before it expires at most … */
const REFRESH_MARGIN_MS = 60_000;
/** … or this share of its lifetime, when that is shorter (short-lived tokens would otherwise be renewed at once). */
const REFRESH_SHARE = 0.1;
/** How long one token request may take; shared by every caller waiting on it, so not bound to one caller's deadline. */
const AUTH_TIMEOUT_MS = 15_000;

interface CachedToken {
  token: string;
  /** When to stop using it (expiresAt less the margin), by our clock. */
  renewAt: number;
}

/** The binding's credentials and where they are sent. */
export interface Credentials {
  baseUrl: string;
  username: string;
  password: string;
}

/** The binding's credentials from its config and secrets; a missing one is the binding's fault, named not shown. */
export function credentialsOf(ctx: ProviderCallContext): Credentials {
  const baseUrl = (ctx.config.base_url ?? '').replace(/\/+$/, '');
  if (!baseUrl) throw failedPrecondition(`storefront '${ctx.storefrontId}': the Paytiko binding has no base_url`);
  const missing = ['username', 'password'].filter((name) => !ctx.secrets[name]);
  if (missing.length > 0) {
    throw failedPrecondition(
      `storefront '${ctx.storefrontId}': the Paytiko binding lacks secret ${missing.map((m) => `'${m}'`).join(' and ')}`,
    );
  }
  return { baseUrl, username: ctx.secrets.username!, password: ctx.secrets.password! };
}

/**
 * Paytiko's bearer tokens, one per binding (base URL + user + a hash of the password: the raw password is never a
 * key), fetched with `POST /auth` and cached until shortly before `expiresAt`. Concurrent callers share one request.
 */
export class PaytikoAuth {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<CachedToken>>();

  constructor(
    private readonly transport: HttpTransport,
    private readonly clock: Clock,
  ) {}

  /** A token for the binding, fresh enough to use now. */
  async token(ctx: ProviderCallContext): Promise<string> {
    const credentials = credentialsOf(ctx);
    const key = cacheKey(credentials);
    const cached = this.tokens.get(key);
    if (cached && this.clock.now().getTime() < cached.renewAt) return cached.token;
    let flight = this.pending.get(key);
    if (!flight) {
      flight = this.fetchToken(ctx.storefrontId, credentials).finally(() => this.pending.delete(key));
      this.pending.set(key, flight);
      flight.then(
        (fresh) => this.keep(key, fresh),
        () => undefined,
      );
    }
    const fresh = await raceAbort(flight, ctx.signal);
    return fresh.token;
  }

  /** Stores a fresh token, forgetting the ones past use (bindings rotated away or gone would keep theirs forever). */
  private keep(key: string, fresh: CachedToken): void {
    const now = this.clock.now().getTime();
    for (const [k, cached] of this.tokens) if (cached.renewAt <= now) this.tokens.delete(k);
    this.tokens.set(key, fresh);
  }

  /** Forgets `token` (Paytiko refused it), unless a newer one already replaced it. */
  invalidate(ctx: ProviderCallContext, token: string): void {
    const key = cacheKey(credentialsOf(ctx));
    if (this.tokens.get(key)?.token === token) this.tokens.delete(key);
  }

  private async fetchToken(storefrontId: string, credentials: Credentials): Promise<CachedToken> {
    const requestedAt = this.clock.now().getTime();
    const response = await this.transport
      .send({
        operation: 'auth',
        provider: PROVIDER,
        method: 'POST',
        url: `${credentials.baseUrl}${API_PREFIX}/auth`,
        urlTemplate: `${API_PREFIX}/auth`,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ userName: credentials.username, password: credentials.password }),
        // Asking for a token twice does nothing twice.
        replayable: true,
        secrets: [credentials.password],
        signal: AbortSignal.timeout(AUTH_TIMEOUT_MS),
      })
      .catch((error: unknown) => {
        throw relabel(error, `storefront '${storefrontId}': Paytiko auth`);
      });
    if (response.status === 401 || response.status === 403) {
      throw failedPrecondition(`storefront '${storefrontId}': Paytiko refused the binding's username/password`);
    }
    if (response.status < 200 || response.status >= 300) {
      throw unavailable(`storefront '${storefrontId}': Paytiko auth answered HTTP ${response.status}`);
    }
    let token: string;
    let expiresAt: Date | undefined;
    try {
      const body = asObject(parsePaytikoJson(response.body), 'auth');
      token = requiredString(body, 'token', 'auth');
      expiresAt = optionalTime(body, 'expiresAt', 'auth');
      if (!/^[\x21-\x7e]+$/.test(token))
        throw invalidArgument([{ field: 'auth.token', rule: 'is not a bearer token' }]);
    } catch {
      // The answer may hold the token: say what was wrong, never what was sent.
      throw unavailable(`storefront '${storefrontId}': Paytiko auth answered without a usable token and expiresAt`);
    }
    if (!expiresAt) throw unavailable(`storefront '${storefrontId}': Paytiko auth answered without expiresAt`);
    const lifetime = Math.max(0, expiresAt.getTime() - requestedAt);
    const margin = Math.min(REFRESH_MARGIN_MS, lifetime * REFRESH_SHARE);
    return { token, renewAt: expiresAt.getTime() - margin };
  }
}

function cacheKey(credentials: Credentials): string {
  return JSON.stringify([credentials.baseUrl, credentials.username, sha256Hex(credentials.password)]);
}

/** The shared promise, or the caller's own abort, whichever comes first. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function abortError() {
  return unavailable('Paytiko auth abandoned: the call was cancelled or its deadline passed');
}
