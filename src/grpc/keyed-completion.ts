import type { CallCompletion, PendingEffect } from '../app/call-context';
import type { Repositories } from '../ports/store.port';
import type { IdempotencyStore } from '../store/idempotency-store';
import { KeyAttempt, keyTakenOver } from './idempotency-guard';

/** How one keyed attempt stores its response and provider effects (CallContext.completion). */
export class KeyedCompletion implements CallCompletion {
  readonly pending?: PendingEffect;
  recorded = false;
  private respond?: (result: unknown) => unknown;

  constructor(
    private readonly store: IdempotencyStore,
    private readonly attempt: KeyAttempt,
    private readonly encode: (response: unknown) => Uint8Array,
  ) {
    this.pending = attempt.effect;
  }

  respondWith(respond: (result: unknown) => unknown): void {
    this.respond = respond;
  }

  async begin(effect: PendingEffect): Promise<void> {
    if (!(await this.store.recordEffect(this.attempt.held, effect))) throw keyTakenOver();
  }

  async record(repos: Pick<Repositories, 'idempotency'>, result: unknown): Promise<void> {
    if (this.recorded) throw new Error('a call has one final transaction: pass the call context to only one');
    // Every mutation declares its mapping (rpc-wrapper `mutation`); without one there is no response to store.
    if (!this.respond) throw new Error('this RPC declares no mapping from its result to its response');
    const response = this.encode(this.respond(result));
    // Losing the key here rolls the whole transaction back: the attempt that took it over answers instead.
    if (!(await repos.idempotency.complete(this.attempt.held, response))) throw keyTakenOver();
    this.recorded = true;
  }

  /** For calls whose use case committed nothing: the response is stored after the fact. */
  async recordAfter(response: unknown): Promise<void> {
    await this.store.completeAfter(this.attempt.held, this.encode(response));
  }
}
