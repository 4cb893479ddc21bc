import type { CallCompletion, PendingEffect } from '../app/call-context';
import type { KeyClaimAtCommit, Repositories } from '../ports/store.port';
import type { IdempotencyStore } from '../store/idempotency-store';
import { KeyAttempt, keyTakenOver } from './idempotency-guard';

/**
 * What both kinds of keyed completion share: the RPC's mapping from result to response (`respondWith`), and the
 * rule that a call has one final transaction, which records the encoded response once.
 */
abstract class MappedResponse {
  recorded = false;
  private respond?: (result: unknown) => unknown;

  constructor(protected readonly encode: (response: unknown) => Uint8Array) {}

  respondWith(respond: (result: unknown) => unknown): void {
    this.respond = respond;
  }

  /** The encoded response to store for `result`, refused when it was recorded already or the RPC maps nothing. */
  protected responseFor(result: unknown): Uint8Array {
    if (this.recorded) throw new Error('a call has one final transaction: pass the call context to only one');
    // Every mutation declares its mapping (rpc-wrapper `mutation`); without one there is no response to store.
    if (!this.respond) throw new Error('this RPC declares no mapping from its result to its response');
    return this.encode(this.respond(result));
  }
}

/** How one keyed attempt stores its response and provider effects (CallContext.completion). */
export class KeyedCompletion extends MappedResponse implements CallCompletion {
  readonly pending?: PendingEffect;

  constructor(
    private readonly store: IdempotencyStore,
    private readonly attempt: KeyAttempt,
    encode: (response: unknown) => Uint8Array,
  ) {
    super(encode);
    this.pending = attempt.effect;
  }

  async begin(effect: PendingEffect): Promise<void> {
    if (!(await this.store.recordEffect(this.attempt.held, effect))) throw keyTakenOver();
  }

  async record(repos: Pick<Repositories, 'idempotency'>, result: unknown): Promise<void> {
    const response = this.responseFor(result);
    // Losing the key here rolls the whole transaction back: the attempt that took it over answers instead.
    if (!(await repos.idempotency.complete(this.attempt.held, response))) throw keyTakenOver();
    this.recorded = true;
  }

  /** For calls whose use case committed nothing: the response is stored after the fact. */
  async recordAfter(response: unknown): Promise<void> {
    await this.store.completeAfter(this.attempt.held, this.encode(response));
  }
}

/** The key of a call that claims it at commit exists already: nothing was written; the call takes the slow way. */
export class KeyExists extends Error {
  constructor() {
    super('the idempotency key exists; the call runs again holding it');
  }
}

/**
 * How a keyed call whose whole effect is its final statement stores its response (RPC handlers that declare
 * `claimsKeyAtCommit`): that statement claims the key with the response, so the common case, a new key, costs no
 * round trip of its own. A key that exists (a retry, a concurrent attempt, another request) writes nothing and
 * throws `KeyExists`; the idempotency interceptor then runs the call the usual way: it replays, refuses (another
 * request's key) or answers ABORTED (in flight), or runs the call holding a key whose attempt died.
 */
export class CommitClaimCompletion extends MappedResponse implements CallCompletion {
  readonly pending = undefined;

  constructor(
    private readonly store: IdempotencyStore,
    private readonly claim: KeyClaimAtCommit,
    encode: (response: unknown) => Uint8Array,
  ) {
    super(encode);
  }

  async begin(): Promise<void> {
    throw new Error('an RPC that claims its key at commit cannot record a provider effect before it');
  }

  async record(repos: Pick<Repositories, 'idempotency'>, result: unknown): Promise<void> {
    if (!(await repos.idempotency.claimAndComplete(this.claim, this.responseFor(result)))) {
      throw new KeyExists();
    }
    this.recorded = true;
  }

  async recordAfter(response: unknown): Promise<void> {
    if (!(await this.store.claimAfter(this.claim, this.encode(response)))) throw new KeyExists();
  }
}
