import type { Caller } from '../app/call-context';
import { unavailable } from '../domain/errors';
import type { ApiKeyRing } from './api-key-ring';
import type { JwksVerifier } from './jwks-verifier';

/** Longer bearer values are refused unread: no key or token of ours is anywhere near this long. */
const MAX_CREDENTIAL_LENGTH = 8192;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Who a bearer credential belongs to: an API key from the key ring, or a JWT signed by the identity provider. */
export class Authenticator {
  constructor(
    private readonly keys: ApiKeyRing | undefined,
    private readonly jwt: JwksVerifier | undefined,
  ) {}

  /**
   * True when the credential is a token to verify (`callerOf`, asynchronous: the identity provider's keys may have to
   * be fetched); otherwise `keyCallerOf` answers at once.
   */
  isToken(credential: string): boolean {
    return this.jwt !== undefined && credential.length <= MAX_CREDENTIAL_LENGTH && JWT_SHAPE.test(credential);
  }

  /** The caller of an API key, or undefined when it is no key of the ring. */
  keyCallerOf(credential: string): Caller | undefined {
    if (!credential || credential.length > MAX_CREDENTIAL_LENGTH) return undefined;
    return this.keys?.callerOf(credential);
  }

  /** The caller, or undefined when the credential is unknown, malformed or expired (a key answers at once). */
  async callerOf(credential: string): Promise<Caller | undefined> {
    if (this.jwt && this.isToken(credential)) {
      let caller: Caller | undefined;
      try {
        caller = await this.jwt.verify(credential);
      } catch (error) {
        // No key set has ever been fetched: the caller cannot be judged yet, so retrying is the right answer.
        throw unavailable('the identity provider (AUTH_JWKS_URL) is unreachable', error);
      }
      if (caller) return caller;
    }
    return this.keyCallerOf(credential);
  }
}
